"""Every place the worker patches faust-streaming or reaches into its (or aiokafka's) private state.

Written against faust-streaming 0.15.3 (``requirements.lock``) and aiokafka 0.14. Each function
names the faust version or issue it works around; nothing else in ``monitor/`` touches a private
attribute of faust or aiokafka, so an upgrade has one module to re-check.

- ``fix_faust_recovery_seek_order``: a race in faust-streaming 0.15.3's recovery (patch, opt-in).
- ``fix_seek_to_committed_without_commit``: aiokafka 0.14 does not move a partition that has no
  committed offset when asked to seek to it (aiokafka issue #1003), so faust skips records after
  a takeover (patch, opt-in).
- ``fix_fetch_of_paused_partitions``: faust-streaming 0.15.3 hands aiokafka its live set of active
  partitions, which can empty while the fetch waits; aiokafka 0.14 then returns every partition's
  records, and faust drops those of paused partitions after aiokafka has moved past them (patch).
- ``shorten_fetch_wait`` / ``lengthen_fetch_wait``: faust-streaming 0.15 hard-codes its fetch
  wait (patch for the bundled broker, then adjusted on a running consumer).
- ``committed_offset``, ``read_offset``, ``fetch_again_from``, ``describe_partition``: faust's
  consumer keeps the offsets the worker needs (and the partition sets it must fix) only in
  private attributes; used to tell "caught up" and to restart a partition faust stopped reading
  (faust-streaming issues #175 and #640).
- ``end_offset_fetched_ms``: when a partition's end offset was last fetched (aiokafka has it;
  faust-streaming 0.15.3 does not pass it on), so that a stale one is not taken for "caught up".
- ``faust_is_rebalancing``: whether faust's table recovery still owns the consumer.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import Callable, Collection
from typing import Any

from aiokafka.errors import ConsumerStoppedError
from faust.exceptions import ConsumerNotStarted
from faust.types import TP

log = logging.getLogger("slamon.worker")

DEV_BROKER_FETCH_WAIT_MS = 100
FAUST_FETCH_WAIT_MS = 1500  # what faust-streaming asks for: the longest wait we ever use

# what the patches below installed (the patched method; the fetch wait it asks for), so that
# applying a patch again changes nothing (or only the wait)
_patched: dict[str, Any] = {}


def fix_faust_recovery_seek_order() -> bool:
    """Seek the stream partitions to their committed offsets BEFORE resuming them after recovery.

    faust-streaming 0.15.3's ``Recovery.on_recovery_completed`` resumes the input partitions and
    only then seeks them to the committed offsets. Records aiokafka prefetched during the recovery
    are handed to the agents in between, and processed; the seek then rewinds to the committed
    offset and they are processed again by the same worker. Measured on the bundled broker after a
    SIGKILL with uncommitted input: without this fix, in 3 of 21 restarts of a spike loop and in 3
    of 6 runs of tests/test_faust_on_dev_broker.py, uncommitted events were processed three times in
    all (the dead worker, then twice by the new one); with it, never more than twice (14 restarts
    of the same loop, plus the test runs since). Table updates stay
    consistent either way (each processing is applied once; no lost update was seen), so it only
    matters for the number of duplicate outputs.

    This replaces that one method with the same code in the corrected order. It checks the
    installed faust still has the faulty order and does nothing otherwise; returns whether the
    fix is active. Idempotent.
    """
    from faust.tables.recovery import Recovery

    if Recovery.on_recovery_completed is _patched.get("on_recovery_completed"):
        return True
    source = inspect.getsource(Recovery.on_recovery_completed)
    if not (0 <= source.find("consumer.resume_partitions(") < source.find("consumer.perform_seek()")):
        return False

    async def on_recovery_completed(self: Any, generation_id: int = 0) -> None:
        consumer = self.app.consumer
        self.log.info("Restore complete!")
        await self.app.on_rebalance_complete.send()
        self._set_recovery_ended()
        callback_coros = [
            asyncio.ensure_future(
                table.on_recovery_completed(self.actives_for_table[table], self.standbys_for_table[table])
            )
            for table in self.tables.values()
        ]
        if callback_coros:
            await asyncio.wait(callback_coros)
        assignment = consumer.assignment()
        if self.app.consumer_generation_id != generation_id:
            self.log.warning(
                f"Recovery rebalancing again app id {self.app.consumer_generation_id} param {generation_id}"
            )
            return
        if assignment:  # the fix: seek first (which drops prefetched records), then resume
            self.log.info("Seek stream partitions to committed offsets, then resume them.")
            await self._wait(consumer.perform_seek(), timeout=self.app.conf.broker_request_timeout)
        consumer.resume_partitions({tp for tp in assignment if not self._is_changelog_tp(tp)})
        self.completed.set()
        self.app.flow_control.resume()
        consumer.resume_flow()
        await self.app._fetcher.maybe_start()
        self.tables.on_actives_ready()
        if not self.app.assignor.assigned_standbys():
            self.tables.on_standbys_ready()
        self.app.on_rebalance_end()
        self.log.info("Worker ready")

    _patched["on_recovery_completed"] = on_recovery_completed
    Recovery.on_recovery_completed = on_recovery_completed  # type: ignore[method-assign]  # the patch
    return True


def fix_seek_to_committed_without_commit() -> bool:
    """Make faust's "seek to the committed offsets" also move partitions that have none.

    faust-streaming 0.15.3 seeks its input partitions to their committed offsets after every
    rebalance (``Consumer.perform_seek``) and forgets which offsets it read, so that whatever was
    fetched but not processed is read again. aiokafka 0.14's ``seek_to_committed`` only seeks a
    partition whose committed offset is above 0 (aiokafka issue #1003): a partition nobody has
    committed stays where the fetcher was. faust, meanwhile, drops a fetched record without
    handing it to an agent when a rebalance suspends its flow, and aiokafka prefetches. Measured
    on Apache Kafka with a worker killed before its first commit: the worker taking over was
    handed the uptime partition from offset 8,613 on, so an outage at offsets 4,995-5,086 was
    never counted (3 of 4 runs of the webhook fail-over test).

    The patched method seeks a partition committed at 0 to 0, and one never committed to where
    ``consumer_auto_offset_reset`` says a new group starts (its beginning, for the worker).
    Table changelogs are left alone. Returns whether the fix is active (False if aiokafka seeks
    such partitions itself).
    Idempotent.
    """
    import aiokafka.consumer.consumer as aiokafka_consumer
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    if AIOKafkaConsumerThread.seek_to_committed is _patched.get("seek_to_committed"):
        return True
    if "offset > 0" not in inspect.getsource(aiokafka_consumer.AIOKafkaConsumer.seek_to_committed):
        return False

    async def seek_to_committed(self: Any) -> Any:
        consumer = self._ensure_consumer()
        reset = self.app.conf.consumer_auto_offset_reset
        changelogs = set(self.app.tables.changelog_topics)
        return await self.call_thread(seek_every_partition_to_committed, consumer, reset, changelogs)

    _patched["seek_to_committed"] = seek_to_committed
    AIOKafkaConsumerThread.seek_to_committed = seek_to_committed  # type: ignore[method-assign]  # the patch
    return True


async def seek_every_partition_to_committed(consumer: Any, reset: str, changelogs: set[str]) -> Any:
    """aiokafka's ``seek_to_committed``, then the partitions it leaves alone; table changelogs
    are left to faust's recovery, which seeks them itself."""
    committed = await consumer.seek_to_committed()
    inputs = {tp: offset for tp, offset in committed.items() if tp.topic not in changelogs}
    for tp, offset in inputs.items():
        if offset == 0:
            consumer.seek(tp, 0)
    never_committed = [tp for tp, offset in inputs.items() if offset is None]
    log.info(
        "input partitions start at their committed offsets %s; never committed: %s",
        {f"{tp.topic}-{tp.partition}": offset for tp, offset in sorted(inputs.items()) if offset is not None},
        sorted(f"{tp.topic}-{tp.partition}" for tp in never_committed),
    )
    if never_committed and reset == "earliest":
        await consumer.seek_to_beginning(*never_committed)
    elif never_committed and reset == "latest":
        await consumer.seek_to_end(*never_committed)
    return committed


def fix_fetch_of_paused_partitions() -> bool:
    """Never let faust drop records that aiokafka has handed out: they are read again instead.

    faust-streaming 0.15.3's fetcher passes its live set of active partitions to aiokafka on the
    consumer thread (``AIOKafkaConsumerThread._fetch_records``), and its ``getmany`` drops, without
    a word, any record of a partition no longer active (or buffered) when the fetch returns.
    aiokafka 0.14's ``fetched_records`` reads an empty set as "every partition". At the end of a
    recovery faust pauses the changelogs while the inputs are still paused: the set empties, a
    fetch in flight returns the inputs' records, faust drops them, and aiokafka's position is past
    them. When that happens after the recovery has sought the inputs to their committed offsets,
    those records are never read. Seen on the bundled broker in the burst test (about 1 run in
    10 under load): a restarted worker got `requests` partition 3 from offset 5,112 on, its
    committed offset being 197, and closed a month without the outage in between.

    The patched method fetches for a copy of the set (nothing when it is empty), and rewinds each
    partition faust would drop to the first record returned, on the consumer thread, so that no
    seek can come in between. Returns whether the fix is active (False if faust no longer has the
    method). Idempotent."""
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    if AIOKafkaConsumerThread._fetch_records is _patched.get("_fetch_records"):
        return True
    source = inspect.getsource(AIOKafkaConsumerThread._fetch_records)
    if "fetched_records(" not in source or "active_partitions" not in source:
        return False
    original = AIOKafkaConsumerThread._fetch_records

    async def _fetch_records(
        self: Any,
        consumer: Any,
        active_partitions: Any,
        timeout: float | None = None,
        max_records: int | None = None,
    ) -> Any:
        faust_consumer = self.consumer
        if active_partitions is None or not faust_consumer.flow_active:
            return await original(self, consumer, active_partitions, timeout=timeout, max_records=max_records)

        def delivered(tp: TP) -> bool:  # faust's getmany filter
            return tp in faust_consumer._active_partitions or tp in faust_consumer._buffered_partitions

        return await fetch_records_faust_delivers(
            consumer, active_partitions, delivered, timeout, max_records
        )

    _patched["_fetch_records"] = _fetch_records
    AIOKafkaConsumerThread._fetch_records = _fetch_records  # type: ignore[method-assign]  # the patch
    return True


async def fetch_records_faust_delivers(
    consumer: Any,
    partitions: Collection[TP],
    delivered: Callable[[TP], bool],
    timeout: float | None = None,
    max_records: int | None = None,
) -> dict[TP, list[Any]]:
    """aiokafka's fetched records of ``partitions`` (a copy: none when it is empty), without those
    of partitions that ``delivered`` says faust will drop; each of those is sought back to its
    first record returned (if still assigned), so that it is read again."""
    asked = set(partitions)
    if not asked:
        return {}
    fetcher = consumer._fetcher
    if consumer._closed or fetcher._closed:
        raise ConsumerStoppedError()
    with fetcher._subscriptions.fetch_context():
        records: dict[TP, list[Any]] = await fetcher.fetched_records(
            asked, timeout=timeout, max_records=max_records
        )
    for tp in [tp for tp in records if not delivered(tp)]:
        first = records.pop(tp)[0].offset
        if tp in consumer.assignment():
            consumer.seek(tp, first)
            log.info("%s: fetched while faust was not reading it; read again from offset %d", tp, first)
    return records


def shorten_fetch_wait(milliseconds: int = DEV_BROKER_FETCH_WAIT_MS) -> None:
    """Make faust's consumer ask for at most ``milliseconds`` of fetch long-polling.

    faust-streaming 0.15 hard-codes ``fetch_max_wait_ms=1500`` for its worker consumer. Apache
    Kafka answers a fetch as soon as data arrives, so that costs nothing there; the bundled
    broker holds the fetch for the whole wait, so every hop through a topic (input, then
    ``sla.notices``) waited up to 1.5 s. Measured with bench/webhook_latency.py at 1,000
    events/s: event-to-webhook p50 2.6 s, p99 7.7 s with 1500 ms; p50 0.48 s, p99 0.82 s with
    100 ms. Only for the bundled broker. Idempotent.
    """
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    first_time = "fetch_wait_ms" not in _patched
    _patched["fetch_wait_ms"] = milliseconds
    if not first_time:
        return
    create = AIOKafkaConsumerThread._create_worker_consumer

    def _create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = create(self, transport)
        consumer._fetch_max_wait_ms = _patched["fetch_wait_ms"]
        return consumer

    AIOKafkaConsumerThread._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]


