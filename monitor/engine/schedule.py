"""A contract's scheduled maintenance windows as UTC intervals, computed per period and cached."""

from __future__ import annotations

from datetime import datetime, timedelta

from monitor.contract import Contract, OneOffWindow, RecurringWindow
from monitor.engine.calendar import ContractCalendar, PeriodKey
from monitor.engine.intervals import Interval, clip, merge
from monitor.timeutil import from_us, span_us, to_us

_CACHED_PERIODS = 4


class MaintenanceSchedule:
    def __init__(self, contract: Contract, calendar: ContractCalendar) -> None:
        self._zone = contract.zone
        self._calendar = calendar
        start = contract.effective_from
        self._dtstart = datetime(start.year, start.month, start.day, tzinfo=self._zone)
        windows = contract.maintenance.windows
        self._recurring = [w for w in windows if isinstance(w, RecurringWindow)]
        self._rules = [(w.rule(self._dtstart), w.duration) for w in self._recurring]
        self._rule_places = [i for i, w in enumerate(windows) if isinstance(w, RecurringWindow)]
        self._one_off_sources = [
            (i, to_us(w.start), to_us(w.end)) for i, w in enumerate(windows) if isinstance(w, OneOffWindow)
        ]
        self._one_off = merge((start, end) for _, start, end in self._one_off_sources)
        self._longest = max((span_us(d) for _, d in self._rules), default=0)
        self._cache: dict[PeriodKey, list[Interval]] = {}

    @property
    def empty(self) -> bool:
        return not self._rules and not self._one_off

    def _rule_occurrences(self, lo: int, hi: int) -> list[tuple[int, int, int]]:
        """(rule number, start, end) of the recurring windows near ``[lo, hi)``, unclipped;
        starts are local wall-clock times."""
        # local bounds, widened by a day: occurrences in the zone compare by wall-clock time
        local_lo = from_us(lo - self._longest).astimezone(self._zone) - timedelta(days=1)
        local_hi = from_us(hi).astimezone(self._zone) + timedelta(days=1)
        found = []
        for number, (rule, duration) in enumerate(self._rules):
            for local in rule.between(local_lo, local_hi, inc=True):
                start = to_us(local.replace(fold=0))  # a gap or overlap: the earlier offset
                found.append((number, start, start + span_us(duration)))
        return found

    def _occurrences(self, lo: int, hi: int) -> list[Interval]:
        """Recurring windows overlapping ``[lo, hi)``."""
        if not self._rules:
            return []
        return clip([(start, end) for _, start, end in self._rule_occurrences(lo, hi)], lo, hi)

    def sources(self, lo: int, hi: int) -> list[tuple[int, int, int, str | None]]:
        """Each scheduled window overlapping ``[lo, hi)`` (and the contract's periods), clipped,
        not merged: (its index in ``maintenance.windows``, start, end, the RRULE occurrence's
        local start in ISO 8601, or None for a one-off window). For explanations."""
        found: list[tuple[int, int, int, str | None]] = [
            (self._rule_places[number], start, end, from_us(start).astimezone(self._zone).isoformat())
            for number, start, end in self._rule_occurrences(lo, hi)
        ]
        found += [(index, start, end, None) for index, start, end in self._one_off_sources]
        inside = self.windows(lo, hi)  # only what the contract's periods hold
        return sorted(
            (index, max(start, lo), min(end, hi), local)
            for index, start, end, local in found
            if start < hi and end > lo and any(a < end and b > start for a, b in inside)
        )

    def _period_windows(self, key: PeriodKey) -> list[Interval]:
        windows = self._cache.get(key)
        if windows is None:
            lo, hi = self._calendar.bounds(key)
            windows = merge(self._occurrences(lo, hi) + clip(self._one_off, lo, hi))
            if len(self._cache) >= _CACHED_PERIODS:
                self._cache.pop(next(iter(self._cache)))
            self._cache[key] = windows
        return windows

    def windows(self, lo: int, hi: int) -> list[Interval]:
        """Merged scheduled windows within ``[lo, hi)`` (only inside the contract's periods)."""
        if self.empty:
            return []
        pieces = list(self._calendar.pieces(lo, hi))
        if len(pieces) == 1:  # one period's merged windows, clipped: still sorted and disjoint
            key, piece_lo, piece_hi = pieces[0]
            return clip(self._period_windows(key), piece_lo, piece_hi)
        found: list[Interval] = []
        for key, piece_lo, piece_hi in pieces:
            found.extend(clip(self._period_windows(key), piece_lo, piece_hi))
        return merge(found)
