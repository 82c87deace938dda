"""A clause's months in a row: consecutive breaches and chronic failure, followed by clause id
across amendments (SPEC.md sections 4 and 12)."""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from monitor.contract import MAX_CHRONIC_WINDOW, Clause
from monitor.engine.calendar import PeriodKey


@dataclass(frozen=True)
class MonthStanding:
    """Where a clause stands in one of its months: the breaches in a row up to it, and
    whether it is chronic (``missed`` of the last ``of_last`` months not met)."""

    consecutive_breaches: int
    chronic: bool


def _months_between(earlier: PeriodKey, later: PeriodKey) -> int:
    """How many months lie strictly between two period keys."""
    a = int(earlier[:4]) * 12 + int(earlier[5:7])
    b = int(later[:4]) * 12 + int(later[5:7])
    return b - a - 1


def standings(months: Sequence[tuple[PeriodKey, Clause, bool]]) -> Iterator[MonthStanding]:
    """For ``(period, clause in force, met)`` in period order, one standing per month.

    A month missing from the sequence (the clause did not exist under the terms then in force)
    ends the chain of breaches and counts as not missed for ``chronic``. A contract's periods are
    consecutive months, so a gap between two keys is exactly such months.
    """
    breaches = 0
    missed_recently: deque[bool] = deque()  # newest last; as long as the longest window used
    previous: PeriodKey | None = None
    for period, clause, met in months:
        if previous is not None:
            absent = _months_between(previous, period)
            if absent > 0:
                breaches = 0
                missed_recently.extend([False] * min(absent, MAX_CHRONIC_WINDOW))
        breaches = 0 if met else breaches + 1
        missed_recently.append(not met)
        rule = clause.chronic
        chronic = False
        if rule is not None:
            window = list(missed_recently)[-rule.of_last :]
            chronic = sum(window) >= rule.missed
        while len(missed_recently) > MAX_CHRONIC_WINDOW:
            missed_recently.popleft()
        previous = period
        yield MonthStanding(breaches, chronic)