def lengthen_fetch_wait(consumer: Any) -> int | None:
    """Quadruple the fetch wait of a running faust consumer (up to faust's own 1,500 ms); the new
    wait, or None if it was already that long.

    The bundled broker answers a fetch with nothing when reading the records takes longer than
    the wait, and reading from a partition grows slower as the partition grows: in the soak
    bench a 100 ms wait read nothing more after about 160,000 records in one partition, for
    ever (a probe with 500 ms got 11,509 records in 1 s from the same offset). A stalled
    partition therefore asks for longer waits, at the cost of latency. Reaches through faust
    0.15.3's consumer thread to aiokafka's fetcher, which has no public setter.
    """
    fetcher = consumer._thread._ensure_consumer()._fetcher
    current: int = fetcher._fetch_max_wait_ms
    if current >= FAUST_FETCH_WAIT_MS:
        return None
    fetcher._fetch_max_wait_ms = min(current * 4, FAUST_FETCH_WAIT_MS)
    return fetcher._fetch_max_wait_ms


# faust-streaming 0.15.3's Consumer keeps the offsets below only in private attributes (the
# "last read" offset is the last one handed to an agent; both are None before any is known).


def committed_offset(consumer: Any, tp: TP) -> int | None:
    """The partition's committed offset as faust last learned it (``Consumer._committed_offset``)."""
    offset: int | None = consumer._committed_offset.get(tp)
    return offset


