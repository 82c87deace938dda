"""How many events a clause received per period, so a statement can say a month had none."""

from __future__ import annotations

from monitor.engine.calendar import ContractCalendar, PeriodKey


class EventTally:
    """Counts applied events by the period their ``at`` falls in (outside every period: not
    counted). Cheap on the per-event path: the current period's bounds are remembered."""

    def __init__(self, calendar: ContractCalendar) -> None:
        self._calendar = calendar
        self.counts: dict[PeriodKey, int] = {}
        self._key: PeriodKey | None = None
        self._lo = 0
        self._hi = 0

    def add(self, at: int) -> None:
        if not self._lo <= at < self._hi:
            key = self._calendar.key_of(at)
            if key is None:
                return
            self._key = key
            self._lo, self._hi = self._calendar.bounds(key)
        key = self._key
        assert key is not None
        self.counts[key] = self.counts.get(key, 0) + 1

    def received(self, key: PeriodKey) -> int:
        return self.counts.get(key, 0)
