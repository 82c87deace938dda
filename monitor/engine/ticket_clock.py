"""A ticket's counted time (SPEC.md section 10): open time since its first ``opened`` that is
not paused, its deadline, and the folding of settled pauses so memory stays flat.

Pauses are the ticket's ``paused``/``resumed`` events at or after its first ``opened``,
ordered by (``at``, ``event_id``): a ``paused`` while running starts a pause, a ``resumed``
while paused ends it, the others change nothing.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from monitor.engine.business_hours import OpenHours

Toggle = tuple[int, str, bool]  # (at, event_id, is a pause)


@dataclass
class PauseLog:
    """The toggles not folded yet, and what the folded ones left at ``since``: the counted
    time in ``[opened, since)`` and whether the ticket was paused at ``since``."""

    toggles: list[Toggle] = field(default_factory=list)
    since: int | None = None
    counted: int = 0
    paused: bool = False
    reached: int | None = None  # the deadline, once it is before ``since``
    # ids of the folded toggles that paused or resumed the ticket before its deadline
    folded_ids: list[str] = field(default_factory=list)

    def add(self, toggle: Toggle) -> bool:
        """Record a toggle; False if it is already known."""
        index = bisect.bisect_left(self.toggles, toggle)
        if index < len(self.toggles) and self.toggles[index] == toggle:
            return False
        self.toggles.insert(index, toggle)
        return True

    def before(self, instant: int) -> PauseLog:
        """The log as it stood at ``instant`` (at or after ``since``): its later toggles left out."""
        toggles = [t for t in self.toggles if t[0] < instant]
        return PauseLog(toggles, self.since, self.counted, self.paused, self.reached, self.folded_ids)

    def to_data(self) -> list[object]:
        toggles = [list(t) for t in self.toggles]
        return [self.since, self.counted, self.paused, toggles, self.reached, list(self.folded_ids)]

    @classmethod
    def from_data(cls, data: list[Any]) -> PauseLog:
        """From ``to_data``; a log written before the folded ids were kept has none."""
        since, counted, paused, toggles, reached, *ids = data
        return cls(
            [(at, event_id, is_pause) for at, event_id, is_pause in toggles],
            since,
            counted,
            paused,
            reached,
            list(ids[0]) if ids else [],
        )


def _running(opened: int, log: PauseLog | None) -> Iterator[tuple[int, int | None, int]]:
    """The running spans ``[a, b)`` from the folded point on (``b`` None: still running),
    each with the counted time before ``a`` that the folded part contributes."""
    if log is None:
        yield opened, None, 0
        return
    start = log.since if log.since is not None else opened
    paused = log.paused
    run_from: int | None = None if paused else start
    for at, _, is_pause in log.toggles:
        if at < start:
            continue  # before the first `opened`: changes nothing
        if is_pause and run_from is not None:
            yield run_from, at, log.counted
            run_from = None
        elif not is_pause and run_from is None:
            run_from = at
    if run_from is not None:
        yield run_from, None, log.counted


def deadline(opened: int, log: PauseLog | None, within: int, hours: OpenHours) -> int | None:
    """The earliest instant at which counted time reaches ``within``; None while the ticket
    stays paused short of it, or if no open time is left."""
    if log is not None and log.reached is not None:
        return log.reached
    remaining: int | None = None
    for a, b, before in _running(opened, log):
        if remaining is None:
            remaining = within - before
        if b is None:
            return hours.advance(a, remaining)
        counted = hours.open_between(a, b)
        if counted >= remaining:
            return hours.advance(a, remaining)
        remaining -= counted
    return None


def counted_until(opened: int, log: PauseLog | None, until: int, hours: OpenHours) -> int:
    """Counted time in ``[opened, until)``; ``until`` is at or after the folded point."""
    total: int | None = None
    for a, b, before in _running(opened, log):
        if total is None:
            total = before
        if a >= until:
            break
        total += hours.open_between(a, until if b is None else min(b, until))
    return total if total is not None else (log.counted if log is not None else 0)


def decisive_toggles(opened: int, log: PauseLog | None, until: int | None) -> list[str]:
    """Ids of the ``paused``/``resumed`` events that paused or resumed the ticket before
    ``until`` (its deadline; None: no bound), in time order: the events its counted time and
    deadline rest on. The folded ones come first, as ``fold`` kept them."""
    if log is None:
        return []
    ids = list(log.folded_ids)
    start = log.since if log.since is not None else opened
    paused = log.paused
    for at, event_id, is_pause in log.toggles:
        if until is not None and at >= until:
            break
        if at >= start and is_pause != paused:
            ids.append(event_id)
            paused = is_pause
    return ids


def fold(opened: int, log: PauseLog, upto: int, within: int, hours: OpenHours) -> None:
    """Fold the toggles before ``upto`` (at or after ``opened``) into the log's summary; a
    deadline already passed is kept, since the toggles that led to it are dropped, and so are
    the ids of the toggles before it that paused or resumed the ticket."""
    if log.since is not None and upto <= log.since:
        return
    if log.reached is None:
        due = deadline(opened, log, within, hours)
        if due is not None and due < upto:
            log.reached = due
    log.folded_ids = decisive_toggles(opened, log, upto if log.reached is None else min(upto, log.reached))
    counted = counted_until(opened, log, upto, hours)
    start = log.since if log.since is not None else opened
    paused = log.paused
    for at, _, is_pause in log.toggles:
        if at >= upto:
            break
        if at >= start:
            paused = is_pause
    log.toggles = [t for t in log.toggles if t[0] >= upto]
    log.since, log.counted, log.paused = upto, counted, paused