def read_offset(consumer: Any, tp: TP) -> int | None:
    """The last offset faust handed to an agent (``Consumer._read_offset``)."""
    offset: int | None = consumer._read_offset.get(tp)
    return offset


def end_offset_fetched_ms(consumer: Any, tp: TP) -> int | None:
    """When faust's consumer last learned the end offset of ``tp`` (its ``highwater``) from a fetch
    response: aiokafka 0.14's ``last_poll_timestamp``, wall-clock milliseconds; None if never, or if
    ``tp`` is not assigned (any more). faust-streaming 0.15.3 keeps the aiokafka consumer on its
    consumer thread's private ``_thread``; aiokafka sets the stamp on that thread (an int read here
    under the GIL, as faust reads the highwater itself)."""
    try:
        stamp: int | None = consumer._thread._ensure_consumer().last_poll_timestamp(tp)
    except (AssertionError, KeyError, ConsumerNotStarted):  # aiokafka asserts it is assigned
        return None
    return stamp


def describe_partition(consumer: Any, tp: TP) -> str:
    """Where faust's private partition sets have a partition, for a log line."""
    return (
        f"active {tp in (consumer._active_partitions or ())}, paused {tp in consumer._paused_partitions}, "
        f"buffered {tp in consumer._buffered_partitions}"
    )


