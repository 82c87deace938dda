"""The engine's state as plain JSON-able data (a copy), so a stream processor can persist and restore it.

Plain data rather than pickle: a snapshot read back from a changelog topic can never run code.
"""

from __future__ import annotations

from typing import Any

from monitor.engine.availability import (
    AvailabilityClauseState,
    DownRun,
    PeriodTotals,
    RateSum,
    RequestLog,
    RunLine,
)
from monitor.engine.core import Engine
from monitor.engine.response import MissedLine, ResponseClauseState, Ticket, TicketCounts
from monitor.engine.ticket_clock import PauseLog
from monitor.engine.timeline import ServiceTimeline
from monitor.engine.uptime import OutageLine, UptimeClauseState, UptimeFigures, _SpanProgress
from monitor.engine.watch import state_key

SNAPSHOT_VERSION = 2


def _timeline_data(timeline: ServiceTimeline) -> dict[str, Any]:
    return {
        "settled": timeline.settled,
        "down_before": timeline.down_before,
        "down_since": timeline.down_since,
        "down_since_event": timeline.down_since_event,
        "pending": list(timeline.pending),
        "announcements": list(timeline.announcements),
    }


def _restore_timeline(timeline: ServiceTimeline, data: dict[str, Any]) -> None:
    timeline.settled = data["settled"]
    timeline.down_before = data["down_before"]
    timeline.down_since = data["down_since"]
    timeline.down_since_event = data.get("down_since_event")  # absent before ids were kept
    timeline.pending = [tuple(change) for change in data["pending"]]
    timeline.pending_downs = sum(1 for change in timeline.pending if change[2])
    timeline.announcements = [tuple(a) for a in data["announcements"]]


def _uptime_data(state: UptimeClauseState) -> dict[str, Any]:
    return {
        "downtime": dict(state.downtime),
        "frozen": {key: [f.eligible, f.downtime] for key, f in state.frozen.items()},
        "span": [state._open_span.qualified, dict(state._open_span.held)],
        "first_open": state._first_open,
        "all_frozen": state._all_frozen,
        "next_freeze_at": state._next_freeze_at,
        "outages": {key: [list(line) for line in lines] for key, lines in state.outages.items()},
        "received": dict(state.received.counts),
    }


def _restore_uptime(state: UptimeClauseState, data: dict[str, Any]) -> None:
    state.downtime = dict(data["downtime"])
    state.frozen = {key: UptimeFigures(*value) for key, value in data["frozen"].items()}
    state._open_span = _SpanProgress(data["span"][0], dict(data["span"][1]))
    state._first_open = data["first_open"]
    state._all_frozen = data["all_frozen"]
    state._next_freeze_at = data["next_freeze_at"]
    state.outages = {key: [_outage_line(line) for line in lines] for key, lines in data["outages"].items()}
    state.received.counts = dict(data.get("received", {}))  # absent from snapshots before it was kept


def _outage_line(line: list[Any]) -> OutageLine:
    """An outage line; one from a snapshot written before the edges' ids were kept has none."""
    start, end, counted, *edges = line
    start_event, end_event = edges if edges else (None, None)
    return (start, end, counted, start_event, end_event)


def _ticket_data(ticket: Ticket) -> list[Any]:
    pauses = ticket.pauses.to_data() if ticket.pauses is not None else None
    return [ticket.opened, ticket.first_measure, pauses, ticket.measure_event]


def _ticket_from(data: list[Any]) -> Ticket:
    """A ticket; older snapshots wrote [opened, measure] or [opened, measure, pauses], without
    the measure's event id."""
    opened, measure, *rest = data
    pauses = rest[0] if rest else None
    return Ticket(
        tuple(opened) if opened is not None else None,
        measure,
        rest[1] if len(rest) > 1 else None,
        PauseLog.from_data(pauses) if pauses is not None else None,
    )


def _log_data(log: RequestLog) -> list[list[Any]]:
    """[minute, total, failed] and, when the log keeps them, the ids of the minute's events."""
    return [
        [minute, total, failed, *([log.minute_ids(minute)] if log.keep_ids else [])]
        for minute, total, failed in log.counts()
    ]


def _restore_log(log: RequestLog, data: list[list[Any]]) -> None:
    log.totals = {minute: total for minute, total, *_ in data}
    log.failures = {minute: failed for minute, _, failed, *_ in data if failed}
    log.restore_ids({line[0]: list(line[3]) for line in data if len(line) > 3 and line[3]})
    log.dropped_to = None  # not known: the first drop looks at every minute


def _availability_data(state: AvailabilityClauseState) -> dict[str, Any]:
    run = state.run
    return {
        "folded_to": state.folded_to,
        "totals": {
            # the rate sum's numbers outgrow JSON's 64-bit integers: hexadecimal text
            key: [t.eligible, t.down, f"{t.rate.numerator:x}", f"{t.rate.denominator:x}", t.total, t.failed]
            for key, t in state.totals.items()
        },
        "run": [
            run.start,
            run.end,
            list(run.worst),
            run.qualified,
            dict(run.held),
            dict(run.per_period),
            list(run.first_events),
            list(run.last_events),
        ],
        "runs": {
            key: [[*line[:5], list(line[5]), list(line[6])] for line in lines]
            for key, lines in state.runs.items()
        },
        "dips": dict(state.dips),
    }


