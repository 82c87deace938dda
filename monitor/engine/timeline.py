"""One service's status over time: settled history folded to a point, recent events kept in order."""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Iterator
from dataclasses import dataclass, field

from monitor.engine.intervals import Interval

# (at, event_id, is_down); sorting by event_id makes same-instant ties independent of arrival order
StatusChange = tuple[int, str, bool]
# (start, end, announced_at, event_id)
Announcement = tuple[int, int, int, str]
Segment = tuple[int, int, bool]
# a settled down span: (start, end, id of the event that started it, id of the one that ended
# it); an id is None when the span began before a snapshot that did not keep ids
EndedSpan = tuple[int, int, str | None, str | None]

# Longer than any month, so every user is final, and as long as a period's details may still be
# emitted (the latest two periods): their excluded windows are listed with the announcements' ids
MAINTENANCE_RETENTION_US = 70 * 86400 * 1_000_000


@dataclass
class ServiceTimeline:
    settled: int | None = None
    down_before: bool = False  # status just before ``settled``
    down_since: int | None = None  # start of the down span still open at ``settled``
    down_since_event: str | None = None  # the id of the status event that started it
    pending: list[StatusChange] = field(default_factory=list)  # at >= settled, sorted
    pending_downs: int = 0  # how many of ``pending`` say down: all-up stretches fold for free
    announcements: list[Announcement] = field(default_factory=list)
    ended_spans: list[EndedSpan] = field(default_factory=list)  # since the clauses last took them

    def add_status(self, at: int, event_id: str, is_down: bool) -> None:
        change = (at, event_id, is_down)
        self.pending_downs += is_down
        if not self.pending or change > self.pending[-1]:
            self.pending.append(change)
        else:
            insort(self.pending, change)

    def add_announcement(self, start: int, end: int, announced_at: int, event_id: str) -> None:
        insort(self.announcements, (start, end, announced_at, event_id))

    def maintenance(self, min_notice: int, lo: int, hi: int) -> list[Interval]:
        """Announced maintenance with at least ``min_notice`` notice, overlapping ``[lo, hi)``."""
        return [
            (start, end)
            for start, end, announced_at, _ in self.announcements
            if start < hi and end > lo and start - announced_at >= min_notice
        ]

    def has_down_before(self, hi: int) -> bool:
        if self.down_before:
            return True
        return self.pending_downs > 0 and any(is_down for at, _, is_down in self.pending if at < hi)

    def segments(self, lo: int, hi: int) -> list[Segment]:
        """Status segments covering ``[lo, hi)``, lo being the settled point; empty ones dropped."""
        segments: list[Segment] = []
        start, down = lo, self.down_before
        for at, _, is_down in self.pending:
            if at >= hi:
                break
            if at > start:
                segments.append((start, at, down))
                start = at
            down = is_down
        if hi > start:
            segments.append((start, hi, down))
        return segments

    def decisive_changes(self, hi: int) -> Iterator[StatusChange]:
        """The pending changes before ``hi`` that decide their instant: at one instant the last
        by event id (the largest) decides, as in ``segments`` and ``fold``."""
        pending = self.pending
        for index, change in enumerate(pending):
            if change[0] >= hi:
                return
            if index + 1 == len(pending) or pending[index + 1][0] != change[0]:
                yield change

    def fold(self, upto: int) -> None:
        """Move the settled point to ``upto``: drop folded changes, remember the status and span.

        Changes at one instant act as one: the last decides (as in ``segments``), so a
        zero-length "up" between two "down"s at the same instant never splits an outage.
        """
        pending = self.pending
        if not self.pending_downs and not self.down_before and self.down_since is None:
            del pending[: bisect_left(pending, (upto,))]  # all up, and up before: nothing changes
            self._settle(upto)
            return
        cut = 0
        while cut < len(pending) and pending[cut][0] < upto:
            at = pending[cut][0]
            last = cut
            while last + 1 < len(pending) and pending[last + 1][0] == at:
                last += 1
            is_down = pending[last][2]
            if is_down and not self.down_before:
                self.down_since, self.down_since_event = at, pending[last][1]
            elif not is_down:
                if self.down_since is not None:
                    self.ended_spans.append((self.down_since, at, self.down_since_event, pending[last][1]))
                self.down_since, self.down_since_event = None, None
            self.down_before = is_down
            self.pending_downs -= sum(change[2] for change in pending[cut : last + 1])
            cut = last + 1
        del pending[:cut]
        self._settle(upto)

    def _settle(self, upto: int) -> None:
        self.settled = upto
        if self.announcements and self.announcements[0][1] < upto - MAINTENANCE_RETENTION_US:
            horizon = upto - MAINTENANCE_RETENTION_US
            self.announcements = [a for a in self.announcements if a[1] >= horizon]
