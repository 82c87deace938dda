"""The input partitions' clocks: clock messages, the idle rule, and caught-up sources following.

A clock message (its form: ``monitor.stream.control``) is appended to an input partition;
being in the log, it is read after everything before it.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection
from datetime import timedelta

import faust
from faust.types import TP

from monitor.stream.control import carries_clock, clock_message
from monitor.stream.faust_patches import faust_is_rebalancing
from monitor.stream.positions import Positions
from monitor.stream.processor import PartitionProcessor
from monitor.timeutil import format_instant

log = logging.getLogger("slamon.worker")

IDLE_CHECKS_MAX_SECONDS = 5.0  # the idle rule looks at least this often ...
IDLE_CHECKS_MIN_SECONDS = 0.2  # ... and at most this often (else four times per idle timeout)


def is_clock_message(event: faust.EventT) -> bool:
    """Whether a record claims to be a clock message, in whatever form (a forged one too)."""
    return carries_clock(event.message.headers)


class IdleRule:
    """SPEC section 4: an input partition that is caught up and has had no message for
    ``idle_timeout`` gets a clock message with the wall clock."""

    def __init__(
        self, app: faust.App, positions: Positions, input_topics: Collection[str], idle_timeout: timedelta
    ) -> None:
        self._app = app
        self._positions = positions
        self._input_topics = input_topics
        self._idle_s = idle_timeout.total_seconds()
        self._last_input: dict[TP, float] = {}  # monotonic seconds

    @property
    def interval_s(self) -> float:
        """How often ``advance_idle_partitions`` should run."""
        return max(min(self._idle_s / 4, IDLE_CHECKS_MAX_SECONDS), IDLE_CHECKS_MIN_SECONDS)

    def heard(self, tp: TP) -> None:
        """A message (event or clock) of ``tp`` reached the agent now."""
        self._last_input[tp] = time.monotonic()

    async def advance_idle_partitions(self) -> None:
        """Append a clock message to each caught-up input partition idle for ``idle_timeout``."""
        if faust_is_rebalancing(self._app):
            return
        now = time.monotonic()
        for tp in self._app.consumer.assignment():
            if tp.topic not in self._input_topics:
                continue
            if now - self._last_input.setdefault(tp, now) < self._idle_s or not self._positions.caught_up(tp):
                continue
            key, value, headers = clock_message(time.time_ns() // 1000)
            topic = self._app.topic(tp.topic)
            await topic.send(key=key, value=value, partition=tp.partition, headers=headers)
            self._last_input[tp] = now


def let_caught_up_sources_follow(processor: PartitionProcessor, tp: TP, positions: Positions) -> None:
    """A source partition with nothing left to read must not hold the engine's clock back
    (an empty maintenance partition would stop anything from settling, or a breach from
    being noticed): it follows the source being read (``tp``, which just moved the clock).
    "Nothing left" is judged on an end offset fetched no earlier than ``tp`` was
    (``Positions.caught_up_as_of``): a busy partition whose end offset is stale must not jump to
    the clock of a sparse one read ahead of it."""
    clock = processor.clocks.get(tp.topic)
    if clock is None:
        return
    for source in processor.clocks:
        follower = TP(source, tp.partition)
        if source != tp.topic and positions.caught_up_as_of(follower, leader=tp):
            moved_us = processor.follow(clock, source)
            if moved_us > processor.lateness_us:  # the follower's records dated before are late now
                _log_long_follow(follower, positions.next_to_process(follower), tp, clock, moved_us)


def _log_long_follow(follower: TP, end: int, leader: TP, clock_us: int, moved_us: int) -> None:
    """Say so when a partition that had records jumps to another's clock (one that never had a
    record, an empty partition, is what following is for)."""
    if end > 0:
        log.info(
            "%s-%d has nothing left to read at offset %d: follows %s-%d to %s (%s ahead)",
            follower.topic,
            follower.partition,
            end,
            leader.topic,
            leader.partition,
            format_instant(clock_us),
            timedelta(microseconds=moved_us),
        )
