"""Poison records on the live worker: each once crashed it into a restart loop on the same record
or silenced its partition. Now each is dead-lettered (small, whatever its size) and counted, the
worker keeps consuming, and the ledger equals `slamon replay` of the good events."""

from __future__ import annotations

import asyncio
import json
import urllib.request
from dataclasses import dataclass, field

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from prometheus_client.parser import text_string_to_metric_families

from monitor.broker import create_topics
from monitor.stream.control import CLOCK_HEADER, clock_message
from monitor.stream.deadletter import DEAD_LETTER_MAX_BYTES
from monitor.stream.partitions import partition_of
from monitor.timeutil import to_us
from tests.builders import moment, status
from tests.conftest import TOPICS, LiveSetup, live_on
from tests.test_live import ended_contracts, expected_records, explain, ledger_records

PARTITIONS = 4
API = partition_of("api", PARTITIONS)
BEFORE = [status("2026-10-05T10:00:00Z", "down"), status("2026-10-05T14:00:00Z", "up")]
# with the clock in 2100, or a crash loop on the record before them, these would never count
AFTER = [status("2026-10-20T09:00:00Z", "down"), status("2026-10-20T09:45:00Z", "up")]


@dataclass
class Record:
    value: bytes | None
    key: bytes | None = b"api"
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    good: bool = False  # counted: part of what replay must agree with


def huge_event(event_id: str, at: str) -> bytes:
    """Valid, with a 900 KB field the engine ignores: two of them made a 1.8 MB journal batch."""
    document = json.loads(status(at, "down" if event_id.endswith("1") else "up", event_id=event_id))
    return orjson.dumps({**document, "context": "x" * 900_000})


def forged_clock(at: str) -> Record:
    key, value, headers = clock_message(to_us(moment(at)))
    return Record(value, key, list(headers.items()))


# each case: its poison, and how it is counted (the outcomes of slamon_events_total but applied)
CASES: dict[str, tuple[list[Record], dict[str, int]]] = {
    # about 1 MB of control characters and bytes that are not UTF-8: 5-6 MB as a whole dead letter
    "huge-invalid-value": (
        [Record(bytes(range(32)) * 30_000 + b"\xff\xfe" * 20_000)],
        {"invalid": 1},
    ),
    "huge-valid-events": (
        [
            Record(huge_event("huge-1", "2026-10-12T08:00:00Z"), good=True),
            Record(huge_event("huge-2", "2026-10-12T08:30:00Z"), good=True),
        ],
        {},
    ),
    "forged-clock": (
        [
            Record(b"", key=None, headers=[(CLOCK_HEADER, b"not-a-number")]),
            # the worker's own form, but in 2100: it would close every month
            forged_clock("2100-01-01T00:00:00+00:00"),
        ],
        {"invalid": 1, "future": 1},
    ),
    "year-2100-event": (
        [Record(status("2100-01-01T00:00:00Z", "up", event_id="y2100").encode())],
        {"future": 1},
    ),
}


def _records(case: str) -> list[Record]:
    poison, _ = CASES[case]
    good = [Record(line.encode(), good=True) for line in BEFORE]
    return [*good, *poison, *(Record(line.encode(), good=True) for line in AFTER)]


async def _produce(live: LiveSetup, records: list[Record]) -> None:
    # Apache Kafka would auto-create the topic with one partition: the worker's four come first
    await create_topics(live.broker.bootstrap, {f"{live.name}.{topic}": PARTITIONS for topic in TOPICS})
    producer = AIOKafkaProducer(bootstrap_servers=live.broker.bootstrap, max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        for record in records:  # one at a time: one record per produce batch on the bundled broker
            await producer.send_and_wait(
                f"{live.name}.uptime", record.value, key=record.key, partition=API, headers=record.headers
            )
    finally:
        await producer.stop()


async def _dead_letters(live: LiveSetup, expected: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(
        f"{live.name}.deadletter", bootstrap_servers=live.broker.bootstrap, auto_offset_reset="earliest"
    )
    await consumer.start()
    values: list[bytes] = []
    try:
        for _ in range(30):
            batches = await consumer.getmany(timeout_ms=1000)
            values += [message.value for messages in batches.values() for message in messages]
            if len(values) >= expected:
                break
    finally:
        await consumer.stop()
    return values


def _counted(live: LiveSetup) -> dict[str, int]:
    """``slamon_events_total`` of the uptime topic, by outcome."""
    url = f"http://127.0.0.1:{live.metrics_ports[0]}/metrics"
    with urllib.request.urlopen(url, timeout=10) as response:
        text = response.read().decode()
    counts: dict[str, int] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == "slamon_events_total" and sample.labels["topic"] == f"{live.name}.uptime":
                counts[sample.labels["outcome"]] = int(sample.value)
    return counts


@live_on("dev-sqlite", "kafka-sqlite")  # every record fits Kafka's default 1 MB limit
@pytest.mark.parametrize("case", list(CASES))
def test_a_poison_record_is_dead_lettered_counted_and_passed(live: LiveSetup, case: str) -> None:
    records = _records(case)
    ended_contracts(live.workdir / "contracts")
    good = live.workdir / "good.jsonl"
    good.write_bytes(b"\n".join(record.value or b"" for record in records if record.good) + b"\n")
    expected = expected_records(live, good)
    asyncio.run(_produce(live, records))
    live.start_worker()
    live.wait_for(lambda: ledger_records(live) == expected, 180, lambda: explain(live, expected))
    counts = {"applied": sum(record.good for record in records), **CASES[case][1]}
    live.wait_for(lambda: _counted(live) == counts, 30, lambda: f"counted {_counted(live)}, not {counts}")
    refused = sum(CASES[case][1].values())
    letters = asyncio.run(_dead_letters(live, refused))
    assert len(letters) == refused
    for raw in letters:
        assert len(raw) <= DEAD_LETTER_MAX_BYTES
        letter = orjson.loads(raw)
        assert letter["topic"] == f"{live.name}.uptime" and letter["partition"] == API
        assert letter["reason"].split(":")[0] in ("future", "invalid clock message", "not valid JSON")
    if case == "huge-invalid-value":
        (letter,) = (orjson.loads(raw) for raw in letters)
        assert letter["truncated"] is True and letter["value_bytes"] == len(records[len(BEFORE)].value or b"")
        assert letter["offset"] == len(BEFORE)


def test_the_cases_are_what_they_claim() -> None:
    """The records are really poison: a dead letter holding the whole value, or one journal
    batch holding both valid events whole, would pass Kafka's default 1 MB limit."""
    huge = CASES["huge-invalid-value"][0][0].value or b""
    assert len(orjson.dumps(huge.decode("utf-8", errors="replace"))) > 4 * 1024 * 1024
    batch = [record.value or b"" for record in CASES["huge-valid-events"][0]]
    assert sum(len(value) for value in batch) > 1024 * 1024
