"""How many events a clause received per period, so a statement can say a month had none."""

from __future__ import annotations

from monitor.engine.calendar import ContractCalendar, PeriodKey


class EventTally:
    """Counts applied events by the period their ``at`` falls in (outside every period: not
    counted). On the per-event path an event of the current period costs one comparison and
    one addition: its count is kept apart until another period comes or the counts are read."""

    def __init__(self, calendar: ContractCalendar) -> None:
        self._calendar = calendar
        self._counts: dict[PeriodKey, int] = {}
        self._key: PeriodKey | None = None
        self._lo = 0
        self._hi = 0
        self._current = 0  # events of ``_key`` not yet in ``_counts``

    def add(self, at: int) -> None:
        if self._lo <= at < self._hi:
            self._current += 1
            return
        key = self._calendar.key_of(at)
        if key is None:
            return
        self._flush()
        self._key = key
        self._lo, self._hi = self._calendar.bounds(key)
        self._current = 1

    def _flush(self) -> None:
        if self._key is not None and self._current:
            self._counts[self._key] = self._counts.get(self._key, 0) + self._current
        self._current = 0

    @property
    def counts(self) -> dict[PeriodKey, int]:
        self._flush()
        return self._counts

    @counts.setter
    def counts(self, value: dict[PeriodKey, int]) -> None:
        self._counts = value
        self._current = 0

    def received(self, key: PeriodKey) -> int:
        return self.counts.get(key, 0)