def _restore_availability(state: AvailabilityClauseState, data: dict[str, Any]) -> None:
    state.folded_to = data["folded_to"]
    state.totals = {
        key: PeriodTotals(eligible, down, RateSum(int(numerator, 16), int(denominator, 16)), total, failed)
        for key, (eligible, down, numerator, denominator, total, failed) in data["totals"].items()
    }
    # snapshots written before the down runs' edge ids were kept have none
    start, end, worst, qualified, held, per_period, *edges = data["run"]
    first, last = _edge_ids(edges)
    state.run = DownRun(
        start, end, (worst[0], worst[1]), qualified, dict(held), dict(per_period), first, last
    )
    state.runs = {key: [_run_line(line) for line in lines] for key, lines in data["runs"].items()}
    state.dips = dict(data["dips"])


def _run_line(line: list[Any]) -> RunLine:
    start, end, failed, total, count, *edges = line
    return (start, end, failed, total, count, *_edge_ids(edges))


def _edge_ids(edges: list[Any]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The ids at a down run's first and last interval; none from an older snapshot."""
    return (tuple(edges[0]), tuple(edges[1])) if edges else ((), ())


def _response_data(state: ResponseClauseState) -> dict[str, Any]:
    return {
        "tickets": {tid: _ticket_data(t) for tid, t in state.tickets.items()},
        "counts": {key: [c.counted, c.on_time] for key, c in state.settled_counts.items()},
        "settled_ids": dict(state.settled_ids),
        "missed": {key: [list(line) for line in lines] for key, lines in state.missed.items()},
        "undecided": {key: [list(line) for line in lines] for key, lines in state.undecided.items()},
        "decided": {key: [list(line) for line in lines] for key, lines in state.decided.items()},
        "received": dict(state.received.counts),
    }


def _missed_line(state: ResponseClauseState, line: list[Any]) -> MissedLine:
    """A missed line; one from a snapshot written before deadlines were kept gets its
    elapsed-time deadline and counted time (those snapshots had no calendars or pauses)."""
    if len(line) == 4:
        ticket_id, priority, opened, measure = line
        counted = None if measure is None else measure - opened
        return (ticket_id, priority, opened, measure, opened + state.within, counted)
    return tuple(line)


def _restore_response(state: ResponseClauseState, data: dict[str, Any]) -> None:
    state.tickets = {tid: _ticket_from(ticket) for tid, ticket in data["tickets"].items()}
    state.settled_counts = {key: TicketCounts(*value) for key, value in data["counts"].items()}
    state.settled_ids = dict(data["settled_ids"])
    missed = data["missed"]
    state.missed = {key: [_missed_line(state, line) for line in lines] for key, lines in missed.items()}
    state.undecided = {
        key: [tuple(line) for line in lines] for key, lines in data.get("undecided", {}).items()
    }
    state.received.counts = dict(data.get("received", {}))
    state.decided = {  # absent from snapshots before the counted tickets' ids were kept
        key: [(*line[:8], tuple(line[8])) for line in lines] for key, lines in data.get("decided", {}).items()
    }


def export_state(engine: Engine) -> dict[str, Any]:
    clauses: dict[str, Any] = {}
    for states in engine._clauses.values():
        for state in states:
            key = state_key(state)
            if isinstance(state, AvailabilityClauseState):
                clauses[key] = _availability_data(state)
            elif isinstance(state, UptimeClauseState):
                clauses[key] = _uptime_data(state)
            else:
                clauses[key] = _response_data(state)
    return {
        "version": SNAPSHOT_VERSION,
        "watermark": engine.watermark,
        "settled": engine._settled,
        "earliest": engine._earliest,
        "seen": dict(engine._seen),
        "timelines": {service: _timeline_data(t) for service, t in engine.timelines.items()},
        "requests": {service: _log_data(log) for service, log in engine._requests.items()},
        "clauses": clauses,
        "notices": engine.watch.export(),
    }


def restore_state(engine: Engine, data: dict[str, Any]) -> None:
    """Load a snapshot into an engine built from the same contracts (unknown parts are skipped)."""
    if data.get("version") != SNAPSHOT_VERSION:
        raise ValueError(f"unsupported engine snapshot version {data.get('version')!r}")
    engine.watermark = data["watermark"]
    engine._settled = data["settled"]
    engine._earliest = data["earliest"]
    engine.restore_seen(data["seen"])
    for service, timeline_data in data["timelines"].items():
        timeline = engine.timelines.get(service)
        if timeline is not None:
            _restore_timeline(timeline, timeline_data)
    for service, log_data in data.get("requests", {}).items():
        log = engine._requests.get(service)
        if log is not None:
            _restore_log(log, log_data)
    for states in engine._clauses.values():
        for state in states:
            clause_data = data["clauses"].get(state_key(state))
            if clause_data is None:
                continue
            if isinstance(state, AvailabilityClauseState):
                _restore_availability(state, clause_data)
            elif isinstance(state, UptimeClauseState):
                _restore_uptime(state, clause_data)
            else:
                _restore_response(state, clause_data)
    engine.watch.restore(data["notices"])