async def fetch_again_from(consumer: Any, tp: TP, position: int) -> None:
    """Make faust read ``tp`` again from ``position``: a partition faust-streaming 0.15.3 stopped
    reading with records left in it (its open issues #175 and #640 report partitions that stop
    being consumed). It is taken out of faust's "buffered" set (which holds fetching back),
    resumed, sought to ``position``, and faust's "last read" offset is set to just before it,
    as faust keeps it (else the records from ``position`` on would look read already).

    The seek runs on faust's consumer thread (``seek_wait``): faust 0.15.3's ``Consumer.seek``
    calls aiokafka from the calling thread, whose fetcher may be handing out records on the
    consumer thread at that moment. (A ``KeyError`` in aiokafka's ``fetched_records`` that
    stopped faust's fetcher was seen on an overloaded machine, where the watchdog ran this
    often; this cross-thread seek is the likely cause.)"""
    consumer._buffered_partitions.discard(tp)
    consumer.resume_partitions({tp})
    await consumer.seek_wait({tp: position})
    consumer._read_offset[tp] = position - 1 if position > 0 else None


def faust_is_rebalancing(app: Any) -> bool:
    """A rebalance or table recovery is running: leave the consumer to faust (its offset
    queries share the consumer thread's two method workers with the recovery's own). faust
    0.15.3 says a recovery is over only through ``app.tables.recovery.completed``."""
    return bool(app.rebalancing or app.in_recovery) or not app.tables.recovery.completed.is_set()
