"""Faults on the live path (marked slow; .ci/run runs them): whatever fails, no counted event
is lost or counted twice, so the ledger still equals `slamon replay` on the same events.
On Apache Kafka, what production runs; the backlog also on the bundled broker, whose reads slow
down as a partition grows (see monitor.stream.faust_patches.lengthen_fetch_wait)."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from sqlalchemy.engine import make_url

from monitor.broker import free_port
from monitor.demo_stream import sample_events
from monitor.kafka_broker import KafkaBroker
from monitor.loader import load_contracts
from monitor.replay import replay
from tests.conftest import LiveSetup, live_on
from tests.tcp_proxy import TcpProxy
from tests.test_live import (
    ended_contracts,
    expected_records,
    explain,
    halves,
    ledger_records,
    prepared_stream,
    settled,
)

pytestmark = pytest.mark.slow


@pytest.fixture
def stream(live: LiveSetup) -> Path:
    return prepared_stream(live.workdir)


@live_on("kafka-postgresql")
def test_the_ledger_writer_survives_lost_database_connections(live: LiveSetup, stream: Path) -> None:
    """The worker reaches PostgreSQL through a proxy. Its connections are cut (reset) and new ones
    refused while the second half of the stream arrives, so the writer must meet the failure: with
    idle connections only, the pool's pre-ping would replace them without the writer noticing.
    The idle timeout is longer than the pause between the halves (seconds): with the usual 3 s, a
    partition that had read its first half moved to the wall clock and the second half was late."""
    expected = expected_records(live, stream)
    first, second = halves(stream)
    postgres_port = make_url(live.database).port or 5432
    proxy = TcpProxy(free_port(), upstream_port=postgres_port).start()
    try:
        through_proxy = live.database.replace(f":{postgres_port}/", f":{proxy.port}/")
        live.slamon("produce", "--events", str(first))
        live.start_worker(idle_timeout="15s", SLAMON_DATABASE=through_proxy)
        live.wait_for(lambda: len(ledger_records(live)) > 0, 120)  # running, and writing
        proxy.cut()
        live.slamon("produce", "--events", str(second))
        live.wait_for(lambda: "ledger unavailable" in live.full_logs(), 120)
        time.sleep(5)  # a few retries against a database that is still gone
        proxy.restore()
        live.wait_for(lambda: settled(live, expected), 300, lambda: explain(live, expected))
    finally:
        proxy.stop()


def shifted(event: dict, days: int, copy: int) -> dict:
    moved = dict(event, event_id=f"burst{copy}:{event['event_id']}")
    for key in ("at", "start", "end"):
        if key in moved:
            moment = _parse(moved[key]) - timedelta(days=days)
            moved[key] = moment.isoformat().replace("+00:00", "Z")
    if "ticket_id" in moved:
        moved["ticket_id"] = f"burst{copy}-{moved['ticket_id']}"
    return moved


def _parse(stamp: str):  # type: ignore[no-untyped-def]
    from datetime import datetime

    return datetime.fromisoformat(stamp.replace("Z", "+00:00"))


@live_on("dev-sqlite", "kafka-sqlite")
def test_a_burst_queued_while_the_worker_is_stopped_is_caught_up_with_nothing_late(
    live: LiveSetup,
) -> None:
    """The sample months and two earlier copies of them (100,000 events; SLAMON_BURST_COPIES
    sets the number of copies) wait in the topics while the worker is down; it reads them as a
    backlog. Copies are 70 days apart, so none overlaps the next in time."""
    ended_contracts(live.workdir / "contracts")
    events = sample_events()
    copies = int(os.environ.get("SLAMON_BURST_COPIES", "2"))
    burst = [shifted(e, 70 * copy, copy) for copy in range(copies, 0, -1) for e in events] + events
    first, rest = burst[:5000], burst[5000:]
    (live.workdir / "first.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in first))
    (live.workdir / "burst.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in rest))
    (live.workdir / "all.jsonl").write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in burst))
    assert len(rest) >= 30_000 + 35_000 * copies
    expected = expected_records(live, live.workdir / "all.jsonl")
    live.slamon("produce", "--events", str(live.workdir / "first.jsonl"))
    worker = live.start_worker(idle_timeout="10m")  # running, not idle long enough to use the wall clock
    live.wait_for(lambda: len(ledger_records(live)) > 0, 120)
    live.stop(worker, signal.SIGTERM)
    live.slamon("produce", "--events", str(live.workdir / "burst.jsonl"))
    live.start_worker()
    live.wait_for(lambda: settled(live, expected), 600, lambda: explain(live, expected))
    late = late_counts(scrape(live.metrics_ports[-1]))
    assert not late, late
    assert "never reached the agent" not in live.full_logs()


def scrape(port: int) -> str:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.read().decode()


@pytest.fixture
def proxied(tmp_path: Path) -> Iterator[tuple[LiveSetup, TcpProxy]]:
    """Apache Kafka of its own that advertises a proxy's port: every client talks through the proxy."""
    proxy = TcpProxy(free_port(), upstream_port=free_port()).start()
    broker = KafkaBroker(
        port=proxy.upstream_port,
        log_path=tmp_path / "kafka.log",
        data_dir=tmp_path / "kafka",
        advertised_port=proxy.port,
    )
    try:
        with broker:
            setup = LiveSetup(broker, f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path)
            try:
                yield setup, proxy
            finally:
                for process in setup.workers:
                    setup.stop(process, signal.SIGKILL)
    finally:
        proxy.stop()


