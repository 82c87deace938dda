"""Calendar-month periods of one contract, in its zone, clipped to its effective dates."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime

from monitor.contract import Contract
from monitor.timeutil import from_us, to_us

PeriodKey = str  # "YYYY-MM"


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + 1, 1) if month == 12 else (year, month + 1)


class ContractCalendar:
    def __init__(self, contract: Contract, within: tuple[date, date | None] | None = None) -> None:
        """``within`` clips the periods to the days one set of terms is in force (an amendment's
        ``[effective_from, next effective_from)``); ``terms_from`` is then its first day."""
        self._zone = contract.zone
        first, last = within if within is not None else (contract.effective_from, contract.effective_to)
        self.terms_from = first if first != contract.effective_from else None
        self.starts_at = self._local_midnight(first)
        self.ends_at = self._local_midnight(last) if last else None
        self._first = (first.year, first.month)
        self._bounds: dict[PeriodKey, tuple[int, int]] = {}
        self._last_found: tuple[int, int, PeriodKey] = (0, 0, "")  # bounds and key ``key_of`` found last

    def _local_midnight(self, day: date) -> int:
        # fold=0 resolves a midnight that falls in a DST gap with the earlier offset (PEP 495)
        return to_us(datetime(day.year, day.month, day.day, tzinfo=self._zone))

    def _month_bounds(self, year: int, month: int) -> tuple[int, int]:
        start = self._local_midnight(date(year, month, 1))
        end = self._local_midnight(date(*_next_month(year, month), 1))
        start = max(start, self.starts_at)
        if self.ends_at is not None:
            end = min(end, self.ends_at)
        return start, end

    def bounds(self, key: PeriodKey) -> tuple[int, int]:
        """``[start, end)`` of a period, clipped to the effective dates."""
        cached = self._bounds.get(key)
        if cached is None:
            cached = self._bounds[key] = self._month_bounds(int(key[:4]), int(key[5:7]))
        return cached

    def key_of(self, instant: int) -> PeriodKey | None:
        """The period holding an instant, or None outside the effective dates."""
        if instant < self.starts_at or (self.ends_at is not None and instant >= self.ends_at):
            return None
        start, end, key = self._last_found
        if start <= instant < end:  # folds and scans ask about the same month many times
            return key
        local = from_us(instant).astimezone(self._zone)
        key = f"{local.year:04d}-{local.month:02d}"
        self._last_found = (*self.bounds(key), key)
        return key

    def keys_from(self, first: PeriodKey | None = None) -> Iterator[PeriodKey]:
        """Periods in order from ``first`` (default: the first period) to the effective end."""
        year, month = (int(first[:4]), int(first[5:7])) if first else self._first
        while True:
            key = f"{year:04d}-{month:02d}"
            start, end = self.bounds(key)
            if self.ends_at is not None and start >= self.ends_at:
                return
            if end > start:
                yield key
            year, month = _next_month(year, month)

    def started_before(self, clock: int) -> list[PeriodKey]:
        keys = []
        for key in self.keys_from():
            if self.bounds(key)[0] >= clock:
                break
            keys.append(key)
        return keys

    def pieces(self, lo: int, hi: int) -> Iterator[tuple[PeriodKey, int, int]]:
        """Split ``[lo, hi)`` at period boundaries; parts outside every period are dropped."""
        lo = max(lo, self.starts_at)
        if self.ends_at is not None:
            hi = min(hi, self.ends_at)
        while lo < hi:
            key = self.key_of(lo)
            assert key is not None
            end = self.bounds(key)[1]
            yield key, lo, min(end, hi)
            lo = end
