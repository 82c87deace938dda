"""Open time of a business calendar as instants (SPEC.md section 10).

For every local date that is not a closed day, each range ``[start, end)`` of its weekday
is resolved to instants in the contract's zone as in section 4: a wall-clock time in a DST
gap or overlap resolves with ``fold=0`` (PEP 495), ``24:00`` is the next local midnight.
Open time is the union of those intervals. ``AlwaysOpen`` stands for "no calendar".
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from monitor.calendars import BusinessCalendar, DayRange
from monitor.engine.intervals import Interval, merge
from monitor.timeutil import from_us, to_us

WEEK_US = 7 * 86400 * 1_000_000
SEARCH_WEEKS = 520  # a deadline further than ten years of calendar time counts as "no open time left"
MAX_CACHED_DAYS = 4096


class OpenHours(Protocol):
    """Open time: how much of a span is open, and where a number of open microseconds ends."""

    def open_between(self, lo: int, hi: int) -> int:
        """Microseconds of open time in ``[lo, hi)``."""
        ...

    def advance(self, start: int, amount: int) -> int | None:
        """The earliest instant ``t >= start`` with ``amount`` µs of open time in ``[start, t)``;
        None if there is not that much open time left."""
        ...


class AlwaysOpen:
    """Every instant is open: counted time is elapsed time."""

    def open_between(self, lo: int, hi: int) -> int:
        return max(hi - lo, 0)

    def advance(self, start: int, amount: int) -> int | None:
        return start + amount


class CalendarHours:
    """The open time of one named calendar in one zone."""

    def __init__(self, calendar: BusinessCalendar, zone: ZoneInfo) -> None:
        self._calendar = calendar
        self._zone = zone
        self._week = calendar.week()
        self._days: dict[date, tuple[Interval, ...]] = {}
        self._closed: dict[int, dict[date, str]] = {}

    # closed days -------------------------------------------------------------------
    def closed_days(self, year: int) -> dict[date, str]:
        """The calendar's closed days of a local year, with their names."""
        found = self._closed.get(year)
        if found is None:
            found = self._closed[year] = self._calendar.holidays.closed_days(year)
        return found

    def closed_between(self, lo: int, hi: int) -> list[tuple[date, str]]:
        """Closed days whose local date falls in ``[lo, hi)``, in date order."""
        first, last = self._local_date(lo), self._local_date(hi - 1)
        found = []
        for year in range(first.year, last.year + 1):
            found += [(day, name) for day, name in self.closed_days(year).items() if first <= day <= last]
        return sorted(found)

    # open intervals ----------------------------------------------------------------
    def _local_date(self, instant: int) -> date:
        return from_us(instant).astimezone(self._zone).date()

    def _instant(self, day: date, minutes: int) -> int:
        if minutes == 24 * 60:
            day, minutes = day + timedelta(days=1), 0
        hour, minute = divmod(minutes, 60)
        return to_us(datetime(day.year, day.month, day.day, hour, minute, tzinfo=self._zone))

    def _day(self, day: date) -> tuple[Interval, ...]:
        cached = self._days.get(day)
        if cached is None:
            if len(self._days) >= MAX_CACHED_DAYS:
                self._days.clear()
            cached = self._days[day] = self._resolve(day, self._week[day.weekday()])
        return cached

    def _resolve(self, day: date, ranges: tuple[DayRange, ...]) -> tuple[Interval, ...]:
        if not ranges or day in self.closed_days(day.year):
            return ()
        resolved = [(self._instant(day, start), self._instant(day, end)) for start, end in ranges]
        # fold=0 in a DST gap can make a range empty or make two ranges overlap: keep the union
        return tuple(merge((a, b) for a, b in resolved if b > a))

    def intervals(self, lo: int, hi: int) -> list[Interval]:
        """The open intervals clipped to ``[lo, hi)``, merged and in order."""
        if hi <= lo:
            return []
        day, last = self._local_date(lo) - timedelta(days=1), self._local_date(hi)
        found: list[Interval] = []
        while day <= last:
            found += [(max(a, lo), min(b, hi)) for a, b in self._day(day) if a < hi and b > lo]
            day += timedelta(days=1)
        return merge(found)

    def open_between(self, lo: int, hi: int) -> int:
        return sum(b - a for a, b in self.intervals(lo, hi))

    def advance(self, start: int, amount: int) -> int | None:
        if amount <= 0:
            return start
        for lo, hi in _weeks(start):
            for a, b in self.intervals(lo, hi):
                if b - a >= amount:
                    return a + amount
                amount -= b - a
        return None


def _weeks(start: int) -> Iterator[tuple[int, int]]:
    for week in range(SEARCH_WEEKS):
        yield start + week * WEEK_US, start + (week + 1) * WEEK_US
