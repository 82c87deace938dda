"""A request-based availability clause explained (SPEC.md sections 11 and 14): the intervals
counted, excluded and under ``min_requests``, the down runs with the requests events at their
edges, and the method's sums, checked against the engine's own totals of the period.

From the events the engine's clause state is rebuilt from the counted events (the same
``RequestLog``, excluded time and ``AvailabilityClauseState``), so the attained figure is the
engine's; the listing of intervals and runs is walked from the same state and must add up to
the engine's totals, or nothing is shown."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from monitor.contract import AvailabilityClause, Clause, Contract
from monitor.engine.availability import (
    MINUTE_US,
    AvailabilityClauseState,
    PeriodTotals,
    RateSum,
    RequestLog,
)
from monitor.engine.calendar import ContractCalendar
from monitor.engine.exclusion import ServiceExclusions
from monitor.engine.intervals import Interval
from monitor.engine.schedule import MaintenanceSchedule
from monitor.engine.timeline import Announcement, ServiceTimeline
from monitor.events import Event, MaintenanceEvent, RequestsEvent
from monitor.explain.common import ClauseContext, minutes
from monitor.explain.kinds import Derived
from monitor.explain.model import ExplainError, Section, Step
from monitor.explain.uptime import excluded_windows, recorded_windows
from monitor.terms import terms_for_period
from monitor.timeutil import span_us, to_us
from monitor.wording import duration_words, percent_words

MAX_LISTED = 50  # intervals listed one by one per kind of line; the rest are counted
OLD_LEDGER = "the ledger was written before they were kept"
NOT_KEPT = "the run began before the worker restored a snapshot written before they were kept"
LEDGER_RATE_SUM = (
    "The ledger keeps this sum of the error rates as a float (the exact one was too long to keep, "
    "or the ledger predates it): "
    "`slamon explain --events FILE` gives the exact sum."
)
MAX_INDEX = 2**63  # above any interval index: bisects a range starting at an index
AT_RISK_PERCENT = Decimal(75)  # the state's notice threshold: no bearing on the attained figure


@dataclass(frozen=True)
class Counted:
    """One interval with requests that is part of a period of the terms and not excluded."""

    start: int  # µs
    total: int
    failed: int
    events: tuple[str, ...]  # ids of the requests events whose start lies in it


@dataclass(frozen=True)
class Run:
    """Down intervals in a row (an up, excluded or missing interval ends it)."""

    intervals: tuple[Counted, ...]
    size: int  # µs, the clause's interval

    @property
    def start(self) -> int:
        return self.intervals[0].start

    @property
    def end(self) -> int:
        return self.intervals[-1].start + self.size

    @property
    def worst(self) -> Fraction:
        return max(Fraction(i.failed, i.total) for i in self.intervals)

    @property
    def edges(self) -> tuple[str, ...]:
        return edge_ids(self.intervals[0].events, self.intervals[-1].events)


def edge_ids(first: Sequence[str], last: Sequence[str]) -> tuple[str, ...]:
    """The ids of the requests events of a run's first interval, then of its last one."""
    return tuple(first) if list(first) == list(last) else (*first, *last)


