"""Where the worker stands in each partition it reads: owned or not, processed up to where,
and whether anything is left to read."""

from __future__ import annotations

import time
from collections.abc import Collection

import faust
from faust.types import TP

from monitor.stream.faust_patches import committed_offset, end_offset_fetched_ms, faust_is_rebalancing


class Positions:
    """The assignment (cached: faust builds a new set per call), the last offset processed per
    partition, and end offsets of partitions the fetcher has not reported on."""

    def __init__(self, app: faust.App, read_topics: Collection[str]) -> None:
        self._app = app
        self.read_topics = frozenset(read_topics)
        self._assigned: frozenset[TP] | None = None
        self._end_offsets: dict[TP, int] = {}
        self._end_offsets_ms: dict[TP, int] = {}  # when each was asked for (wall-clock ms)
        self._processed: dict[TP, int] = {}

    def reassigned(self) -> None:
        """The assignment changed: ask faust again at the next look."""
        self._assigned = None

    def forget(self, tp: TP) -> None:
        """A revoked partition: its new owner processes it from its committed offset."""
        self._processed.pop(tp, None)

    def processed(self, tp: TP, offset: int) -> None:
        """The agent has processed the record at ``offset`` of ``tp``."""
        self._processed[tp] = offset

    def assigned(self) -> frozenset[TP]:
        if self._assigned is None:
            self._assigned = frozenset(self._app.consumer.assignment())
        return self._assigned

    def owns(self, tp: TP) -> bool:
        return tp in self.assigned()

    def caught_up(self, tp: TP) -> bool:
        """No backlog: a consumer catching up never uses the wall clock (SPEC section 4).

        Counted from what the agent has processed, not from what faust has read: records read
        but still queued for the agent are a backlog too. (Counting from faust's read offset,
        a maintenance partition whose last record was queued behind hours of uptime records
        followed their clock, and that record then arrived late.)"""
        if not self.owns(tp):
            return False
        highwater = self.highwater(tp)
        return highwater is not None and self.next_to_process(tp) >= highwater

    def caught_up_as_of(self, tp: TP, leader: TP) -> bool:
        """Caught up, by an end offset learned no earlier than the last fetch of ``leader``: only
        then may ``tp`` follow the clock that a record of ``leader`` just moved.

        The end offset of a partition comes with each fetch of it, and aiokafka fetches none
        for a partition whose fetched records faust has not taken (nor for one faust paused):
        its end offset can be older than the record just read from ``leader``, and more may
        have been written to it since. Seen on Apache Kafka after a restart behind a backlog: the
        uptime partition looked caught up on an end offset some 8,000 records short when a
        maintenance announcement dated two weeks ahead arrived; it followed that clock, and the
        8,000 records (an outage among them) were refused as late, by that worker and, through
        its journal, by the one taking over."""
        if not self.caught_up(tp):
            return False
        return learned_no_earlier(self.highwater_learned_ms(tp), self.highwater_learned_ms(leader))

    def highwater(self, tp: TP) -> int | None:
        """The partition's end offset, or None while it is not known."""
        highwater: int | None = self._app.consumer.highwater(tp)
        if highwater is None:
            highwater = self._end_offsets.get(tp)  # a partition never fetched from: asked directly
        return highwater

    def highwater_learned_ms(self, tp: TP) -> int | None:
        """When the end offset ``highwater`` gives was learned (wall-clock ms of this process):
        the partition's last fetch, or when it was asked for if never fetched; None if unknown."""
        consumer = self._app.consumer
        if consumer.highwater(tp) is not None:
            return end_offset_fetched_ms(consumer, tp)
        return self._end_offsets_ms.get(tp)

    def expected_next(self, tp: TP) -> int:
        """The offset the agent should be handed next: the one after the last it processed since
        the partition was assigned, else the committed one. Unlike ``next_to_process`` this is
        not conservative: a record past it means the records in between never reached the agent."""
        last = self._processed.get(tp)
        if last is not None:
            return last + 1
        return committed_offset(self._app.consumer, tp) or 0

    def next_to_process(self, tp: TP) -> int:
        return next_unread(self._processed.get(tp), committed_offset(self._app.consumer, tp))

    async def learn_end_offsets(self) -> None:
        """The end offset of partitions the fetcher has not reported on (an empty maintenance
        partition, say), so ``caught_up`` can tell they have nothing to read, and a partition
        never fetched from at all is seen by the stall watchdog."""
        if faust_is_rebalancing(self._app):
            return
        consumer = self._app.consumer
        read = [tp for tp in consumer.assignment() if tp.topic in self.read_topics]
        unknown = [tp for tp in read if consumer.highwater(tp) is None]
        if unknown:
            asked_ms = time.time_ns() // 1_000_000  # before asking: the answer is at least this new
            self._end_offsets.update(await consumer.highwaters(*unknown))
            self._end_offsets_ms.update(dict.fromkeys(unknown, asked_ms))


def learned_no_earlier(learned_ms: int | None, leader_fetched_ms: int | None) -> bool:
    """Whether an end offset learned at ``learned_ms`` is at least as new as the last fetch of the
    leading partition (``leader_fetched_ms``); both wall-clock milliseconds of this process, None
    when not known (then: no)."""
    return learned_ms is not None and leader_fetched_ms is not None and learned_ms >= leader_fetched_ms


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
