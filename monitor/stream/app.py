"""The faust-streaming application: input agents, the engine state table, results, the ledger.

Thin driver: decoding, routing and state persistence only; the SLA math is the engine's.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import faust
import orjson
from faust.types import TP
from sqlalchemy.exc import DBAPIError

from alerting.metrics import Metrics
from alerting.payload import notice_body
from monitor.contract import Contract
from monitor.engine import Outcome
from monitor.engine.liability import liabilities
from monitor.kafka_security import faust_credentials
from monitor.settings import Settings
from monitor.stream.faust_settings import faust_app_settings, lengthen_fetch_wait
from monitor.stream.partitions import Stream
from monitor.stream.processor import PartitionProcessor

log = logging.getLogger("slamon.worker")
T = TypeVar("T")

CLOCK_HEADER = "slamon-clock"
# inputs per journal batch while working through a backlog, and the longest an input waits
# for its batch; a partition with nothing more to read is flushed at once
JOURNAL_BATCH = 200
JOURNAL_BATCH_SECONDS = 0.25
RESTATE_SECONDS = 60.0  # every clause result and recent notice is sent again this often
STALL_SECONDS = 10.0  # an input partition with records left and no read for this long is stalled
STALL_PATIENCE_MAX = 300.0  # a partition fetched again waits twice as long each time, up to this
STATE_TABLE = "engine-state"
LEDGER_RETRY_FIRST_SECONDS = 0.5
LEDGER_RETRY_MAX_SECONDS = 10.0
NOTICE_BATCH_SECONDS = 0.05  # a notice waits at most this long for others to share its write


def faust_options(settings: Settings) -> dict[str, Any]:
    """``faust.App`` keyword arguments (less the id) for these settings: the configuration
    proven on the bundled broker in ``monitor.stream.faust_settings``, with raw payloads."""
    options = faust_app_settings(
        settings.bootstrap,
        dev_broker=settings.broker_kind == "dev",
        app_id=settings.app_id,
        data_dir=str(settings.data_dir),
        web_port=settings.web_port or None,
        web_token=settings.web_token.get_secret_value() if settings.web_token is not None else None,
        partitions=settings.partitions,
        replication=settings.replication,
    )
    del options["id"]
    credentials = faust_credentials(settings)
    if credentials is not None:
        options["broker_credentials"] = credentials
    return options | {"value_serializer": "raw", "key_serializer": "raw"}


class Worker:
    """Builds the faust app around one processor per (stream, input partition)."""

    def __init__(
        self,
        settings: Settings,
        contracts: Sequence[Contract],
        ledger: Any | None = None,
        metrics: Metrics | None = None,
        outbox: Any | None = None,
        deliverer: Any | None = None,
    ) -> None:
        self.settings = settings
        self.contracts = list(contracts)
        self._contracts_by_id = {c.id: c for c in self.contracts}
        self.ledger = ledger
        self.metrics = metrics if metrics is not None else Metrics()
        self.outbox = outbox
        self.deliverer = deliverer
        self.app = faust.App(settings.app_id, **faust_options(settings))
        topics = settings.topics
        self._stream_of = {
            topics.uptime: Stream.UPTIME,
            topics.maintenance: Stream.UPTIME,
            topics.tickets: Stream.TICKETS,
        }
        self.inputs = self.app.topic(*topics.inputs(), value_type=bytes, key_type=bytes)
        self.results_topic = self.app.topic(topics.results, value_type=bytes, key_type=bytes)
        self.deadletter = self.app.topic(topics.deadletter, value_type=bytes, key_type=bytes)
        self.notices_topic = self.app.topic(topics.notices, value_type=bytes, key_type=bytes)
        self._read_topics = set(self._stream_of) | ({topics.results, topics.notices} if ledger else set())
        self.state = self.app.Table(
            STATE_TABLE,
            default=None,
            partitions=settings.partitions,
            # string keys and JSON values survive changelog recovery (tuple keys do not)
            schema=faust.Schema(key_type=str, key_serializer="json", value_serializer="json"),
        )
        self.processors: dict[tuple[Stream, int], PartitionProcessor] = {}
        self._last_input: dict[TP, float] = {}
        self._assigned: frozenset[TP] | None = None  # cached: faust builds a new set per call
        self._end_offsets: dict[TP, int] = {}
        # next offset to read, since when, and how long to wait for it before fetching again
        self._progress: dict[TP, tuple[int, float, float]] = {}
        self._processed: dict[TP, int] = {}  # the last offset the agent processed, per partition
        self._unacked: dict[tuple[Stream, int], list[Any]] = {}
        # deliveries of the notices and dead letters an unwritten journal batch caused
        self._unsent: dict[tuple[Stream, int], list[asyncio.Future[Any]]] = {}
        self._unstored: dict[tuple[Stream, int], list[dict[str, Any]]] = {}  # notices, likewise
        self._batch_started: dict[tuple[Stream, int], float] = {}
        self._emitted: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._details_sent: dict[tuple[str, str, str], tuple[Any, float]] = {}
        self._dirty: set[tuple[Stream, int]] = set()
        self.counts: dict[tuple[str, Outcome], int] = {}
        self._register()

    # wiring ----------------------------------------------------------------------------
    def _register(self) -> None:
        self.app.agent(self.inputs, name="slamon-inputs")(self._consume)
        if self.ledger is not None:
            self.app.agent(self.results_topic, name="slamon-ledger")(self._write_ledger)
            self.app.agent(self.notices_topic, name="slamon-notices")(self._record_notices)
        self.app.timer(interval=1.0)(self._publish_results)
        self.app.timer(interval=1.0)(self._learn_end_offsets)
        self.app.timer(interval=5.0)(self._restart_stalled_partitions)
        self.app.timer(interval=RESTATE_SECONDS)(self._restate)
        self.app.timer(interval=max(min(self.settings.idle_timeout.total_seconds() / 4, 5.0), 0.2))(
            self._advance_idle_partitions
        )
        self.app.on_partitions_revoked.connect(self._forget_revoked)
        self.app.on_partitions_assigned.connect(self._note_assigned)
        if self.deliverer is not None:
            self.app.task(self._deliver)
        if self.outbox is not None:
            self.app.timer(interval=RESTATE_SECONDS)(self._queue_forgotten_deliveries)

    async def _queue_forgotten_deliveries(self) -> None:
        added = await self._ledger_call(self.outbox.enqueue_unqueued)  # type: ignore[union-attr]
        if added:
            log.warning("queued %d webhook deliveries of notices stored without them", added)
            if self.deliverer is not None:
                self.deliverer.wake()

    async def _deliver(self) -> None:
        """Webhook delivery from the ledger's outbox, for as long as the worker runs."""
        await self.deliverer.run(asyncio.Event())  # type: ignore[union-attr]  # cancelled on shutdown

    def _processor(self, stream: Stream, partition: int) -> PartitionProcessor:
        key = (stream, partition)
        processor = self.processors.get(key)
        if processor is None:
            processor = self.processors[key] = PartitionProcessor(
                stream,
                partition,
                self.settings.partitions,
                self.contracts,
                self.settings.allowed_lateness,
                self.state,
                sources=[topic for topic, kind in self._stream_of.items() if kind is stream],
                at_risk_budget_percent=self.settings.at_risk_budget_percent,
            )
            self._dirty.add(key)  # recovered state: publish its results again (idempotent)
        return processor

    async def _note_assigned(self, app: faust.App, assigned: set[TP], **_: Any) -> None:
        self._assigned = None

    async def _forget_revoked(self, app: faust.App, revoked: set[TP], **_: Any) -> None:
        self._assigned = None
        for tp in revoked:
            stream = self._stream_of.get(tp.topic)
            if stream is not None:
                # unwritten inputs were never acknowledged: the new owner reads them again
                processor = self.processors.pop((stream, tp.partition), None)
                if processor is not None:
                    self._forget_gauges(processor)
                self._unacked.pop((stream, tp.partition), None)
                self._unsent.pop((stream, tp.partition), None)
                self._unstored.pop((stream, tp.partition), None)
                self._batch_started.pop((stream, tp.partition), None)
            self._processed.pop(tp, None)

    # input -----------------------------------------------------------------------------
    async def _consume(self, stream: faust.StreamT) -> None:
        """Inputs are acknowledged only once the journal batch holding them is written."""
        manual = stream.noack()
        async for event in manual.events():
            message = event.message
            if not self._owns(message.tp):
                # handed over in a rebalance: its new owner reads it (its state too)
                log.warning("skipping %s: not in the assignment %s", message.tp, sorted(self._assigned or ()))
                continue
            kind = self._stream_of[message.topic]
            key = (kind, message.partition)
            processor = self._processor(kind, message.partition)
            self._last_input[message.tp] = time.monotonic()
            self._processed[message.tp] = message.offset
            await self._process(processor, key, event)
            unacked = self._unacked.setdefault(key, [])
            unacked.append(event)
            now = time.monotonic()
            since = self._batch_started.setdefault(key, now)
            if (
                len(unacked) >= JOURNAL_BATCH
                or now - since >= JOURNAL_BATCH_SECONDS
                or clock_message(event)
                or self._caught_up(message.tp)  # the last input of a backlog is not kept waiting
            ):
                await self._until_sent(key)
                processor.flush()  # while an input of this partition is current: right changelog partition
                for done in unacked:
                    await manual.ack(done)
                self._unacked[key] = []
                self._batch_started.pop(key, None)

    async def _process(self, processor: PartitionProcessor, key: tuple[Stream, int], event: Any) -> None:
        message = event.message
        clock = _clock_header(message.headers)
        if clock is not None:
            if processor.advance(clock, source=message.topic):
                self._dirty.add(key)
            await self._publish_notices(processor, key)
            return
        handled = processor.handle(event.value, source=message.topic, offset=message.offset)
        outcome = handled.verdict.outcome
        counter = (message.topic, outcome)
        self.counts[counter] = self.counts.get(counter, 0) + 1
        self.metrics.events.labels(message.topic, outcome.value).inc()
        if outcome is Outcome.APPLIED:
            self._dirty.add(key)
            self._let_caught_up_sources_follow(processor, message.tp)
        elif outcome is not Outcome.DUPLICATE:
            await self._dead_letter(key, message, event.value, handled.verdict.reason or outcome.value)
        await self._publish_notices(processor, key)

    async def _until_sent(self, key: tuple[Stream, int]) -> None:
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
        if unstored and self.ledger is not None:
            await self._store_notices(unstored)

    async def _publish_notices(self, processor: PartitionProcessor, key: tuple[Stream, int]) -> None:
        """Keyed by contract, like the results: one ledger writer sees a contract's notices."""
        for notice in processor.take_notices():
            value = orjson.dumps(notice.to_record())
            sent = await self.notices_topic.send(key=notice.contract.encode(), value=value)
            self._unsent.setdefault(key, []).append(sent)
            self._unstored.setdefault(key, []).append(orjson.loads(value))
            log.info("notice %s stated (as of %s)", notice.id, notice.to_record()["as_of"])

    def _let_caught_up_sources_follow(self, processor: PartitionProcessor, tp: TP) -> None:
        """A source partition with nothing left to read must not hold the engine's clock back
        (an empty maintenance partition would stop anything from settling, or a breach from
        being noticed): it follows the source being read."""
        clock = processor.clocks.get(tp.topic)
        if clock is None:
            return
        for source in processor.clocks:
            if source != tp.topic and self._caught_up(TP(source, tp.partition)):
                processor.follow(clock, source)

    async def _dead_letter(
        self, key: tuple[Stream, int], message: Any, value: bytes | None, reason: str
    ) -> None:
        record = {
            "reason": reason,
            "topic": message.topic,
            "partition": message.partition,
            "offset": message.offset,
            "value": (value or b"").decode("utf-8", errors="replace"),
        }
        sent = await self.deadletter.send(key=message.key, value=orjson.dumps(record))
        self._unsent.setdefault(key, []).append(sent)

    # clocks ----------------------------------------------------------------------------
    async def _advance_idle_partitions(self) -> None:
        """SPEC section 4: a caught-up partition idle for ``idle_timeout`` moves to the wall clock."""
        if self._rebalancing():
            return
        consumer = self.app.consumer
        idle = self.settings.idle_timeout.total_seconds()
        now = time.monotonic()
        for tp in consumer.assignment():
            if tp.topic not in self._stream_of:
                continue
            if now - self._last_input.setdefault(tp, now) < idle or not self._caught_up(tp):
                continue
            wall_us = time.time_ns() // 1000
            await self.app.topic(tp.topic).send(
                partition=tp.partition, value=b"", headers={CLOCK_HEADER: str(wall_us).encode()}
            )
            self._last_input[tp] = now

    def _rebalancing(self) -> bool:
        """A rebalance or table recovery is running: leave the consumer to faust (its offset
        queries share the consumer thread's two method workers with the recovery's own)."""
        app = self.app
        return bool(app.rebalancing or app.in_recovery) or not app.tables.recovery.completed.is_set()

    def _owns(self, tp: TP) -> bool:
        if self._assigned is None:
            self._assigned = frozenset(self.app.consumer.assignment())
        return tp in self._assigned

    def _caught_up(self, tp: TP) -> bool:
        """No backlog: a consumer catching up never uses the wall clock (SPEC section 4).

        Counted from what the agent has processed, not from what faust has read: records read
        but still queued for the agent are a backlog too. (Counting from faust's read offset,
        a maintenance partition whose last record was queued behind hours of uptime records
        followed their clock, and that record then arrived late.)"""
        if not self._owns(tp):
            return False
        highwater = self._highwater(tp)
        return highwater is not None and self._next_to_process(tp) >= highwater

    def _highwater(self, tp: TP) -> int | None:
        highwater = self.app.consumer.highwater(tp)
        if highwater is None:
            highwater = self._end_offsets.get(tp)  # a partition never fetched from: asked directly
        return highwater

    def _next_to_process(self, tp: TP) -> int:
        return next_unread(self._processed.get(tp), self.app.consumer._committed_offset.get(tp))

    async def _learn_end_offsets(self) -> None:
        """The end offset of partitions the fetcher has not reported on (an empty maintenance
        partition, say), so ``_caught_up`` can tell they have nothing to read, and a partition
        never fetched from at all is seen by ``_restart_stalled_partitions``."""
        if self._rebalancing():
            return
        consumer = self.app.consumer
        read = [tp for tp in consumer.assignment() if tp.topic in self._read_topics]
        unknown = [tp for tp in read if consumer.highwater(tp) is None]
        if unknown:
            self._end_offsets.update(await consumer.highwaters(*unknown))

    async def _restart_stalled_partitions(self) -> None:
        """Fetch again from a partition that faust stopped reading with records left in it.

        Seen on the bundled broker after a restart with a backlog, in most runs of the recovery
        tests: an input partition without a committed offset is active in faust and its end
        offset is known, yet none of its records reaches the agent, while the others are read
        to the end (without this, 1 run in 8 of those tests never finished); after a fail-over,
        a `results` partition taken over from the dead worker did the same, so the ledger
        writer is watched too. faust-streaming has
        open reports of partitions that stop being consumed (its issues #175 and #640). Seeking
        the partition to its next unread offset (never before its committed one) and making it
        active again re-reads exactly what was not delivered.
        """
        if self._rebalancing():
            return
        consumer = self.app.consumer
        now = time.monotonic()
        for tp in consumer.assignment():
            if tp.topic not in self._read_topics:
                continue
            highwater = self._highwater(tp)
            position = next_unread(consumer._read_offset.get(tp), consumer._committed_offset.get(tp))
            if highwater is None or position >= highwater:
                self._progress.pop(tp, None)
                continue
            seen = self._progress.get(tp)
            if seen is None or seen[0] != position:
                self._progress[tp] = (position, now, STALL_SECONDS)
                continue
            _, since, patience = seen
            if now - since < patience:
                continue
            log.warning(
                "%s: %d records left at offset %d and none read for %.0f s (active %s, paused %s, "
                "buffered %s); fetching it again from there",
                tp,
                highwater - position,
                position,
                now - seen[1],
                tp in (consumer._active_partitions or ()),
                tp in consumer._paused_partitions,
                tp in consumer._buffered_partitions,
            )
            longer = lengthen_fetch_wait(consumer)
            if longer is not None:
                log.warning("fetching with a wait of up to %d ms from now on", longer)
            consumer._buffered_partitions.discard(tp)
            consumer.resume_partitions({tp})
            await consumer.seek(tp, position)
            consumer._read_offset[tp] = position - 1 if position > 0 else None  # faust keeps the last read
            # a slow broker is not a stall: seeking again and again would throw away each
            # fetch before it answers, so wait longer each time at the same offset
            self._progress[tp] = (position, now, min(patience * 2, STALL_PATIENCE_MAX))

    # output ----------------------------------------------------------------------------
    async def _restate(self) -> None:
        """Send every clause result (on the next publish) and every recent notice again, changed
        or not: the ledger keeps the first version of a notice and upserts results, so this is
        idempotent. A safety net: after a worker was killed, its successor was seen to consume
        `results` and `notices` partitions to the end while some of their records never reached
        the ledger (cause not found); a final result or a notice is never sent again otherwise."""
        self._emitted.clear()
        self._dirty.update(self.processors)
        for processor in list(self.processors.values()):
            for notice in processor.engine.recent_notices():
                value = orjson.dumps(notice.to_record())
                await self.notices_topic.send(key=notice.contract.encode(), value=value)

    async def _publish_results(self) -> None:
        dirty, self._dirty = self._dirty, set()
        changed: list[dict[str, Any]] = []
        for key in dirty:
            processor = self.processors.get(key)
            if processor is None:
                continue
            for result in processor.clause_results():
                record = result.to_record()
                identity = (record["contract"], record["clause"], record["period"])
                if self._emitted.get(identity) != record:
                    self._emitted[identity] = record
                    changed.append(record)
        changed += self._changed_details(dirty)
        for record in changed:
            await self.results_topic.send(key=record["contract"].encode(), value=orjson.dumps(record))
        for key in dirty:
            processor = self.processors.get(key)
            if processor is not None:
                self._set_gauges(processor)
        self._set_lag()

    def _changed_details(self, dirty: set[tuple[Stream, int]]) -> list[dict[str, Any]]:
        """Detail records (for statements) of the latest periods: when their lines changed,
        and otherwise at most once a minute (their clock moves every second)."""
        changed = []
        now = time.monotonic()
        for key in dirty:
            processor = self.processors.get(key)
            if processor is None:
                continue
            for details in processor.engine.clause_details():
                record = details.to_record()
                identity = (record["contract"], record["clause"], record["period"])
                lines = {k: v for k, v in record["details"].items() if k != "as_of"}
                previous = self._details_sent.get(identity)
                if previous is None or previous[0] != (lines, record["final"]) or now - previous[1] >= 60:
                    self._details_sent[identity] = ((lines, record["final"]), now)
                    changed.append(record)
        return changed

    # metrics ---------------------------------------------------------------------------
    def _set_gauges(self, processor: PartitionProcessor) -> None:
        metrics = self.metrics
        for status in processor.clause_status():
            labels = (status.contract, status.clause)
            metrics.attainment.labels(*labels).set(float(status.attained / 100))
            metrics.target.labels(*labels).set(float(status.target_percent / 100))
            metrics.budget_remaining.labels(*labels).set(float(status.budget_remaining))
            metrics.breached.labels(*labels).set(int(status.breached))
            metrics.consecutive.labels(*labels).set(status.consecutive_breaches)
        watermark = processor.engine.watermark
        if watermark is not None:
            metrics.watermark.labels(processor.stream.value, str(processor.partition)).set(watermark / 1e6)

    def _forget_gauges(self, processor: PartitionProcessor) -> None:
        """A revoked partition's clauses are now exported by the worker that owns them."""
        for gauge in (
            self.metrics.attainment,
            self.metrics.target,
            self.metrics.budget_remaining,
            self.metrics.breached,
            self.metrics.consecutive,
        ):
            for contract in processor.engine.contracts.values():
                for clause in contract.clauses:
                    with contextlib.suppress(KeyError):
                        gauge.remove(contract.id, clause.id)
        with contextlib.suppress(KeyError):
            self.metrics.watermark.remove(processor.stream.value, str(processor.partition))

    def _set_lag(self) -> None:
        consumer = self.app.consumer
        for tp in consumer.assignment():
            if tp.topic not in self._stream_of:
                continue
            highwater = consumer.highwater(tp)
            if highwater is None:
                continue
            lag = max(highwater - self._next_to_process(tp), 0)
            self.metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(lag)

    async def _write_ledger(self, stream: faust.StreamT) -> None:
        """Results are keyed by contract, so one writer sees every clause of a contract."""
        async for batch in stream.take(500, within=0.5):
            records = [orjson.loads(value) for value in batch]
            clauses = [record for record in records if record["record"] == "clause"]
            details = [record for record in records if record["record"] == "details"]
            await self._ledger_call(self.ledger.record_clause_results, clauses)  # type: ignore[union-attr]
            await self._ledger_call(self.ledger.record_details, details)  # type: ignore[union-attr]
            await self._ledger_call(self._set_credit_gauges, {record["contract"] for record in clauses})

    async def _ledger_call(self, function: Callable[..., T], *args: Any) -> T:
        """Run a ledger write in a thread; a lost database connection is retried (with backoff)
        until it works, so no result or notice is skipped, and the batch is acknowledged only then."""
        loop = asyncio.get_running_loop()
        wait = LEDGER_RETRY_FIRST_SECONDS
        while True:
            try:
                return await loop.run_in_executor(None, function, *args)
            except DBAPIError as error:
                log.warning("ledger unavailable (%s); retrying in %.1f s", type(error.orig).__name__, wait)
                await asyncio.sleep(wait)
                wait = min(wait * 2, LEDGER_RETRY_MAX_SECONDS)

    def _set_credit_gauges(self, contracts: set[str]) -> None:
        metrics = self.metrics
        for contract in contracts:
            for entry in liabilities(self.ledger.read_results(contract)):  # type: ignore[union-attr]
                labels = (entry.contract, entry.currency)
                metrics.credit_final.labels(*labels).set(float(entry.owed))
                metrics.credit_projected.labels(*labels).set(float(entry.projected))

    async def _record_notices(self, stream: faust.StreamT) -> None:
        """Notices into the ledger (first version of an id wins), then into the webhook outbox."""
        async for batch in stream.take(100, within=NOTICE_BATCH_SECONDS):
            await self._store_notices([orjson.loads(value) for value in batch])

    async def _store_notices(self, notices: list[dict[str, Any]]) -> None:
        rows = []
        for notice in notices:
            contract = self._contracts_by_id.get(notice["contract"])
            if contract is not None:
                rows.append({**notice, "payload": notice_body(notice, contract)})
        if rows:
            stored = await self._ledger_call(self.ledger.record_notices, rows)  # type: ignore[union-attr]
            types = {row["id"]: row["type"] for row in rows}  # a batch may repeat a notice
            for notice_id in stored:
                self.metrics.notices.labels(types[notice_id]).inc()
            if self.outbox is not None:
                await self._ledger_call(self.outbox.enqueue_all, rows)
                if self.deliverer is not None:
                    self.deliverer.wake()


def next_unread(last_read: int | None, committed: int | None) -> int:
    """The first offset of a partition not yet read (handed to the agent, or processed by it,
    as ``last_read`` says). faust sets its "last read"
    offset to the committed one when it seeks there, so a last read at or before the committed
    offset means nothing was read since: start at the committed offset (at worst one record
    is read twice, which the engine recognises by its id; none is skipped)."""
    if last_read is None:
        return committed or 0
    if committed is not None and last_read <= committed:
        return committed
    return last_read + 1


def clock_message(event: Any) -> bool:
    return _clock_header(event.message.headers) is not None


def _clock_header(headers: Any) -> int | None:
    if not headers:
        return None
    items = headers.items() if hasattr(headers, "items") else headers
    for name, value in items:
        if name == CLOCK_HEADER:
            return int(value)
    return None
