"""Reading the input topics: one engine per (stream, input partition), journalled in batches.

To add an input topic: give it a name in ``monitor.settings.Topics`` (and its ``inputs()``),
and an entry in ``input_streams`` saying which stream's engines it feeds (a new ``Stream`` in
``monitor.stream.partitions`` if it has a clock of its own). The agent reads every topic of
``input_streams``; the idle rule, the lag gauge and the stall watchdog follow from it.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Mapping, Sequence
from typing import Any

import faust
from faust.types import TP

from alerting.metrics import Metrics
from monitor.contract import Contract
from monitor.engine import Outcome, Verdict
from monitor.settings import Settings, Topics
from monitor.stream.acks import AfterWritten
from monitor.stream.clocks import IdleRule, is_clock_message, let_caught_up_sources_follow
from monitor.stream.control import RefusedControl, read_clock
from monitor.stream.deadletter import dead_letter_key, dead_letter_value
from monitor.stream.notices import Notices
from monitor.stream.partitions import PartitionKey, Stream
from monitor.stream.positions import Positions
from monitor.stream.processor import PartitionProcessor
from monitor.stream.results import ResultsPublisher
from monitor.stream.state_table import StateTable
from monitor.timeutil import span_us

log = logging.getLogger("slamon.worker")

# inputs per journal batch while working through a backlog, and the longest an input waits
# for its batch; a partition with nothing more to read is flushed at once
JOURNAL_BATCH = 200
JOURNAL_BATCH_SECONDS = 0.25


def input_streams(topics: Topics) -> dict[str, Stream]:
    """Each input topic and the stream whose engines it feeds. Topics of one stream share a
    clock per partition (their keys hash alike: uptime, maintenance and requests are all keyed
    by service), so each engine reads the events of every topic of its stream."""
    return {
        topics.uptime: Stream.UPTIME,
        topics.maintenance: Stream.UPTIME,
        topics.requests: Stream.UPTIME,
        topics.tickets: Stream.TICKETS,
    }


class InputReader:
    """The agent on the input topics. An input is acknowledged to Kafka only once the broker has
    the journal batch holding it, and a batch is written only once the broker has every notice
    and dead letter its inputs caused."""

    def __init__(
        self,
        settings: Settings,
        contracts: Sequence[Contract],
        state: StateTable,
        streams: Mapping[str, Stream],
        processors: dict[PartitionKey, PartitionProcessor],
        positions: Positions,
        idle: IdleRule,
        results: ResultsPublisher,
        notices: Notices,
        deadletter: faust.TopicT,
        metrics: Metrics,
    ) -> None:
        """``processors`` is filled here (one per input partition read) and shared with the
        results publisher; ``state`` is the faust table the engines are journalled in."""
        self._settings = settings
        self._contracts = list(contracts)
        self._state = state
        self.streams = streams
        self.processors = processors
        self._positions = positions
        self._idle = idle
        self._results = results
        self._notices = notices
        self.deadletter = deadletter  # where refused inputs go
        self._max_skew_us = span_us(settings.max_future_skew)
        self._metrics = metrics
        self._unacked: dict[PartitionKey, list[faust.EventT]] = {}  # inputs of the open batch
        self._acks = AfterWritten()  # inputs of written batches, until the broker has them
        # deliveries of the notices and dead letters an unwritten journal batch caused
        self._unsent: dict[PartitionKey, list[Awaitable[Any]]] = {}
        self._unstored: dict[PartitionKey, list[dict[str, Any]]] = {}  # notices, likewise
        self._batch_started: dict[PartitionKey, float] = {}  # monotonic seconds

    def forget(self, tp: TP) -> PartitionProcessor | None:
        """A revoked partition: unwritten inputs were never acknowledged, so the new owner
        reads them again. Returns the partition's processor, if it had one."""
        stream = self.streams.get(tp.topic)
        if stream is None:
            return None
        key = (stream, tp.partition)
        self._unacked.pop(key, None)
        self._acks.forget(key)
        self._unsent.pop(key, None)
        self._unstored.pop(key, None)
        self._batch_started.pop(key, None)
        return self.processors.pop(key, None)

    def _processor(self, stream: Stream, partition: int) -> PartitionProcessor:
        key = (stream, partition)
        processor = self.processors.get(key)
        if processor is None:
            processor = self.processors[key] = PartitionProcessor(
                stream,
                partition,
                self._settings.partitions,
                self._contracts,
                self._settings.allowed_lateness,
                self._state,
                sources=[topic for topic, kind in self.streams.items() if kind is stream],
                at_risk_budget_percent=self._settings.at_risk_budget_percent,
            )
            self._results.touch(key)  # recovered state: publish its results again (idempotent)
        return processor

    async def consume(self, stream: faust.Stream[bytes]) -> None:
        """The agent. Inputs are acknowledged only once the journal batch holding them is written
        (by a task of their own: the agent reads on meanwhile)."""
        manual = stream.noack()
        async for event in manual.events():
            message = event.message
            if not self._positions.owns(message.tp):
                # handed over in a rebalance: its new owner reads it (its state too)
                log.warning(
                    "skipping %s: not in the assignment %s", message.tp, sorted(self._positions.assigned())
                )
                continue
            kind = self.streams[message.topic]
            key = (kind, message.partition)
            processor = self._processor(kind, message.partition)
            self._idle.heard(message.tp)
            expected = self._positions.expected_next(message.tp)
            if message.offset > expected:
                never = (expected, message.offset - 1)
                log.warning("%s: offsets %d-%d never reached the agent", message.tp, *never)
            self._positions.processed(message.tp, message.offset)
            await self._process(processor, key, event)
            unacked = self._unacked.setdefault(key, [])
            unacked.append(event)
            now = time.monotonic()
            since = self._batch_started.setdefault(key, now)
            if (
                len(unacked) >= JOURNAL_BATCH
                or now - since >= JOURNAL_BATCH_SECONDS
                or is_clock_message(event)
                or self._positions.caught_up(message.tp)  # the last input of a backlog is not kept waiting
            ):
                await self._until_sent(key)
                processor.flush()  # while an input of this partition is current: right changelog partition
                await self._acks.ack_when_written(key, self._state.written(), unacked, manual)
                self._unacked[key] = []
                self._batch_started.pop(key, None)

    async def _process(self, processor: PartitionProcessor, key: PartitionKey, event: faust.EventT) -> None:
        """Any record (key, value and headers as a producer wrote them) is applied, or counted and
        dead-lettered with the reason: none raises. Nothing dated more than ``max_future_skew``
        after the wall clock moves a clock."""
        message = event.message
        value: bytes = event.value or b""
        not_after = time.time_ns() // 1000 + self._max_skew_us
        try:
            clock_us = read_clock(message.key, value, message.headers, not_after)
        except RefusedControl as refused:
            await self._refuse(key, event, refused.verdict)
            return
        if clock_us is not None:
            if processor.advance(clock_us, source=message.topic):
                self._results.touch(key)
            await self._state_notices(processor, key)
            return
        handled = processor.handle(value, source=message.topic, offset=message.offset, not_after=not_after)
        outcome = handled.verdict.outcome
        if outcome is Outcome.APPLIED:
            self._metrics.events.labels(message.topic, outcome.value).inc()
            self._results.touch(key)
            let_caught_up_sources_follow(processor, message.tp, self._positions)
        else:
            await self._refuse(key, event, handled.verdict)
        await self._state_notices(processor, key)

    async def _refuse(self, key: PartitionKey, event: faust.EventT, verdict: Verdict) -> None:
        """Count an input that was not applied; dead-letter it unless it is a duplicate."""
        message = event.message
        self._metrics.events.labels(message.topic, verdict.outcome.value).inc()
        if verdict.outcome is not Outcome.DUPLICATE:
            await self._dead_letter(key, event, verdict.reason or verdict.outcome.value)

    async def _until_sent(self, key: PartitionKey) -> None:
        """Wait until the broker has every notice and dead letter the coming journal batch caused.

        The journal tells a recovered engine what it has already said, and an engine never
        states a notice twice. Written first, a journal batch could outlive the notices it
        caused: a worker killed while they still queued in its producer (the bundled broker
        answers one record at a time) recovered knowing they were sent, and they never were.
        They are stored in the ledger and its outbox here too, not only by the agent reading
        `sla.notices`: after such a kill, that agent was seen to miss notices of a partition
        the dead worker had not read (cause not found); storing is idempotent."""
        unsent = self._unsent.pop(key, None)
        if unsent:
            await asyncio.gather(*unsent)
        unstored = self._unstored.pop(key, None)
        if unstored:
            await self._notices.store(unstored)

    async def _state_notices(self, processor: PartitionProcessor, key: PartitionKey) -> None:
        for notice in processor.take_notices():
            sent, record = await self._notices.state(notice)
            self._unsent.setdefault(key, []).append(sent)
            self._unstored.setdefault(key, []).append(record)

    async def _dead_letter(self, key: PartitionKey, event: faust.EventT, reason: str) -> None:
        """The input, with why it was refused, to the dead-letter topic (its first 16 KiB)."""
        message = event.message
        where = (message.topic, message.partition, message.offset)
        letter = dead_letter_value(reason, *where, message.key, event.value)
        sent = await self.deadletter.send(key=dead_letter_key(message.key), value=letter)
        self._unsent.setdefault(key, []).append(sent)
