"""Request-based availability clause (SPEC.md section 11): intervals of request counts.

A service's request counts are kept per epoch minute (``RequestLog``) only until every
clause of the service has folded them: an interval whose end is at or before the settled
point can no longer change, so it is folded into its period's totals (eligible intervals,
counted down intervals, the exact sum of error rates, requests and failures) and into the
down run still open. Memory grows with periods and the unsettled minutes, never with the
number of events.

Only intervals with requests are visited one by one: an interval without data has no
failures, is never down and adds nothing but its eligibility, which is counted per period
arithmetically (intervals in the period less the excluded ones).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from math import gcd
from typing import Any

from monitor.contract import AvailabilityClause, Contract
from monitor.engine.calendar import ContractCalendar, PeriodKey
from monitor.engine.exclusion import ServiceExclusions
from monitor.engine.intervals import Interval
from monitor.engine.notices import NoticeType, response_margin
from monitor.timeutil import span_us

MINUTE_US = 60_000_000
RUN_HISTORY_US = 70 * 86400 * 1_000_000  # down-run lines kept for statements: two months and more
# (run start, run end, worst failed, worst total, down intervals of the run in the period, ids
# of the requests events of its first interval, of its last interval): for downtime_intervals
RunLine = tuple[int, int, int, int, int, tuple[str, ...], tuple[str, ...]]


class RequestLog:
    """Per-minute request counts of one service for the minutes not folded yet, and, when
    ``keep_ids`` (a downtime_intervals clause names the events at its down runs' edges), the
    ids of their events. Counts are plain integers in two maps (requests of every minute
    with an event, failures of the minutes with some): nothing per event for the garbage
    collector to track."""

    __slots__ = ("dropped_to", "failures", "ids", "keep_ids", "more_ids", "totals")

    def __init__(self) -> None:
        self.totals: dict[int, int] = {}  # epoch minute -> requests (every minute with an event)
        self.failures: dict[int, int] = {}  # epoch minute -> failed requests (only if some)
        self.keep_ids = False
        self.ids: dict[int, str] = {}  # epoch minute -> id of its first event
        self.more_ids: dict[int, list[str]] = {}  # epoch minute -> ids of its later events, if any
        self.dropped_to: int | None = None  # no minute before it is held (None: not known)

    def add(self, minute: int, total: int, failed: int, event_id: str | None = None) -> None:
        totals = self.totals
        totals[minute] = totals.get(minute, 0) + total
        if failed:
            failures = self.failures
            failures[minute] = failures.get(minute, 0) + failed
        if self.keep_ids and event_id is not None:
            if minute in self.ids:
                self.more_ids.setdefault(minute, []).append(event_id)
            else:
                self.ids[minute] = event_id

    def counts(self) -> list[tuple[int, int, int]]:
        """``(minute, total, failed)`` of every minute held, in the order they came."""
        failures = self.failures
        return [(minute, total, failures.get(minute, 0)) for minute, total in self.totals.items()]

    def minute_ids(self, minute: int) -> list[str]:
        """The ids of a minute's events, in the order they came."""
        first = self.ids.get(minute)
        return [] if first is None else [first, *self.more_ids.get(minute, ())]

    def restore_ids(self, ids: dict[int, list[str]]) -> None:
        """Set the ids of the minutes' events (each minute's in the order they came)."""
        self.ids = {minute: listed[0] for minute, listed in ids.items() if listed}
        self.more_ids = {minute: listed[1:] for minute, listed in ids.items() if len(listed) > 1}

    def ids_of(self, index: int, minutes_per_interval: int) -> tuple[str, ...]:
        """The ids of the events of an interval (by index), sorted."""
        first = index * minutes_per_interval
        minutes = range(first, first + minutes_per_interval)
        return tuple(sorted(i for minute in minutes for i in self.minute_ids(minute)))

    def intervals(self, lo: int, hi: int, minutes_per_interval: int) -> Iterator[tuple[int, int, int]]:
        """``(interval index, total, failed)`` of the intervals in ``[lo, hi)`` (interval
        indices) that hold requests, in order."""
        first, last = lo * minutes_per_interval, hi * minutes_per_interval
        totals, failures = self.totals, self.failures
        walk = last - first <= len(totals)  # a fold of the last hour or so: walk its minutes
        if walk and minutes_per_interval == 1:  # an interval is a minute
            for minute in range(first, last):
                total = totals.get(minute)
                if total:
                    yield minute, total, failures.get(minute, 0)
            return
        if walk:
            found = [m for m in range(first, last) if m in totals]
        else:
            found = sorted(m for m in totals if first <= m < last)
        current, total, failed = -1, 0, 0
        for minute in found:
            index = minute // minutes_per_interval
            if index != current:
                if current >= 0 and total:
                    yield current, total, failed
                current, total, failed = index, 0, 0
            total += totals[minute]
            failed += failures.get(minute, 0)
        if current >= 0 and total:
            yield current, total, failed

    def drop_before(self, minute: int) -> None:
        """Forget the minutes before ``minute``. The caller promises that no minute before it
        is added later (they are folded: an event for one would be late)."""
        start = self.dropped_to
        held: dict[int, Any]
        for held in (self.totals, self.failures, self.ids, self.more_ids):
            if not held:
                continue
            if start is not None and minute - start <= len(held):  # the last hour or so: walk it
                for stale in range(start, minute):
                    held.pop(stale, None)
            else:
                for stale in [m for m in held if m < minute]:
                    del held[stale]
        self.dropped_to = minute if start is None else max(start, minute)


class RateSum:
    """The exact sum of error rates ``failed / total``, kept as a numerator over the least
    common multiple of the totals added: the same value whatever the order of the terms, and
    each addition costs one pass over the numbers, not a big gcd."""

    __slots__ = ("denominator", "numerator")

    def __init__(self, numerator: int = 0, denominator: int = 1) -> None:
        self.numerator = numerator
        self.denominator = denominator

    def add(self, failed: int, total: int) -> None:
        denominator = self.denominator
        quotient, rest = divmod(denominator, total)  # one pass over a big denominator
        if rest == 0:
            self.numerator += failed * quotient
            return
        common = gcd(total, rest)
        scale = total // common
        self.numerator = self.numerator * scale + failed * (denominator // common)
        self.denominator = denominator * scale

    def value(self) -> Fraction:
        return Fraction(self.numerator, self.denominator)

    def at_least(self, bound: Fraction) -> bool:
        return self.numerator * bound.denominator >= bound.numerator * self.denominator

    def above(self, bound: Fraction) -> bool:
        return self.numerator * bound.denominator > bound.numerator * self.denominator

    def copy(self) -> RateSum:
        return RateSum(self.numerator, self.denominator)


@dataclass
class PeriodTotals:
    """One period's eligible intervals folded so far (or up to a clock)."""

    eligible: int = 0
    down: int = 0  # counted down intervals (down runs that reached ``min_downtime``)
    rate: RateSum = field(default_factory=RateSum)  # Σ failed/total over the eligible intervals
    total: int = 0  # requests in the eligible intervals
    failed: int = 0

    def copy(self) -> PeriodTotals:
        return PeriodTotals(self.eligible, self.down, self.rate.copy(), self.total, self.failed)


@dataclass
class DownRun:
    """The down run open at the folded point: down intervals in a row."""

    start: int | None = None  # µs; None when no run is open
    end: int = 0
    worst: tuple[int, int] = (0, 1)  # (failed, total) of its worst interval
    qualified: bool = False  # its length reached ``min_downtime``: its intervals count
    held: dict[PeriodKey, int] = field(default_factory=dict)  # down intervals waiting to qualify
    per_period: dict[PeriodKey, int] = field(default_factory=dict)  # its intervals per period
    first_events: tuple[str, ...] = ()  # ids of the requests events of its first interval
    last_events: tuple[str, ...] = ()  # and of its last one

    def copy(self) -> DownRun:
        return DownRun(
            self.start,
            self.end,
            self.worst,
            self.qualified,
            dict(self.held),
            dict(self.per_period),
            self.first_events,
            self.last_events,
        )

    def line(self, count: int) -> RunLine:
        assert self.start is not None
        return (self.start, self.end, *self.worst, count, self.first_events, self.last_events)


@dataclass(frozen=True)
class AvailabilityFigures:
    """Every period started before the clock, and the periods a run not yet known to count holds."""

    periods: dict[PeriodKey, PeriodTotals]
    undecided: set[PeriodKey]
    runs: dict[PeriodKey, list[RunLine]]
    open_run: int | None  # start of a counted run still down at the clock


@dataclass
class _Scan:
    """What one pass over intervals adds to: the totals, the open run and the run lines."""

    totals: dict[PeriodKey, PeriodTotals]
    run: DownRun
    runs: dict[PeriodKey, list[RunLine]]
    dips: dict[PeriodKey, dict[str, Any]] | None = None  # request_ratio: first dip per period


class AvailabilityClauseState:
    def __init__(
        self,
        contract: Contract,
        clause: AvailabilityClause,
        calendar: ContractCalendar,
        exclusions: ServiceExclusions,
        log: RequestLog,
        at_risk_budget_percent: Decimal,
    ) -> None:
        self.contract = contract
        self.clause = clause
        self.calendar = calendar
        self.log = log
        self._exclusions = exclusions
        self.interval = span_us(clause.interval)
        self.minutes_per_interval = self.interval // MINUTE_US
        self._min_downtime = span_us(clause.min_downtime)
        self._min_requests = clause.min_requests
        above = clause.error_rate_above_percent
        self._above = Fraction(above) / 100 if above is not None else None
        self._target = Fraction(clause.target_percent)
        self._allowed_share = 1 - self._target / 100  # of the eligible intervals: the budget
        self._dip_below = self._target + response_margin(clause.target_percent, at_risk_budget_percent)
        self.folded_to: int | None = None  # interval index: every interval before it is folded
        self.totals: dict[PeriodKey, PeriodTotals] = {}
        self.run = DownRun()
        self.runs: dict[PeriodKey, list[RunLine]] = {}  # settled run lines, per period
        self.dips: dict[PeriodKey, dict[str, Any]] = {}  # request_ratio: first dip below the margin
        self._whole: dict[PeriodKey, tuple[int, int]] = {}  # (announcements seen, eligible intervals)
        # (eligible intervals, threshold, budget, at-risk share of it): the watch asks often
        self._limits: dict[PeriodKey, tuple[int, Decimal, Fraction, Fraction]] = {}

    @property
    def counts_downtime(self) -> bool:
        return self.clause.method == "downtime_intervals"

    # intervals and excluded time ----------------------------------------------------
    def interval_of(self, instant: int) -> int:
        return instant // self.interval

    def last_interval_end(self, key: PeriodKey) -> int:
        """The end of the period's last interval (the one holding its last instant)."""
        end = self.calendar.bounds(key)[1]
        return -(-end // self.interval) * self.interval

    def excluded_ranges(self, lo: int, hi: int) -> list[Interval]:
        """Index ranges ``[j0, j1)`` of the intervals in ``[lo, hi)`` that overlap excluded time."""
        size = self.interval
        ranges: list[Interval] = []
        for a, b in self._exclusions.excluded(lo * size, hi * size):
            j0, j1 = max(a // size, lo), min(-(-b // size), hi)
            if ranges and j0 <= ranges[-1][1]:
                ranges[-1] = (ranges[-1][0], max(ranges[-1][1], j1))
            elif j1 > j0:
                ranges.append((j0, j1))
        return ranges

    def _pieces(self, lo: int, hi: int) -> Iterator[tuple[PeriodKey, int, int]]:
        """Split the interval indices ``[lo, hi)`` by the period holding each interval's start."""
        size = self.interval
        for key, a, b in self.calendar.pieces(lo * size, hi * size):
            j0, j1 = -(-a // size), -(-b // size)
            if j1 > j0:
                yield key, j0, j1

    def _eligible(self, lo: int, hi: int, excluded: list[Interval]) -> Iterator[tuple[PeriodKey, int]]:
        for key, j0, j1 in self._pieces(lo, hi):
            yield key, _not_excluded(j0, j1, excluded)

    def whole_period_eligible(self, key: PeriodKey) -> int:
        """Eligible intervals of the whole period, with the maintenance known so far."""
        seen = len(self._exclusions.timeline.announcements)
        cached = self._whole.get(key)
        if cached is None or cached[0] != seen:
            start, end = self.calendar.bounds(key)
            lo, hi = self.interval_of(start + self.interval - 1), self.interval_of(end + self.interval - 1)
            eligible = sum(count for _, count in self._eligible(lo, hi, self.excluded_ranges(lo, hi)))
            cached = self._whole[key] = (seen, eligible)
        return cached[1]

    # sweeping intervals ---------------------------------------------------------------
    def _scan(self, lo: int, hi: int, scan: _Scan) -> None:
        """Add the intervals ``[lo, hi)`` (indices) to ``scan``, in order."""
        excluded = self.excluded_ranges(lo, hi)
        totals = scan.totals
        for key, j0, j1 in list(self._pieces(lo, hi)):  # (an interval outside every period counts nowhere)
            figures = totals.get(key)
            if figures is None:
                figures = totals[key] = PeriodTotals()
            figures.eligible += _not_excluded(j0, j1, excluded)
            self._scan_period(key, figures, j0, j1, excluded, scan)
        if scan.run.start is not None and scan.run.end < hi * self.interval:  # (``_down`` may replace it)
            self._end_run(scan)

    def _scan_period(
        self, key: PeriodKey, figures: PeriodTotals, j0: int, j1: int, excluded: list[Interval], scan: _Scan
    ) -> None:
        """Add the intervals ``[j0, j1)`` of the period ``key`` to its ``figures``, in order."""
        above, min_requests = self._above, self._min_requests
        dips = scan.dips if self.clause.method == "request_ratio" else None
        cut = 0
        for index, total, failed in self.log.intervals(j0, j1, self.minutes_per_interval):
            while cut < len(excluded) and excluded[cut][1] <= index:
                cut += 1
            if cut < len(excluded) and excluded[cut][0] <= index:
                continue
            figures.total += total
            if not failed:
                continue
            figures.failed += failed
            if total >= min_requests:
                figures.rate.add(failed, total)
                if above is not None and failed * above.denominator > above.numerator * total:
                    self._down(index, key, failed, total, scan)
            if dips is not None and key not in dips:
                self._check_dip(key, figures, dips)

    def _down(self, index: int, key: PeriodKey, failed: int, total: int, scan: _Scan) -> None:
        start = index * self.interval
        run = scan.run
        if run.start is not None and run.end != start:
            self._end_run(scan)
            run = scan.run  # a new one
        events = self.log.ids_of(index, self.minutes_per_interval) if self.log.keep_ids else ()
        if run.start is None:
            run.start, run.worst, run.first_events = start, (failed, total), events
        elif failed * run.worst[1] > run.worst[0] * total:
            run.worst = (failed, total)
        run.end, run.last_events = start + self.interval, events
        run.per_period[key] = run.per_period.get(key, 0) + 1
        if run.qualified:
            scan.totals[key].down += 1
            return
        run.held[key] = run.held.get(key, 0) + 1
        if run.end - run.start >= self._min_downtime:
            run.qualified = True
            for held_key, count in run.held.items():
                scan.totals[held_key].down += count
            run.held = {}

    def _end_run(self, scan: _Scan) -> None:
        """A run that reached ``min_downtime`` becomes statement lines; a shorter one is ignored."""
        run = scan.run
        if run.qualified and run.start is not None:
            for key, count in run.per_period.items():
                scan.runs.setdefault(key, []).append(run.line(count))
        scan.run = DownRun()

    def _check_dip(
        self, key: PeriodKey, figures: PeriodTotals, dips: dict[PeriodKey, dict[str, Any]]
    ) -> None:
        """request_ratio: the first time, in interval order, the ratio so far is below target + margin."""
        below = self._dip_below
        if 100 * (figures.total - figures.failed) * below.denominator < below.numerator * figures.total:
            attained = Fraction(100 * (figures.total - figures.failed), figures.total)
            dips[key] = {
                "requests": figures.total,
                "failed_requests": figures.failed,
                "attained_percent_so_far": float(attained),
                "target_percent": float(self._target),
                "at_risk_below_percent": float(self._dip_below),
            }

    def fold(self, upto: int) -> None:
        """Fold every interval that ended at or before the settled point ``upto`` (µs)."""
        hi = upto // self.interval
        lo = self.folded_to
        if lo is None:
            lo = self.folded_to = min(hi, self.interval_of(self.calendar.starts_at))
        if hi <= lo:
            return
        scan = _Scan(self.totals, self.run, {}, self.dips)
        self._scan(lo, hi, scan)
        self.run = scan.run
        for key, lines in scan.runs.items():
            self.runs.setdefault(key, []).extend(lines)
        if scan.runs:
            horizon = self.calendar.key_of(upto - RUN_HISTORY_US)
            if horizon is not None:
                self.runs = {key: lines for key, lines in self.runs.items() if key >= horizon}
        self.folded_to = hi

    @property
    def folded_minute(self) -> int | None:
        """Minutes before this one are folded (the log may forget them)."""
        return None if self.folded_to is None else self.folded_to * self.minutes_per_interval

    # figures ----------------------------------------------------------------------------
    def figures(self, clock: int) -> AvailabilityFigures:
        """Totals of every period started before ``clock`` over its intervals ended by then.

        A down run still open at the clock ends there; the periods holding part of it while
        it is shorter than ``min_downtime`` are undecided (so not final) for downtime_intervals.
        """
        totals = {key: figures.copy() for key, figures in self.totals.items()}
        runs = {key: list(lines) for key, lines in self.runs.items()}
        scan = _Scan(totals, self.run.copy(), runs)
        hi = clock // self.interval
        lo = (
            self.folded_to
            if self.folded_to is not None
            else min(hi, self.interval_of(self.calendar.starts_at))
        )
        if hi > lo:
            self._scan(lo, hi, scan)
        open_run = scan.run
        open_start = None
        if open_run.start is not None and open_run.qualified:
            for key, count in open_run.per_period.items():
                runs.setdefault(key, []).append(open_run.line(count))
            open_start = open_run.start
        undecided = set(open_run.held) if self.counts_downtime and open_run.start is not None else set()
        periods = {key: totals.get(key) or PeriodTotals() for key in self.calendar.started_before(clock)}
        return AvailabilityFigures(periods, undecided, runs, open_start)

    def attained(self, totals: PeriodTotals) -> Fraction:
        method = self.clause.method
        if method == "request_ratio":
            if totals.total == 0:
                return Fraction(100)
            return Fraction(100 * (totals.total - totals.failed), totals.total)
        if totals.eligible == 0:
            return Fraction(100)
        if method == "downtime_intervals":
            return Fraction(100 * (totals.eligible - totals.down), totals.eligible)
        return 100 * (1 - totals.rate.value() / totals.eligible)

    def is_final(self, key: PeriodKey, clock: int, lateness: int, undecided: set[PeriodKey]) -> bool:
        return clock >= self.last_interval_end(key) + lateness and key not in undecided

    # error budget -----------------------------------------------------------------------
    def budget(self, key: PeriodKey) -> Fraction:
        """downtime_intervals and mean_error_rate: (1 − target) × the whole period's eligible
        intervals (in intervals, or in summed rates)."""
        return self._allowed_share * self.whole_period_eligible(key)

    def _risk_limits(self, key: PeriodKey, threshold: Decimal) -> tuple[Fraction, Fraction]:
        """The period's budget and the share of it at which it is at risk, kept until the
        period's eligible intervals (announced maintenance) or the threshold change."""
        eligible = self.whole_period_eligible(key)
        cached = self._limits.get(key)
        if cached is None or cached[0] != eligible or cached[1] != threshold:
            budget = self._allowed_share * eligible
            cached = self._limits[key] = (eligible, threshold, budget, Fraction(threshold) / 100 * budget)
        return cached[2], cached[3]

    def status(self, key: PeriodKey, totals: PeriodTotals) -> tuple[Fraction, bool]:
        """Share of the budget used and whether the period can no longer be met; for
        request_ratio, the share of the room between 100 and the target, and below target now."""
        attained = self.attained(totals)
        if self.clause.method == "request_ratio":
            room = 100 - self._target
            used = (100 - attained) / room if room > 0 else Fraction(int(attained < 100))
            return used, attained < self._target
        spent = Fraction(totals.down) if self.counts_downtime else totals.rate.value()
        budget = self.budget(key)
        return (spent / budget if budget > 0 else Fraction(int(spent > 0))), spent > budget

    def quiet_through(self, upto: int, keys: list[PeriodKey], threshold: Decimal) -> bool:
        """Whether folding the intervals ended by ``upto`` (µs) surely leaves every budget
        notice of the periods ``keys`` false, so the watch need not fold them yet: each new
        interval adds at most one to what is spent (an error rate is at most 1, a down
        interval counts once) and the open down run may release the intervals it holds.
        Never for request_ratio, whose first dip is found by folding."""
        if self.clause.method == "request_ratio" or self.folded_to is None:
            return False
        most = max(upto // self.interval - self.folded_to, 0) + sum(self.run.held.values())
        for key in keys:
            budget, share = self._risk_limits(key, threshold)
            limit = min(share, budget)  # at risk from ``share`` on, breached past ``budget``
            totals = self.totals.get(key)
            if totals is None:
                spent_most: Fraction | int = most
            elif self.counts_downtime:
                spent_most = totals.down + most
            else:
                rate = totals.rate
                if (rate.numerator + most * rate.denominator) * limit.denominator >= (
                    limit.numerator * rate.denominator
                ):
                    return False
                continue
            if spent_most >= limit:
                return False
        return True

    def risk(self, key: PeriodKey, totals: PeriodTotals, threshold: Decimal) -> list[NoticeType]:
        """The budget notices true of a period's settled totals (not request_ratio's)."""
        if self.clause.method == "request_ratio":
            return []
        if (totals.down if self.counts_downtime else totals.rate.numerator) == 0:
            return []  # nothing spent
        budget, share = self._risk_limits(key, threshold)
        if self.counts_downtime:
            at_risk, breached = totals.down >= share, totals.down > budget
        else:
            at_risk, breached = totals.rate.at_least(share), totals.rate.above(budget)
        return [
            kind for kind, true in ((NoticeType.AT_RISK, at_risk), (NoticeType.BREACHED, breached)) if true
        ]

    def risk_facts(self, key: PeriodKey, totals: PeriodTotals, threshold: Decimal) -> dict[str, Any]:
        budget = self.budget(key)
        used = Fraction(totals.down) if self.counts_downtime else totals.rate.value()
        return {
            "method": self.clause.method,
            "eligible_intervals": totals.eligible,
            "down_intervals": totals.down,
            "error_rate_sum": float(totals.rate.value()),
            "budget": float(budget),
            "budget_used_ratio": float(used / budget) if budget > 0 else None,
            "whole_period_eligible_intervals": self.whole_period_eligible(key),
            "attained_percent_so_far": float(self.attained(totals)),
            "target_percent": float(self._target),
            "at_risk_budget_percent": float(threshold),
        }

    # statements -------------------------------------------------------------------------
    def excluded_lines(self, key: PeriodKey, clock: int) -> list[Interval]:
        """The period's excluded intervals ended by ``clock``, merged into ``[start, end)`` spans."""
        start, end = self.calendar.bounds(key)
        lo = self.interval_of(start + self.interval - 1)
        hi = min(self.interval_of(end + self.interval - 1), clock // self.interval)
        if hi <= lo:
            return []
        return [(a * self.interval, b * self.interval) for a, b in self.excluded_ranges(lo, hi)]

    def exclusion_sources(self, key: PeriodKey, clock: int) -> list[tuple[int, int, str]]:
        start, end = self.calendar.bounds(key)
        return self._exclusions.lines(start, min(end, clock))


def _not_excluded(j0: int, j1: int, excluded: list[Interval]) -> int:
    """How many of the intervals ``[j0, j1)`` lie outside the excluded index ranges."""
    return (j1 - j0) - sum(min(b, j1) - max(a, j0) for a, b in excluded if a < j1 and b > j0)
