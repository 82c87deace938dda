"""The stall watchdog: fetch again from a partition faust stopped reading with records left."""

from __future__ import annotations

import logging
import time

import faust
from faust.types import TP

from monitor.stream.faust_patches import (
    committed_offset,
    describe_partition,
    faust_is_rebalancing,
    fetch_again_from,
    lengthen_fetch_wait,
    read_offset,
)
from monitor.stream.positions import Positions, next_unread

log = logging.getLogger("slamon.worker")

CHECK_SECONDS = 5.0  # how often the watchdog looks
STALL_SECONDS = 10.0  # a partition with records left and no read for this long is stalled
STALL_PATIENCE_MAX = 300.0  # a partition fetched again waits twice as long each time, up to this


class StallWatchdog:
    """Watches every partition the worker reads (``positions.read_topics``: the inputs, and
    the ``results`` and ``notices`` partitions the ledger writers read).

    Seen on the bundled broker after a restart with a backlog, in most runs of the recovery
    tests: an input partition without a committed offset is active in faust and its end
    offset is known, yet none of its records reaches the agent, while the others are read
    to the end (without this, 1 run in 8 of those tests never finished); after a fail-over,
    a `results` partition taken over from the dead worker did the same, so the ledger
    writer is watched too. faust-streaming has open reports of partitions that stop being
    consumed (its issues #175 and #640). Needed on Apache Kafka too: without it, the burst
    test on Kafka hung in 2 of 4 runs, `results` partitions left with records unread for
    minutes after a restart with a backlog. Seeking the partition to its next unread offset
    (never before its committed one) and making it active again re-reads exactly what was
    not delivered.
    """

    def __init__(self, app: faust.App, positions: Positions, lengthen_fetch_wait: bool = False) -> None:
        """``lengthen_fetch_wait``: at each stall, also wait longer for fetches (the bundled
        broker answers nothing when reading takes longer than the wait; Kafka needs no such)."""
        self._app = app
        self._positions = positions
        self._lengthen_fetch_wait = lengthen_fetch_wait
        # next offset to read, since when (monotonic s), and how long to wait for it before fetching again
        self._progress: dict[TP, tuple[int, float, float]] = {}

    async def restart_stalled_partitions(self) -> None:
        """The timer: fetch again from each partition whose read offset has not moved for its
        patience (``STALL_SECONDS``, doubled at each stall at the same offset)."""
        if faust_is_rebalancing(self._app):
            return
        consumer = self._app.consumer
        now = time.monotonic()
        for tp in consumer.assignment():
            if tp.topic not in self._positions.read_topics:
                continue
            highwater = self._positions.highwater(tp)
            position = next_unread(read_offset(consumer, tp), committed_offset(consumer, tp))
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
                "%s: %d records left at offset %d and none read for %.0f s (%s); "
                "fetching it again from there",
                tp,
                highwater - position,
                position,
                now - since,
                describe_partition(consumer, tp),
            )
            if self._lengthen_fetch_wait:
                longer = lengthen_fetch_wait(consumer)
                if longer is not None:
                    log.warning("fetching with a wait of up to %d ms from now on", longer)
            await fetch_again_from(consumer, tp, position)
            # a slow broker is not a stall: seeking again and again would throw away each
            # fetch before it answers, so wait longer each time at the same offset
            self._progress[tp] = (position, now, min(patience * 2, STALL_PATIENCE_MAX))