class AvailabilityExplainer:
    def relevant(self, contract: Contract, clause: Clause, event: Event) -> bool:
        assert isinstance(clause, AvailabilityClause)
        return isinstance(event, RequestsEvent | MaintenanceEvent) and event.service == clause.service

    def terms(self, ctx: ClauseContext) -> list[Step]:
        clause = _availability(ctx)
        steps = [
            Step(
                f"Service {clause.service!r}, method {clause.method}: intervals of "
                f"{duration_words(clause.interval)} aligned to the Unix epoch; an interval belongs "
                "to the period holding its start and counts once it has ended."
            ),
            Step(_method_words(clause)),
        ]
        if clause.method != "request_ratio":
            steps.append(Step(f"min_requests {clause.min_requests}: {_min_requests_words(clause)}"))
        return [*steps, Step(_maintenance_words(ctx))]

    # from the events ---------------------------------------------------------------------
    def from_events(self, ctx: ClauseContext, events: Sequence[Event]) -> Derived:
        announced: list[Announcement] = [
            (to_us(e.start), to_us(e.end), to_us(e.at), e.event_id)
            for e in events
            if isinstance(e, MaintenanceEvent)
        ]
        requests = [e for e in events if isinstance(e, RequestsEvent)]
        state = engine_state(ctx, requests, announced)
        counted = counted_intervals(state, ctx.clock, _ids_by_minute(requests))
        runs = down_runs(state, counted)
        mine = [c for c in counted if state.calendar.key_of(c.start) == ctx.period]
        totals = _engine_totals(state, ctx)
        walked = _walked_totals(state, ctx, mine, runs)
        _agree(walked, totals)
        windows = self._windows(ctx, state, excluded_windows(ctx, announced)[0] if _excludes(ctx) else [])
        sections = [windows, _intervals_section(ctx, state, mine, totals)]
        sections += _method_sections(ctx, state, mine, runs, totals)
        return Derived(sections, state.attained(totals), _formula(_availability(ctx), totals))

    def _windows(self, ctx: ClauseContext, state: AvailabilityClauseState, steps: list[Step]) -> Section:
        spans = state.excluded_lines(ctx.period, ctx.clock)
        return Section(
            "Excluded windows", [*steps, *_excluded_steps(ctx, spans, state.interval)], "No time excluded."
        )

    # from the ledger ---------------------------------------------------------------------
    def from_details(self, ctx: ClauseContext, details: dict[str, Any]) -> Derived:
        data = details["details"]
        clause = _availability(ctx)
        size = int(data["interval_us"])
        totals = PeriodTotals(
            eligible=data["eligible_intervals"],
            down=data["down_intervals"],
            rate=_recorded_rate(data),
            total=data["requests"],
            failed=data["failed_requests"],
        )
        window_steps = recorded_windows(ctx, data["maintenance"]) if _excludes(ctx) else []
        spans = [(a, b) for a, b in data["excluded"]]
        windows = Section(
            "Excluded windows", [*window_steps, *_excluded_steps(ctx, spans, size)], "No time excluded."
        )
        in_period = _intervals_in_period(ctx, size)
        intervals = Section(
            "Intervals",
            [Step(_eligible_words(ctx, size, in_period, in_period - totals.eligible, totals.eligible))],
        )
        sections = [windows, intervals, *self._ledger_method(ctx, data, totals)]
        attained = engine_state(ctx, [], []).attained(totals)  # the engine's formula on the ledger's totals
        return Derived(sections, attained, _formula(clause, totals))

    def _ledger_method(self, ctx: ClauseContext, data: dict[str, Any], totals: PeriodTotals) -> list[Section]:
        method = _availability(ctx).method
        if method == "request_ratio":
            return [_requests_section(totals)]
        if method == "mean_error_rate":
            note = [] if data.get("error_rate_sum_exact") else [Step(LEDGER_RATE_SUM)]
            return [Section("Error rates", [_rate_sum_step(totals), *note])]
        size = int(data["interval_us"])
        lines = data["down_runs"]
        found = data.get("down_run_events")
        edges = found if found is not None and len(found) == len(lines) else [[[], []]] * len(lines)
        steps, missing = [], []
        for (start, end, failed, total, count, still_open), (first, last) in zip(lines, edges, strict=True):
            words = RunWords(start, end, (end - start) // size, count, Fraction(failed, total), still_open)
            steps.append(run_step(ctx, words, "counted", edge_ids(first, last)))
            if not first or not last:
                missing.append(ctx.both(start))
        if data["down_runs_total"] == len(lines) and sum(line[4] for line in lines) != totals.down:
            raise ExplainError("the ledger's down runs do not add up to its counted down intervals")
        steps.append(Step(f"Counted down intervals in {ctx.period}: {totals.down}."))
        if missing:
            steps.append(
                Step(
                    f"The ledger has no ids of the requests events at the edges of the run(s) from "
                    f"{', '.join(missing)}: {OLD_LEDGER if found is None else NOT_KEPT}. "
                    "`slamon explain --events FILE` names them."
                )
            )
        if data["down_runs_total"] > len(lines):
            steps.append(
                Step(f"… and {data['down_runs_total'] - len(lines)} more runs not listed by the ledger.")
            )
        return [Section("Down runs", steps)]


# the engine's state, rebuilt from the counted events -------------------------------------
def engine_state(
    ctx: ClauseContext, requests: Sequence[RequestsEvent], announced: Sequence[Announcement]
) -> AvailabilityClauseState:
    """The clause's state as the engine builds it for the terms in force in the period (their
    dates bound the calendar, as in ``Engine``), fed the counted events."""
    clause = _availability(ctx)
    terms = terms_for_period(ctx.written, ctx.period)
    calendar = ContractCalendar(ctx.contract, (terms.starts, terms.ends))
    timeline = ServiceTimeline()
    for start, end, at, event_id in announced:
        timeline.add_announcement(start, end, at, event_id)
    schedule = MaintenanceSchedule(ctx.contract, calendar)
    exclusions = ServiceExclusions(ctx.contract, clause.exclude_maintenance, schedule, timeline)
    log = RequestLog()
    for event in requests:
        log.add(event.start_us // MINUTE_US, event.total, event.failed)
    return AvailabilityClauseState(ctx.contract, clause, calendar, exclusions, log, AT_RISK_PERCENT)


def _engine_totals(state: AvailabilityClauseState, ctx: ClauseContext) -> PeriodTotals:
    figures = state.figures(ctx.clock)
    totals = figures.periods.get(ctx.period)
    if totals is None:
        raise ExplainError(f"the engine has no figures of {ctx.clause.id} in {ctx.period}")
    return totals


def _ids_by_minute(requests: Sequence[RequestsEvent]) -> dict[int, list[str]]:
    ids: dict[int, list[str]] = {}
    for event in requests:
        ids.setdefault(event.start_us // MINUTE_US, []).append(event.event_id)
    return ids


def counted_intervals(state: AvailabilityClauseState, clock: int, ids: dict[int, list[str]]) -> list[Counted]:
    """Every interval with requests, ended by ``clock``, not excluded and inside a period of
    the terms, in order: the intervals the engine rates."""
    size, per = state.interval, state.minutes_per_interval
    lo, hi = state.interval_of(state.calendar.starts_at), clock // size
    excluded = state.excluded_ranges(lo, hi)
    counted = []
    for index, total, failed in state.log.intervals(lo, hi, per):
        if _inside(excluded, index) or state.calendar.key_of(index * size) is None:
            continue
        events = sorted(i for m in range(index * per, (index + 1) * per) for i in ids.get(m, ()))
        counted.append(Counted(index * size, total, failed, tuple(events)))
    return counted


def _inside(ranges: Sequence[Interval], index: int) -> bool:
    """Whether ``index`` lies in one of the sorted, disjoint ``ranges``."""
    at = bisect_right(ranges, (index, MAX_INDEX)) - 1
    return at >= 0 and index < ranges[at][1]


def is_down(clause: AvailabilityClause, interval: Counted) -> bool:
    """SPEC.md section 11: at least ``min_requests`` requests and more than the bound failed."""
    above = clause.error_rate_above_percent
    if above is None or interval.total < clause.min_requests:
        return False
    return Fraction(interval.failed, interval.total) > Fraction(above) / 100


def down_runs(state: AvailabilityClauseState, counted: Sequence[Counted]) -> list[Run]:
    """Maximal runs of down intervals in a row, whether or not they reach ``min_downtime``."""
    runs: list[list[Counted]] = []
    for interval in counted:
        if not is_down(state.clause, interval):
            continue
        if runs and runs[-1][-1].start + state.interval == interval.start:
            runs[-1].append(interval)
        else:
            runs.append([interval])
    return [Run(tuple(run), state.interval) for run in runs]


def _walked_totals(
    state: AvailabilityClauseState, ctx: ClauseContext, mine: Sequence[Counted], runs: Sequence[Run]
) -> PeriodTotals:
    """The period's totals added up from the listing (to be checked against the engine's)."""
    size = state.interval
    in_period = _intervals_in_period(ctx, size)
    excluded = sum(b - a for a, b in _excluded_indices(state, ctx))
    rate = RateSum()
    for interval in mine:
        if interval.failed and interval.total >= state.clause.min_requests:
            rate.add(interval.failed, interval.total)
    down = sum(_in_period(state, ctx, run) for run in runs if _counts(state, ctx, run) == "counted")
    total, failed = sum(i.total for i in mine), sum(i.failed for i in mine)
    return PeriodTotals(in_period - excluded, down, rate, total, failed)


def _agree(walked: PeriodTotals, engine: PeriodTotals) -> None:
    mine = (walked.eligible, walked.down, walked.rate.value(), walked.total, walked.failed)
    theirs = (engine.eligible, engine.down, engine.rate.value(), engine.total, engine.failed)
    if mine != theirs:
        raise ExplainError(
            f"the intervals listed add up to (eligible, down, Σ rate, requests, failed) {mine}, "
            f"the engine's totals are {theirs}: the explanation would not be the engine's"
        )


def _intervals_in_period(ctx: ClauseContext, size: int) -> int:
    """Intervals starting in the period and ended by the clock."""
    lo, hi = -(-ctx.start // size), min(-(-ctx.end // size), ctx.clock // size)
    return max(0, hi - lo)


def _excluded_indices(state: AvailabilityClauseState, ctx: ClauseContext) -> list[Interval]:
    size = state.interval
    lo, hi = -(-ctx.start // size), min(-(-ctx.end // size), ctx.clock // size)
    return state.excluded_ranges(lo, hi) if hi > lo else []


def _in_period(state: AvailabilityClauseState, ctx: ClauseContext, run: Run) -> int:
    return sum(1 for i in run.intervals if state.calendar.key_of(i.start) == ctx.period)


def _counts(state: AvailabilityClauseState, ctx: ClauseContext, run: Run) -> str:
    """``counted``, ``ignored`` (shorter than min_downtime) or ``open`` (still down at the
    clock and shorter: the engine holds it, counted only if it reaches min_downtime)."""
    if run.end - run.start >= span_us(_availability(ctx).min_downtime):
        return "counted"
    return "open" if run.end == ctx.clock // state.interval * state.interval else "ignored"


# sections ----------------------------------------------------------------------------------
def _excluded_steps(ctx: ClauseContext, spans: Sequence[Interval], size: int) -> list[Step]:
    return [
        Step(
            f"Intervals touching excluded time, left out: {ctx.both(a)} to {ctx.both(b)}, "
            f"{(b - a) // size} intervals."
        )
        for a, b in spans
    ]


def _eligible_words(ctx: ClauseContext, size: int, in_period: int, excluded: int, eligible: int) -> str:
    return (
        f"Intervals of {minutes(size)} min starting in {ctx.period} and ended by the clock: {in_period}; "
        f"excluded {excluded}; eligible E = {in_period} − {excluded} = {eligible}."
    )


def _intervals_section(
    ctx: ClauseContext, state: AvailabilityClauseState, mine: Sequence[Counted], totals: PeriodTotals
) -> Section:
    in_period = _intervals_in_period(ctx, state.interval)
    steps = [
        Step(_eligible_words(ctx, state.interval, in_period, in_period - totals.eligible, totals.eligible)),
        Step(
            f"Eligible intervals with requests: {len(mine)}; without requests (up, no failures): "
            f"{totals.eligible - len(mine)}."
        ),
    ]
    clause = _availability(ctx)
    if clause.method != "request_ratio":
        steps += _under_min_steps(ctx, clause, mine)
    return Section("Intervals", steps)


def _under_min_steps(ctx: ClauseContext, clause: AvailabilityClause, mine: Sequence[Counted]) -> list[Step]:
    under = [i for i in mine if i.total < clause.min_requests]
    steps = [Step(f"Under min_requests ({clause.min_requests}): {len(under)} intervals, not rated.")]
    failing = [i for i in under if i.failed]
    steps += [
        Step(
            f"Not rated: {ctx.both(i.start)}: {i.failed} of {i.total} requests failed, "
            f"under min_requests {clause.min_requests}.",
            i.events,
        )
        for i in failing[:MAX_LISTED]
    ]
    return steps + _more(len(failing))


def _more(count: int) -> list[Step]:
    return [Step(f"… and {count - MAX_LISTED} more not listed.")] if count > MAX_LISTED else []


def _method_sections(
    ctx: ClauseContext,
    state: AvailabilityClauseState,
    mine: Sequence[Counted],
    runs: Sequence[Run],
    totals: PeriodTotals,
) -> list[Section]:
    method = _availability(ctx).method
    if method == "request_ratio":
        return [_requests_section(totals)]
    if method == "mean_error_rate":
        return [_rates_section(ctx, state, mine, totals)]
    touching = [run for run in runs if _in_period(state, ctx, run)]
    steps = [_run_step(ctx, state, run) for run in touching]
    steps.append(Step(f"Counted down intervals in {ctx.period}: {totals.down}."))
    return [Section("Down runs", steps)]


@dataclass(frozen=True)
class RunWords:
    """What a down run's step says of it."""

    start: int
    end: int
    intervals: int
    in_period: int
    worst: Fraction
    still_open: bool  # still down at the clock


def _run_step(ctx: ClauseContext, state: AvailabilityClauseState, run: Run) -> Step:
    still_open = run.end == ctx.clock // state.interval * state.interval
    words = RunWords(
        run.start, run.end, len(run.intervals), _in_period(state, ctx, run), run.worst, still_open
    )
    return run_step(ctx, words, _counts(state, ctx, run), run.edges)


def run_step(ctx: ClauseContext, run: RunWords, counts: str, edges: tuple[str, ...]) -> Step:
    """A down run (``counts``: counted, ignored or open), resting on the ids of the requests
    events of its first and last interval."""
    clause = _availability(ctx)
    verdict = {
        "counted": f"reaches min_downtime ({duration_words(clause.min_downtime)}): counted",
        "ignored": f"shorter than min_downtime ({duration_words(clause.min_downtime)}): ignored",
        "open": "still down at the clock and shorter than min_downtime: not counted yet",
    }[counts]
    still_open = run.still_open and counts != "open"  # (the verdict says it)
    until = f"still down at the clock {ctx.both(run.end)}" if still_open else ctx.both(run.end)
    return Step(
        f"Down from {ctx.both(run.start)} to {until}: {minutes(run.end - run.start)} min, "
        f"{run.intervals} intervals, {run.in_period} in {ctx.period}, worst "
        f"{_rate_words(run.worst)} failed; {verdict}.",
        edges,
    )


def _rates_section(
    ctx: ClauseContext, state: AvailabilityClauseState, mine: Sequence[Counted], totals: PeriodTotals
) -> Section:
    rated = [i for i in mine if i.failed and i.total >= state.clause.min_requests]
    steps = [
        Step(
            f"{ctx.both(i.start)}: rate {i.failed}/{i.total} = {_rate_words(Fraction(i.failed, i.total))}.",
            i.events,
        )
        for i in rated[:MAX_LISTED]
    ]
    return Section("Error rates", [*steps, *_more(len(rated)), _rate_sum_step(totals)])


def _rate_sum_step(totals: PeriodTotals) -> Step:
    return Step(
        f"Σ rate over the {totals.eligible} eligible intervals (0 for those without failures or "
        f"under min_requests): {_exact(totals.rate.value())}."
    )


def _requests_section(totals: PeriodTotals) -> Section:
    good = totals.total - totals.failed
    return Section(
        "Requests",
        [
            Step(
                f"Requests in the eligible intervals: {totals.total}, failed {totals.failed}, "
                f"good {totals.total} − {totals.failed} = {good}."
            )
        ],
    )


def _formula(clause: AvailabilityClause, totals: PeriodTotals) -> Step:
    eligible = totals.eligible
    if clause.method == "request_ratio":
        none = " (100 when there are no requests)" if totals.total == 0 else ""
        return Step(f"attained = 100 × ({totals.total} − {totals.failed}) / {totals.total}{none}.")
    none = " (100 when nothing is eligible)" if eligible == 0 else ""
    if clause.method == "mean_error_rate":
        return Step(f"attained = 100 × (1 − {_fraction(totals.rate.value())} / {eligible}){none}.")
    return Step(f"attained = 100 × ({eligible} − {totals.down}) / {eligible}{none}.")


def _recorded_rate(data: dict[str, Any]) -> RateSum:
    """The ledger's exact sum of error rates, or its float when the exact one was too long to
    keep (or the ledger predates it)."""
    exact = Fraction(data.get("error_rate_sum_exact") or data["error_rate_sum"])
    return RateSum(exact.numerator, exact.denominator)


# words ---------------------------------------------------------------------------------------
def _method_words(clause: AvailabilityClause) -> str:
    if clause.method == "downtime_intervals":
        return (
            f"An interval is down when more than {percent_words(clause.error_rate_above_percent or 0)} "
            f"of its requests failed; down runs shorter than {duration_words(clause.min_downtime)} "
            "(their whole length, across months) are ignored. attained = 100 × (E − D) / E, "
            "E the eligible intervals, D the counted down ones; 100 when E = 0."
        )
    if clause.method == "mean_error_rate":
        return (
            "Each eligible interval's error rate is failed / total; attained = 100 × (1 − Σ rate / E), "
            "E the eligible intervals; 100 when E = 0."
        )
    return (
        "attained = 100 × (Σ total − Σ failed) / Σ total over the eligible intervals; "
        "100 when there are no requests."
    )


def _min_requests_words(clause: AvailabilityClause) -> str:
    if clause.method == "downtime_intervals":
        return "an interval with fewer requests is never down."
    return "an interval with fewer requests has rate 0."


def _maintenance_words(ctx: ClauseContext) -> str:
    if not _excludes(ctx):
        return "Maintenance is not excluded (exclude_maintenance: false)."
    notice = ctx.contract.maintenance.announced_min_notice
    announced = (
        f"announced maintenance with at least {duration_words(notice)} notice"
        if notice is not None
        else "no announced maintenance (the contract sets no announced_min_notice)"
    )
    return (
        f"An interval touching scheduled maintenance or {announced} is left out: not eligible, "
        "its requests not counted, and it ends a down run."
    )


def _excludes(ctx: ClauseContext) -> bool:
    return _availability(ctx).exclude_maintenance


def _rate_words(value: Fraction) -> str:
    shown = f"{float(100 * value):.3f}%"
    return shown if (100 * value).denominator == 1 else f"{shown} ({value.numerator}/{value.denominator})"


def _fraction(value: Fraction) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def _exact(value: Fraction) -> str:
    return _fraction(value) if value.denominator == 1 else f"{_fraction(value)} ≈ {float(value):.6f}"


def _availability(ctx: ClauseContext) -> AvailabilityClause:
    assert isinstance(ctx.clause, AvailabilityClause)
    return ctx.clause