def test_a_network_cut_of_30_seconds_between_worker_and_broker(proxied: tuple[LiveSetup, TcpProxy]) -> None:
    live, proxy = proxied
    stream = prepared_stream(live.workdir)
    expected = expected_records(live, stream)
    live.slamon("produce", "--events", str(stream))
    live.start_worker()
    live.wait_for(lambda: len(ledger_records(live)) > 0, 120)  # running, and writing
    proxy.cut()
    time.sleep(30)
    proxy.restore()
    live.wait_for(lambda: settled(live, expected), 300, lambda: explain(live, expected))


@live_on("kafka-sqlite")
def test_a_worker_killed_while_another_runs_is_taken_over(live: LiveSetup, stream: Path) -> None:
    expected = expected_records(live, stream)
    live.slamon("produce", "--events", str(stream))
    doomed = live.start_worker()
    live.start_worker()
    live.wait_for(lambda: len(ledger_records(live)) > 0 and live.full_logs().count("Worker ready") >= 2, 120)
    live.stop(doomed, signal.SIGKILL)
    live.wait_for(lambda: settled(live, expected), 300, lambda: explain(live, expected))
    # what the dead worker had read since its last commit is read again: duplicates, not late
    # (the sample stream's own late events are late again when read again)
    assert late_event_ids(dead_letters(live)) <= late_in_replay(live, stream)


@live_on("kafka-sqlite")
def test_a_broker_restart_loses_nothing(live: LiveSetup, stream: Path) -> None:
    """Apache Kafka is stopped (SIGTERM) while a worker runs mid-stream and started again on the
    same data directory; the second half of the stream is produced after the restart. Then a new
    worker takes over (the first is stopped): it rebuilds the tables from the changelogs and
    resumes from the offsets committed before and after the restart, so everything the broker
    held must have survived. The first worker's idle timeout outlasts the test, so none of its
    partitions moves to the wall clock and the second half is on time."""
    broker = live.broker
    assert isinstance(broker, KafkaBroker)
    expected = expected_records(live, stream)
    first, second = halves(stream)
    live.slamon("produce", "--events", str(first))
    worker = live.start_worker(idle_timeout="10m")
    live.wait_for(lambda: len(ledger_records(live)) > 0, 120)  # running, and writing
    broker.stop()
    time.sleep(5)  # the worker meets a broker that is gone
    broker.start()
    live.slamon("produce", "--events", str(second))
    time.sleep(5)
    live.stop(worker, signal.SIGTERM)
    live.start_worker()
    live.wait_for(lambda: settled(live, expected), 300, lambda: explain(live, expected))


def dead_letters(live: LiveSetup) -> list[dict]:
    """Every record of the dead-letter topic, read to its end."""
    partitions = int(live.env()["SLAMON_PARTITIONS"])
    return asyncio.run(_read_to_end(live.broker.bootstrap, f"{live.name}.deadletter", partitions))


async def _read_to_end(bootstrap: str, topic: str, partition_count: int) -> list[dict]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(partition_count)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        records: list[dict] = []
        while [tp for tp, end in ends.items() if await consumer.position(tp) < end]:
            batches = await consumer.getmany(timeout_ms=1000)
            records += [orjson.loads(m.value) for messages in batches.values() for m in messages]
        return records
    finally:
        await consumer.stop()


def late_event_ids(letters: list[dict]) -> set[str]:
    return {orjson.loads(letter["value"])["event_id"] for letter in letters if letter["reason"] == "late"}


def late_in_replay(live: LiveSetup, stream: Path) -> set[str]:
    """The ids of the events `slamon replay` refuses as late in ``stream``."""
    lines = stream.read_bytes().splitlines()
    report = replay(load_contracts(live.workdir / "contracts").contracts, lines)
    return {orjson.loads(lines[number - 1])["event_id"] for number, _ in report.late_lines}


def late_counts(metrics: str) -> list[str]:
    return [line for line in metrics.splitlines() if 'outcome="late"' in line and not line.endswith(" 0.0")]
