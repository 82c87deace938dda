"""The worker's whole input path, fuzzed: records with any key, value and headers, on any input
topic and partition, go through the worker's real input agent in faust's ``Agent.test_context()``
(no broker). Whatever arrives, the agent never crashes, every record is counted once or is an
accepted clock message, every refused one is dead-lettered within the size bound, no table value
nears Kafka's message limit, and no clock passes the wall clock plus the allowed skew.

There is no broker here, so stand-ins take the place of the consumer and the producer: every input
partition is assigned and caught up, the dead-letter and notices topics keep what is sent, and
the state table's changelog writes are not waited for.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson
import pytest
from faust.types import TP
from faust.types.tuples import Message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from prometheus_client import CollectorRegistry

from alerting.metrics import Metrics
from monitor.loader import load_contracts
from monitor.settings import DEFAULT_CONTRACTS, Settings
from monitor.stream.app import Worker
from monitor.stream.control import CLOCK_HEADER, CLOCK_KEY, clock_message
from monitor.stream.deadletter import DEAD_LETTER_MAX_BYTES
from monitor.stream.partitions import Stream, partition_of
from monitor.stream.processor import JOURNAL_PART_BYTES, SNAPSHOT_CHUNK
from monitor.timeutil import to_us
from tests.test_fuzz import EVENT_LIKE

PARTITIONS = 4
SKEW_US = 3600 * 1_000_000
TABLE_VALUE_MAX_BYTES = max(JOURNAL_PART_BYTES, SNAPSHOT_CHUNK + 2)
HUGE = 1_100_000  # bytes: past the broker's default 1 MB message limit once escaped as JSON


class RecordingTopic:
    """Stands in for an output topic: keeps what is sent; the send is done at once."""

    def __init__(self) -> None:
        self.sent: list[tuple[bytes | None, bytes]] = []

    async def send(self, *, key: bytes | None = None, value: bytes, **_: Any) -> asyncio.Future[None]:
        self.sent.append((key, value))
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done


@dataclass
class Record:
    topic: str
    partition: int
    key: bytes | None
    value: bytes | None
    headers: list[tuple[str, Any]] = field(default_factory=list)
    clock: bool = False  # a clock message in the worker's own form, within the bound


@dataclass
class Harness:
    loop: asyncio.AbstractEventLoop
    worker: Worker
    agent: Any
    deadletter: RecordingTopic
    topics: list[str]
    next_offset: dict[TP, int]  # the end offset of each partition, as the records put say

    def counted(self) -> int:
        return int(
            sum(
                sample.value
                for family in self.worker.metrics.registry.collect()
                for sample in family.samples
                if sample.name == "slamon_events_total"
            )
        )

    async def put(self, record: Record) -> int:
        tp = TP(record.topic, record.partition)
        offset = self.next_offset.get(tp, 0)
        self.next_offset[tp] = offset + 1
        message = Message(
            topic=record.topic,
            partition=record.partition,
            offset=offset,
            timestamp=time.time(),
            timestamp_type=0,
            headers=record.headers,
            key=record.key,
            value=record.value,
            checksum=None,
            generation_id=self.worker.app.consumer_generation_id,
        )
        channel = self.agent.stream().channel
        await channel.put(await channel.decode(message))
        return offset

    async def feed(self, records: list[Record]) -> list[tuple[Record, int]]:
        """Put the records, then a sentinel behind the last: once its dead letter is out, all
        before it are done (the agent takes records in order)."""
        placed = [(record, await self.put(record)) for record in records]
        sentinel = f"sentinel {len(self.deadletter.sent)}".encode()
        await self.put(Record(records[-1].topic, records[-1].partition, None, sentinel))
        deadline = time.monotonic() + 20
        while not any(orjson.loads(v)["value"] == sentinel.decode() for _, v in self.deadletter.sent[-3:]):
            assert self.agent._crash_reason is None, f"the agent crashed: {self.agent._crash_reason!r}"
            assert time.monotonic() < deadline, "the agent stopped taking records"
            await asyncio.sleep(0.005)
        return placed


async def _no_producer_to_wait_for() -> None:
    """No producer runs: the state table's changelog writes stay in faust's buffer."""


@contextlib.contextmanager
def brokerless_worker(data_dir: Path) -> Iterator[Harness]:
    """A worker (without a ledger) whose input agent runs in ``test_context()``."""
    settings = Settings(
        broker_kind="dev",
        app_id="fuzz",
        data_dir=data_dir,
        partitions=PARTITIONS,
        max_future_skew=f"{SKEW_US // 1_000_000}s",
    )
    worker = Worker(
        settings, load_contracts(DEFAULT_CONTRACTS).contracts, metrics=Metrics(CollectorRegistry())
    )
    topics = settings.topics.inputs()
    everything = frozenset(TP(topic, p) for topic in topics for p in range(PARTITIONS))
    ends: dict[TP, int] = {}
    # no consumer runs: every input partition is assigned, and read to its end after each record
    worker.positions.assigned = lambda: everything  # type: ignore[method-assign]
    worker.positions.highwater = lambda tp: ends.get(tp, 0)  # type: ignore[method-assign]
    worker.positions.highwater_learned_ms = lambda tp: 0  # type: ignore[method-assign]  # all at once
    deadletter = RecordingTopic()
    worker.inputs.deadletter = deadletter  # type: ignore[assignment]
    worker.notices.topic = RecordingTopic()  # type: ignore[assignment]
    worker.state.written = _no_producer_to_wait_for  # type: ignore[method-assign]
    loop = asyncio.new_event_loop()
    context = worker.app.agents["slamon-inputs"].test_context()
    agent = loop.run_until_complete(context.__aenter__())
    try:
        yield Harness(loop, worker, agent, deadletter, topics, ends)
    finally:
        loop.run_until_complete(context.__aexit__(None, None, None))
        loop.close()


@pytest.fixture(scope="module")
def harness(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Harness]:
    with brokerless_worker(tmp_path_factory.mktemp("faust")) as made:
        yield made


def _event(at: str, **fields: Any) -> bytes:
    return orjson.dumps({"event_id": f"e-{at}-{sorted(fields.items())}", "at": at, **fields})


NOW = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
VALID = [
    _event("2026-10-01T10:00:00Z", type="status", service="api", status="down"),
    _event("2026-10-01T10:30:00Z", type="status", service="api", status="up"),
    _event(NOW, type="status", service="web", status="up"),
    _event(
        "2026-10-02T00:00:00Z",
        type="maintenance",
        service="api",
        start="2100-01-01T00:00:00Z",
        end="2100-01-02T00:00:00Z",
    ),
    _event(
        "2026-10-03T08:00:00Z",
        type="ticket",
        ticket_id="T1",
        contract="globex-support",
        action="opened",
        priority="P1",
    ),
]
POISON = [
    b"\x00\xff" * (HUGE // 2),  # huge, not UTF-8, control characters
    orjson.dumps({**json.loads(VALID[0]), "event_id": "huge", "context": "\u0001" * HUGE}),  # huge but valid
    _event("2100-01-01T00:00:00Z", type="status", service="api", status="up"),  # far future
    _event("9998-12-31T23:59:59Z", type="status", service="api", status="down"),  # the last year allowed
    b"",
    None,
    b"[" * 100_000,
    orjson.dumps({"type": "x" * HUGE}),
]

values = st.one_of(
    st.binary(max_size=64),
    EVENT_LIKE.map(lambda document: json.dumps(document).encode()),
    st.sampled_from(VALID),
    st.sampled_from(POISON),
)
keys = st.one_of(
    st.none(), st.sampled_from([b"api", b"web", b"globex-support", CLOCK_KEY]), st.binary(max_size=16)
)
header_values = st.one_of(
    st.none(),
    st.binary(max_size=24),
    st.integers(0, 10**20).map(lambda n: str(n).encode()),
    st.just(b"not-a-number"),
)
headers = st.lists(
    st.tuples(st.sampled_from([CLOCK_HEADER, "trace", ""]) | st.text(max_size=8), header_values), max_size=3
)


@st.composite
def records(draw: st.DrawFn, topics: list[str]) -> Record:
    topic = draw(st.sampled_from(topics))
    partition = draw(st.integers(0, PARTITIONS - 1))
    if draw(st.integers(0, 9)) == 0:  # now and then a clock message as the worker writes it
        ahead = draw(st.sampled_from([-SKEW_US, 0, SKEW_US // 2, SKEW_US * 2, 10**18]))
        key, value, sent = clock_message(time.time_ns() // 1000 + ahead)
        return Record(topic, partition, key, value, list(sent.items()), clock=ahead <= SKEW_US // 2)
    return Record(topic, partition, draw(keys), draw(values), draw(headers))


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(st.data())
def test_any_record_is_counted_or_dead_lettered_and_nothing_crashes(
    harness: Harness, data: st.DataObject
) -> None:
    batch = data.draw(st.lists(records(harness.topics), min_size=1, max_size=6))
    counted_before, letters_before = harness.counted(), len(harness.deadletter.sent)
    placed = harness.loop.run_until_complete(harness.feed(batch))
    letters = [orjson.loads(value) for _, value in harness.deadletter.sent[letters_before:]]
    assert all(len(value) <= DEAD_LETTER_MAX_BYTES for _, value in harness.deadletter.sent[letters_before:])
    # each record is counted once (the sentinel too), except the clock messages accepted
    accepted_clocks = sum(record.clock for record in batch)
    assert harness.counted() - counted_before == len(batch) - accepted_clocks + 1
    lettered = {(letter["topic"], letter["partition"], letter["offset"]) for letter in letters}
    for record, offset in placed:
        if record.clock:
            assert (record.topic, record.partition, offset) not in lettered
    wall_us = time.time_ns() // 1000
    for processor in harness.worker.processors.values():
        assert all(clock is None or clock <= wall_us + SKEW_US for clock in processor.clocks.values())
    for value in list(harness.worker.state.values()):
        assert len(orjson.dumps(value)) <= TABLE_VALUE_MAX_BYTES


def test_the_worst_records_are_refused_with_their_reason(tmp_path: Path) -> None:
    """Not vacuous: the poison fed above, one after another on the partition of service ``api``,
    each refused with its reason (the huge valid event applied), and a good event after them
    applied on a clock they did not move."""
    api = partition_of("api", PARTITIONS)
    good = _event(NOW, type="status", service="api", status="down")
    with brokerless_worker(tmp_path) as harness:
        uptime = harness.topics[0]
        harness.loop.run_until_complete(
            harness.feed([Record(uptime, api, b"api", value) for value in [*POISON, good]])
        )
        letters = [orjson.loads(value) for _, value in harness.deadletter.sent]
        counts = {
            sample.labels["outcome"]: int(sample.value)
            for family in harness.worker.metrics.registry.collect()
            for sample in family.samples
            if sample.name == "slamon_events_total" and sample.labels["topic"] == uptime
        }
        engine = harness.worker.processors[(Stream.UPTIME, api)].engine
    assert counts == {"applied": 2, "invalid": 5 + 1, "future": 2}  # and the sentinel, invalid
    reasons = {letter["offset"]: letter["reason"] for letter in letters if letter["partition"] == api}
    # all but 1 (huge but valid) and 8 (the good event); 9 is the sentinel
    assert sorted(reasons) == [0, 2, 3, 4, 5, 6, 7, 9]
    assert reasons[0].startswith("not valid JSON")
    assert reasons[2].startswith("future: 'at' 2100-01-01T00:00:00+00:00 is after ")
    assert reasons[3].startswith("future: 'at' 9998-12-31T23:59:59+00:00 is after ")
    assert reasons[7] == "unknown event type '" + "x" * 58 + "…"
    huge = next(letter for letter in letters if letter["partition"] == api and letter["offset"] == 0)
    assert huge["truncated"] is True and huge["value_bytes"] == len(POISON[0])
    assert engine.watermark == to_us(datetime.fromisoformat(NOW))  # the good event's time: now
