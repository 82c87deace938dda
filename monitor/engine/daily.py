"""Each local day's availability of an uptime clause in a period, exact (for statements' charts)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from monitor.engine.intervals import Interval, clip, covered, merge
from monitor.timeutil import from_us, to_us


@dataclass(frozen=True)
class DayAttainment:
    day: date  # local date in the contract's zone
    eligible: int  # µs of the day (within the bounds) outside excluded time
    downtime: int  # µs of counted outages in the day outside excluded time

    @property
    def attained(self) -> Fraction:
        """100 × (eligible − downtime) / eligible; 100 for a day with nothing eligible."""
        if self.eligible <= 0:
            return Fraction(100)
        return Fraction(100 * (self.eligible - self.downtime), self.eligible)


def daily_attainment(
    outages: Iterable[Interval], excluded: Iterable[Interval], zone: ZoneInfo, bounds: Interval
) -> list[DayAttainment]:
    """The local days of ``bounds`` (µs, half-open) in ``zone``, each with its eligible time and
    the counted downtime of ``outages`` (the spans that count) outside ``excluded``. A day is
    its local midnight to the next (23 or 25 hours on DST change days), cut to ``bounds``."""
    start, end = bounds
    down = merge(outages)
    holes = merge(excluded)
    days = []
    day = from_us(start).astimezone(zone).date()
    while True:
        lo = max(_midnight(day, zone), start)
        hi = min(_midnight(day + timedelta(days=1), zone), end)
        if lo >= end:
            break
        eligible = (hi - lo) - covered(holes, lo, hi)
        downtime = sum((b - a) - covered(holes, a, b) for a, b in clip(down, lo, hi))
        days.append(DayAttainment(day, eligible, downtime))
        day += timedelta(days=1)
    return days


def _midnight(day: date, zone: ZoneInfo) -> int:
    # fold=0: a midnight in a DST gap resolves with the earlier offset, as month bounds do
    return to_us(datetime(day.year, day.month, day.day, tzinfo=zone))
