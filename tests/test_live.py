"""End to end: the live worker's ledger equals `slamon replay`, record for record, through
duplicates, disorder, invalid lines, crashes and a second worker. On Apache Kafka (what production
runs); the ledger test also on the bundled broker, the demo's."""

from __future__ import annotations

import json
import random
import signal
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest

from monitor.demo_stream import sample_events
from monitor.ledger.store import Ledger
from monitor.settings import DEFAULT_CONTRACTS
from tests.conftest import LiveSetup, live_on


def write_stream(path: Path, seed: int = 3) -> list[bytes]:
    """The sample stream with redeliveries, disorder within minutes and a few invalid lines."""
    rng = random.Random(seed)
    events = [orjson.dumps(event) for event in sample_events()]
    keyed = [(index + rng.uniform(0, 8), line) for index, line in enumerate(events)]  # minutes of disorder
    for index in rng.sample(range(len(events)), 200):  # redeliveries, soon after the original
        keyed.append((index + rng.uniform(1, 20), events[index]))
    ordered = [line for _, line in sorted(keyed)]
    for position in rng.sample(range(len(ordered)), 5):
        ordered.insert(position, b"this is not an event")
    ordered.insert(
        100, b'{"event_id":"x","type":"status","service":"api","status":"up","at":"2026-10-01T00:00:00"}'
    )
    path.write_bytes(b"\n".join(ordered) + b"\n")
    return ordered


def ended_contracts(directory: Path) -> None:
    """The sample contracts, ended on 1 November so every period is final by the wall clock."""
    directory.mkdir()
    for source in DEFAULT_CONTRACTS.glob("*.yaml"):
        text = source.read_text().replace("effective_to: null\n", "")
        (directory / source.name).write_text(text + "effective_to: 2026-11-01\n")


def prepared_stream(workdir: Path) -> Path:
    """The sample contracts (ended) in ``workdir/contracts`` and the sample stream beside them."""
    ended_contracts(workdir / "contracts")
    path = workdir / "events.jsonl"
    write_stream(path)
    return path


def halves(stream: Path) -> tuple[Path, Path]:
    """The stream's first and second half, in two files beside it."""
    lines = stream.read_bytes().splitlines(keepends=True)
    first, second = stream.with_name("first.jsonl"), stream.with_name("second.jsonl")
    first.write_bytes(b"".join(lines[: len(lines) // 2]))
    second.write_bytes(b"".join(lines[len(lines) // 2 :]))
    return first, second


def expected_records(live: LiveSetup, events: Path) -> list[dict]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    result = live.slamon(
        "replay", "--contracts", str(live.workdir / "contracts"), "--events", str(events), "--as-of", now
    )
    records = [json.loads(line) for line in result.stdout.splitlines()]
    assert records and all(r["final"] for r in records)
    return records


def ledger_records(live: LiveSetup) -> list[dict]:
    ledger = Ledger(live.database)
    try:
        return ledger.read_results()
    finally:
        ledger.close()


def settled(live: LiveSetup, expected: list[dict]) -> bool:
    return ledger_records(live) == expected


def explain(live: LiveSetup, expected: list[dict]) -> str:
    """What differs, for a failure message: missing, unexpected and provisional records."""
    actual = ledger_records(live)
    missing = [r for r in expected if r not in actual]
    extra = [r for r in actual if r not in expected]
    return (
        f"{len(actual)} records, {len(missing)} missing e.g. {missing[:2]}, "
        f"{len(extra)} unexpected e.g. {extra[:2]}"
    )


@pytest.fixture
def stream(live: LiveSetup) -> Path:
    return prepared_stream(live.workdir)


@live_on("dev-sqlite", "kafka-postgresql")
def test_the_ledger_equals_replay(live: LiveSetup, stream: Path) -> None:
    expected = expected_records(live, stream)
    live.slamon("produce", "--events", str(stream))
    live.start_worker()
    live.wait_for(lambda: settled(live, expected), 240, lambda: explain(live, expected))


@live_on("kafka-sqlite")
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGKILL], ids=["clean", "sigkill"])
def test_a_stopped_worker_recovers_without_counting_twice(
    live: LiveSetup, stream: Path, stop_signal: int
) -> None:
    expected = expected_records(live, stream)
    first, second = halves(stream)
    live.slamon("produce", "--events", str(first))
    # no idle tick before the rest arrives: the wall clock would make it late (SPEC section 4)
    worker = live.start_worker(idle_timeout="10m")
    live.wait_for(lambda: len(ledger_records(live)) > 0, timeout=90)
    time.sleep(2)  # stop it mid-stream, with state in memory and offsets not all committed
    live.stop(worker, stop_signal)
    live.slamon("produce", "--events", str(second))
    live.start_worker()
    live.wait_for(lambda: settled(live, expected), 240, lambda: explain(live, expected))


@live_on("dev-sqlite", "kafka-sqlite")
def test_two_workers_in_one_group_give_the_same_ledger(live: LiveSetup, stream: Path) -> None:
    expected = expected_records(live, stream)
    live.slamon("produce", "--events", str(stream))
    live.start_worker()
    live.start_worker()
    live.wait_for(lambda: settled(live, expected), 240, lambda: explain(live, expected))


def test_the_demo_stream_file_is_not_trivial(tmp_path: Path) -> None:
    lines = write_stream(tmp_path / "events.jsonl")
    assert len(set(lines)) < len(lines) - 100  # redeliveries are there
    assert b"this is not an event" in lines
