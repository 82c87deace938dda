"""The engine: events in, period results out. Pure and deterministic: no I/O, no clock of its own."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction

from monitor.contract import AvailabilityClause, Contract, UptimeClause
from monitor.engine.availability import MINUTE_US, AvailabilityClauseState, RequestLog
from monitor.engine.calendar import ContractCalendar, PeriodKey
from monitor.engine.credits import ClauseFigure, assess_clause, assess_contract
from monitor.engine.details import ClauseDetails, availability_details, response_details, uptime_details
from monitor.engine.exclusion import ServiceExclusions
from monitor.engine.notices import DEFAULT_AT_RISK_BUDGET_PERCENT, Notice, UptimeBudget
from monitor.engine.response import ResponseClauseState
from monitor.engine.results import ClauseResult, ClauseStatus, PeriodResult
from monitor.engine.schedule import MaintenanceSchedule
from monitor.engine.timeline import ServiceTimeline
from monitor.engine.uptime import UptimeClauseState
from monitor.engine.watch import ClauseState, NoticeWatch
from monitor.events import Event
from monitor.terms import Terms, contract_terms
from monitor.timeutil import EPOCH, ONE_MICROSECOND, describe_instant, span_us, to_us

DEFAULT_LATENESS = timedelta(hours=1)
DEFAULT_MAX_FUTURE_SKEW = timedelta(hours=1)  # how far ahead of its clock a driver accepts events
MIN_FOLD_STEP_US = 60 * 1_000_000


class Outcome(StrEnum):
    APPLIED = "applied"
    DUPLICATE = "duplicate"
    LATE = "late"
    INVALID = "invalid"
    FUTURE = "future"


@dataclass(frozen=True)
class Verdict:
    outcome: Outcome
    reason: str | None = None


APPLIED = Verdict(Outcome.APPLIED)
DUPLICATE = Verdict(Outcome.DUPLICATE)
LATE = Verdict(Outcome.LATE, "late")


def _future(event: Event, not_after: int) -> Verdict:
    bound = describe_instant(not_after)
    return Verdict(Outcome.FUTURE, f"future: 'at' {event.at.isoformat()} is after {bound}")


class Engine:
    """Evaluates contracts over one ordered-or-not stream of events.

    The watermark is the largest ``at`` of the valid events seen. Events older than the
    watermark minus ``allowed_lateness`` are late and not applied; everything before that
    point is settled and folded into running totals, so memory does not grow with events.
    """

    def __init__(
        self,
        contracts: Sequence[Contract],
        allowed_lateness: timedelta = DEFAULT_LATENESS,
        *,
        clocked_by_events: bool = True,
        at_risk_budget_percent: Decimal = DEFAULT_AT_RISK_BUDGET_PERCENT,
    ):
        """``clocked_by_events=False`` leaves the watermark to the driver (``advance_to``): the
        live worker sets it from several input partitions that are read at different paces.
        ``at_risk_budget_percent`` applies to contracts that do not set their own."""
        self._clocked_by_events = clocked_by_events
        self.contracts = {c.id: c for c in sorted(contracts, key=lambda c: c.id)}
        self.lateness = span_us(allowed_lateness)
        self._fold_step = max(self.lateness, MIN_FOLD_STEP_US)
        self.watermark: int | None = None
        self._settled: int | None = None
        self._earliest: int | None = None  # of the events applied before there was a watermark
        self._seen: dict[str, int] = {}  # id -> key time (µs) of the events not folded yet
        self._seen_by_minute: defaultdict[int, list[str]] = defaultdict(list)  # the ids by minute of key time
        self.timelines: dict[str, ServiceTimeline] = {}
        self._uptime: dict[str, list[UptimeClauseState]] = {}
        self._responses: dict[str, list[ResponseClauseState]] = {}
        self._clauses: dict[str, list[ClauseState]] = {}
        self._requests: dict[str, RequestLog] = {}
        self._availability: dict[str, list[AvailabilityClauseState]] = {}
        # the states of one clause id under each set of terms, in date order, with its title
        self._versions: dict[tuple[str, str], list[tuple[ClauseState, Terms]]] = {}
        for contract in self.contracts.values():
            self._add_contract(contract, at_risk_budget_percent)
        self.watch = NoticeWatch(
            [state for states in self._clauses.values() for state in states],
            self.lateness,
            at_risk_budget_percent,
            self._assess,
        )

    def _add_contract(self, contract: Contract, at_risk_budget_percent: Decimal) -> None:
        """One state per clause and set of terms: an amendment's clauses are evaluated only
        in its months, under its terms (SPEC.md section 12)."""
        states: list[ClauseState] = []
        for terms in contract_terms(contract):
            in_force = terms.contract
            calendar = ContractCalendar(in_force, (terms.starts, terms.ends))
            schedule = MaintenanceSchedule(in_force, calendar)
            for clause in in_force.clauses:
                if isinstance(clause, AvailabilityClause):
                    states.append(
                        self._add_availability(in_force, clause, calendar, schedule, at_risk_budget_percent)
                    )
                elif isinstance(clause, UptimeClause):
                    timeline = self.timelines.setdefault(clause.service, ServiceTimeline())
                    state = UptimeClauseState(in_force, clause, calendar, schedule, timeline)
                    self._uptime.setdefault(clause.service, []).append(state)
                    states.append(state)
                else:
                    response = ResponseClauseState(in_force, clause, calendar)
                    self._responses.setdefault(contract.id, []).append(response)
                    states.append(response)
                self._versions.setdefault((contract.id, clause.id), []).append((states[-1], terms))
        self._clauses[contract.id] = states

    def _add_availability(
        self,
        contract: Contract,
        clause: AvailabilityClause,
        calendar: ContractCalendar,
        schedule: MaintenanceSchedule,
        at_risk_budget_percent: Decimal,
    ) -> AvailabilityClauseState:
        timeline = self.timelines.setdefault(clause.service, ServiceTimeline())  # its announcements
        exclusions = ServiceExclusions(contract, clause.exclude_maintenance, schedule, timeline)
        log = self._requests.setdefault(clause.service, RequestLog())
        log.keep_ids = log.keep_ids or clause.method == "downtime_intervals"  # its down runs' edges
        threshold = contract.at_risk_budget_percent
        state = AvailabilityClauseState(
            contract,
            clause,
            calendar,
            exclusions,
            log,
            threshold if threshold is not None else at_risk_budget_percent,
        )
        self._availability.setdefault(clause.service, []).append(state)
        return state

    # input ---------------------------------------------------------------------------
    def apply(self, event: Event, not_after: int | None = None) -> Verdict:
        """Apply one valid event; say whether it was applied, a duplicate or late.

        ``not_after`` (microseconds since the epoch) is the driver's future-time bound: an
        event whose ``at`` is after it is refused as ``future`` and changes nothing, not even
        the clock. The engine has no clock of its own: the live worker passes the wall clock
        plus the allowed skew, replay ``--as-of`` plus the skew."""
        kind = event.type  # dispatch on the tag: this is the per-event hot path
        if kind == "ticket" and event.contract not in self.contracts:  # type: ignore[union-attr]
            return Verdict(Outcome.INVALID, f"unknown contract {event.contract!r}")  # type: ignore[union-attr]
        at = (
            event.at_us  # type: ignore[union-attr]
            if kind == "requests" or kind == "status"  # the records that hold their instants in µs
            else (event.at - EPOCH) // ONE_MICROSECOND
        )
        if not_after is not None and at > not_after:
            return _future(event, not_after)
        event_id = event.event_id
        seen = self._seen
        if event_id in seen:
            return DUPLICATE
        if kind == "requests":
            key_time = event.start_us  # type: ignore[union-attr]
        else:
            key_time = to_us(event.start) if kind == "maintenance" else at  # type: ignore[union-attr]
        watermark = self.watermark
        if watermark is not None and key_time < watermark - self.lateness:
            # still a valid event: its `at` (a maintenance announcement's) moves the clock
            if self._clocked_by_events and at > watermark:
                self._advance(at)
            return LATE
        seen[event_id] = key_time
        minute = key_time // MINUTE_US
        self._seen_by_minute[minute].append(event_id)
        if self._settled is None and (self._earliest is None or key_time < self._earliest):
            self._earliest = key_time
        if kind == "requests":
            log = self._requests.get(event.service)  # type: ignore[union-attr]
            if log is not None:
                log.add(minute, event.total, event.failed, event_id)  # type: ignore[union-attr]
                if event.failed:  # type: ignore[union-attr]
                    self.watch.failed_requests(event.service, key_time)  # type: ignore[union-attr]
        elif kind == "status":
            timeline = self.timelines.get(event.service)  # type: ignore[union-attr]
            if timeline is not None:
                is_down = event.status == "down"  # type: ignore[union-attr]
                timeline.add_status(at, event_id, is_down)
                for state in self._uptime.get(event.service, ()):  # type: ignore[union-attr]
                    state.received.add(at)
                if is_down:
                    self.watch.down_status(event.service, at)  # type: ignore[union-attr]
        elif kind == "maintenance":
            timeline = self.timelines.get(event.service)  # type: ignore[union-attr]
            if timeline is not None:
                timeline.add_announcement(key_time, to_us(event.end), at, event_id)  # type: ignore[union-attr]
                self._received(event.service, at)  # type: ignore[union-attr]
                self.watch.maintenance(event.service, watermark if watermark is not None else at)  # type: ignore[union-attr]
        else:
            for response in self._responses.get(event.contract, ()):  # type: ignore[union-attr]
                response.received.add(at)
                response.add(event.ticket_id, event.action, at, event_id, event.priority)  # type: ignore[union-attr]
            self.watch.ticket(event.contract, at)  # type: ignore[union-attr]
        if self._clocked_by_events and (watermark is None or at > watermark):
            self._advance(at)
        return APPLIED

    def _received(self, service: str, at: int) -> None:
        for state in self._uptime.get(service, ()):
            state.received.add(at)

    def advance(self, clock: datetime) -> None:
        """Move the watermark forward to ``clock`` (never back): idle partitions, ``--as-of``."""
        self._advance(to_us(clock))

    def advance_to(self, instant: int) -> None:
        """``advance`` for an instant in microseconds since the epoch."""
        self._advance(instant)

    def _advance(self, instant: int) -> None:
        if self.watermark is not None and instant <= self.watermark:
            return
        self.watermark = instant
        bound = instant - self.lateness
        if self._settled is None:
            # nothing is settled yet: start no later than the earliest event already applied
            self._settled = min(bound, self._earliest) if self._earliest is not None else bound
        if bound >= self._settled + self._fold_step:
            self._fold(bound)
        if instant >= self.watch.next_due:
            self.watch.run(instant, self._settled)

    def _fold(self, upto: int) -> None:
        start = self._settled
        assert start is not None
        for service, timeline in self.timelines.items():
            states = self._uptime.get(service, ())
            for state in states:
                state.fold(start, upto)
                state.freeze_final(upto)  # before the timeline forgets old maintenance
            timeline.fold(upto)
            if timeline.ended_spans:
                for state in states:
                    state.record_outages(timeline.ended_spans)
                timeline.ended_spans = []
        for responses in self._responses.values():
            for response in responses:
                response.fold(upto)
        for service, availability in self._availability.items():
            for requests_state in availability:
                requests_state.fold(upto)
            folded = [m for m in (s.folded_minute for s in availability) if m is not None]
            if folded:
                self._requests[service].drop_before(min(folded))
        self._forget_seen(upto)
        self._settled = upto

    def _forget_seen(self, upto: int) -> None:
        """Forget the ids of events whose key time is before ``upto``: their duplicates
        would be late. Only the minutes before ``upto`` are looked at."""
        seen, by_minute = self._seen, self._seen_by_minute
        last = upto // MINUTE_US  # the minute holding ``upto``: only some of its ids go
        for minute in [m for m in by_minute if m <= last]:
            if minute < last:
                for event_id in by_minute.pop(minute):
                    del seen[event_id]
                continue
            kept = []
            for event_id in by_minute[minute]:
                if seen[event_id] < upto:
                    del seen[event_id]
                else:
                    kept.append(event_id)
            by_minute[minute] = kept

    def restore_seen(self, seen: dict[str, int]) -> None:
        """The ids of the events not folded yet, with their key times (µs), from a snapshot."""
        self._seen = dict(seen)
        self._seen_by_minute = defaultdict(list)
        for event_id, key_time in self._seen.items():
            self._seen_by_minute[key_time // MINUTE_US].append(event_id)

    # output --------------------------------------------------------------------------
    def take_notices(self) -> list[Notice]:
        """The notices established since the last call, in a deterministic order."""
        notices, self.watch.pending = self.watch.pending, []
        return notices

    def recent_notices(self) -> list[Notice]:
        """Every notice of the periods still open or just closed: a recovered driver states
        them again (same ids), in case the ones it had taken were lost in the crash."""
        return list(self.watch.recent.values())

    def results(self, clock: int | None = None) -> list[PeriodResult]:
        """Clause results for every period started before ``clock`` (default: the watermark),
        then the contract results, in contract order."""
        clock = self.watermark if clock is None else clock
        if clock is None:
            return []
        results: list[PeriodResult] = []
        for contract_id, states in self._clauses.items():
            clause_results: list[ClauseResult] = []
            for state in states:
                if self._versions[(contract_id, state.clause.id)][0][0] is state:  # once per clause id
                    clause_results.extend(self._assess(state, clock))
            clause_results.sort(key=lambda r: (r.clause, r.period))
            results.extend(clause_results)
            results.extend(assess_contract(self.contracts[contract_id], clause_results))
        return results

    def _assess(self, state: ClauseState, clock: int) -> list[ClauseResult]:
        """Results of the state's clause id in every period started before ``clock``, under
        each set of terms that has it: counts follow the clause id across amendments."""
        figures = []
        for version, terms in self._versions[(state.contract.id, state.clause.id)]:
            attained, final = self._figures(version, clock)
            title = terms.title
            figures += [ClauseFigure(k, version.clause, v, final[k], title) for k, v in attained.items()]
        return assess_clause(state.contract, figures)

    def _figures(
        self, state: ClauseState, clock: int
    ) -> tuple[dict[PeriodKey, Fraction], dict[PeriodKey, bool]]:
        if isinstance(state, AvailabilityClauseState):
            periods = state.figures(clock)
            attained = {key: state.attained(totals) for key, totals in periods.periods.items()}
            final = {key: state.is_final(key, clock, self.lateness, periods.undecided) for key in attained}
        elif isinstance(state, UptimeClauseState):
            figures = state.results(clock, self._settled)
            attained = {key: f.attained for key, f in figures.periods.items()}
            final = {key: state.is_final(key, clock, self.lateness, figures.undecided) for key in attained}
        else:
            counts = state.results(clock)
            attained = {key: c.attained for key, c in counts.items()}
            final = {key: state.is_final(key, clock, self.lateness) for key in attained}
        return attained, final

    def clause_status(self) -> list[ClauseStatus]:
        """Each clause's latest period started before the watermark, with its error budget."""
        clock = self.watermark
        if clock is None:
            return []
        statuses = []
        for states in self._clauses.values():
            for state in states:
                results = self._assess(state, clock)
                if results and _owns(state, results[-1].period) and self._in_force(state, clock):
                    statuses.append(self._status(state, results[-1], clock))
        return statuses

    def _in_force(self, state: ClauseState, clock: int) -> bool:
        """False for a clause an amendment in force at ``clock`` has removed."""
        ends_at = state.calendar.ends_at
        last = self._versions[(state.contract.id, state.clause.id)][-1][1]
        return ends_at is None or clock < ends_at or last.ends == state.contract.effective_to

    def _status(self, state: ClauseState, result: ClauseResult, clock: int) -> ClauseStatus:
        target = Fraction(result.target_percent)
        if isinstance(state, AvailabilityClauseState):
            used, breached = state.status(result.period, state.figures(clock).periods[result.period])
        elif isinstance(state, UptimeClauseState):
            downtime = state.results(clock, self._settled).periods[result.period].downtime
            budget = UptimeBudget(state.whole_period_eligible(result.period), downtime, result.target_percent)
            used = budget.used if budget.used is not None else Fraction(int(downtime > 0))
            breached = budget.breached()
        else:
            used = (100 - result.attained) / (100 - target) if target < 100 else Fraction(int(not result.met))
            breached = not result.met
        return ClauseStatus(
            contract=result.contract,
            clause=result.clause,
            period=result.period,
            attained=result.attained,
            target_percent=result.target_percent,
            budget_remaining=1 - used,
            breached=breached,
            consecutive_breaches=result.consecutive_breaches,
            paused_tickets=state.paused_now(clock) if isinstance(state, ResponseClauseState) else None,
        )

    def clause_details(self, clock: int | None = None, periods: int = 2) -> list[ClauseDetails]:
        """Outages, maintenance and missed tickets behind each clause's latest ``periods``
        periods started before ``clock`` (default: the watermark)."""
        clock = self.watermark if clock is None else clock
        if clock is None:
            return []
        details: list[ClauseDetails] = []
        for states in self._clauses.values():
            for state in states:
                recent = [r for r in self._assess(state, clock)[-periods:] if _owns(state, r.period)]
                if isinstance(state, AvailabilityClauseState):
                    details += availability_details(state, recent, clock)
                elif isinstance(state, UptimeClauseState):
                    details += uptime_details(state, recent, clock)
                else:
                    details += response_details(state, recent, clock, self.lateness)
        return details


def _owns(state: ClauseState, period: PeriodKey) -> bool:
    """Whether the period is one of this state's (its terms are in force in it)."""
    start, end = state.calendar.bounds(period)
    return start < end
