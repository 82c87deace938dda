"""The detail behind a period's figures, for statements: outages counted, maintenance
excluded, missed tickets. Plain JSON-able data (times in µs since the epoch)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from monitor.engine.availability import AvailabilityClauseState
from monitor.engine.business_hours import CalendarHours
from monitor.engine.calendar import PeriodKey
from monitor.engine.response import ResponseClauseState, UndecidedLine
from monitor.engine.results import ClauseResult
from monitor.engine.uptime import UptimeClauseState

MAX_LINES = 500  # per list and period: a flapping service must not make a record huge
MAX_EXACT_CHARS = 200  # the exact sum of error rates is kept while its "p/q" text is this short


@dataclass(frozen=True)
class ClauseDetails:
    contract: str
    clause: str
    period: PeriodKey
    final: bool
    data: dict[str, Any]

    def to_record(self) -> dict[str, Any]:
        return {
            "record": "details",
            "contract": self.contract,
            "clause": self.clause,
            "period": self.period,
            "final": self.final,
            "details": self.data,
        }


def uptime_details(state: UptimeClauseState, results: list[ClauseResult], clock: int) -> list[ClauseDetails]:
    lines, open_start = state.outages_until(clock)
    details = []
    for result in results:
        found = lines.get(result.period, [])
        outages = [
            [start, end, counted, open_start == start and end == clock] for start, end, counted, *_ in found
        ]
        # the ids of the status events at each outage's edges, line for line (None: not kept)
        edges = [[start_event, end_event] for *_, start_event, end_event in found]
        maintenance = [list(line) for line in state.excluded_lines(result.period, clock)]
        announcements = state.announcements_in(result.period, clock)
        data = {
            "kind": "uptime",
            "as_of": clock,
            "outages": outages[:MAX_LINES],
            "outages_total": len(outages),
            "outage_events": edges[:MAX_LINES],
            "maintenance": maintenance[:MAX_LINES],
            "maintenance_total": len(maintenance),
            # every announcement touching the period, excluded or not (too short a notice),
            # with its event id: [start, end, announced at, event id]
            "announcements": [list(a) for a in announcements[:MAX_LINES]],
            "events_received": state.received.received(result.period),
        }
        details.append(ClauseDetails(result.contract, result.clause, result.period, result.final, data))
    return details


def availability_details(
    state: AvailabilityClauseState, results: list[ClauseResult], clock: int
) -> list[ClauseDetails]:
    """Down runs (start, end, worst error rate as failed/total, intervals counted in the
    period, still down at the clock), the excluded intervals and the period's totals."""
    figures = state.figures(clock)
    details = []
    for result in results:
        runs = [
            [
                start,
                end,
                failed,
                total,
                count,
                figures.open_run == start and end == clock // state.interval * state.interval,
            ]
            for start, end, failed, total, count, *_ in figures.runs.get(result.period, [])
        ]
        # the ids of the requests events of each run's first and last interval, line for line
        # (empty: not kept, from a snapshot written before they were)
        edges = [[list(first), list(last)] for *_, first, last in figures.runs.get(result.period, [])]
        excluded = [list(span) for span in state.excluded_lines(result.period, clock)]
        totals = figures.periods[result.period]
        rate = totals.rate.value()
        exact = str(rate)  # "p/q" (or "p"): for `slamon explain`, which needs the exact sum
        data = {
            "kind": "availability",
            "as_of": clock,
            "method": state.clause.method,
            "interval_us": state.interval,
            "down_runs": runs[:MAX_LINES],
            "down_runs_total": len(runs),
            "down_run_events": edges[:MAX_LINES],
            "excluded": excluded[:MAX_LINES],
            "excluded_total": len(excluded),
            "maintenance": [list(line) for line in state.exclusion_sources(result.period, clock)][:MAX_LINES],
            "eligible_intervals": totals.eligible,
            "down_intervals": totals.down,
            "error_rate_sum": float(rate),
            "error_rate_sum_exact": exact if len(exact) <= MAX_EXACT_CHARS else None,
            "requests": totals.total,
            "failed_requests": totals.failed,
            "events_received": None,  # not recorded for availability clauses: requests are counted
        }
        details.append(ClauseDetails(result.contract, result.clause, result.period, result.final, data))
    return details


def response_details(
    state: ResponseClauseState, results: list[ClauseResult], clock: int, lateness: int
) -> list[ClauseDetails]:
    missed = state.missed_until(clock)
    undecided = state.undecided_until(clock, lateness)
    tickets = state.tickets_until(clock)
    counts = state.results(clock)
    details = []
    for result in results:
        lines = sorted(missed.get(result.period, []), key=lambda line: (line[2], line[0]))
        count = counts.get(result.period)
        data = {
            "kind": "response_time",
            "as_of": clock,
            "within_us": state.within,
            "missed": [list(line) for line in lines[:MAX_LINES]],
            "missed_total": len(lines),
            "counted": count.counted if count is not None else 0,
            # every counted ticket, by (ticket id, opened), with the ids of the events that decided
            # it: [ticket id, priority, opened, opened event, first measure, its event, deadline,
            # on time, [pauses and resumes before the deadline that changed its state]]
            "tickets": [[*line[:8], list(line[8])] for line in tickets.get(result.period, [])[:MAX_LINES]],
            "on_time": count.on_time if count is not None else 0,
            "events_received": state.received.received(result.period),
        }
        if state.business:
            data |= business_details(state, result.period, undecided.get(result.period, []))
        details.append(ClauseDetails(result.contract, result.clause, result.period, result.final, data))
    return details


def business_details(
    state: ResponseClauseState, period: PeriodKey, undecided: list[UndecidedLine]
) -> dict[str, Any]:
    """What a clause in business time adds: its calendar, the closed days of the month, the
    tickets undecided when the month settled (not counted), and when it settles."""
    start, end = state.calendar.bounds(period)
    hours = state.hours
    closed = hours.closed_between(start, end) if isinstance(hours, CalendarHours) else []
    lines = sorted(undecided, key=lambda line: (line[2], line[0]))
    return {
        "calendar": state.clause.calendar,
        "pausable": state.clause.pausable,
        "holidays": [[day.isoformat(), name] for day, name in closed],
        "undecided": [list(line) for line in lines[:MAX_LINES]],
        "undecided_total": len(lines),
        "settles_at": state.settles_at(period),
    }
