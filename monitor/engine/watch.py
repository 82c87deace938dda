"""When to look for notices, so the engine's per-event path stays cheap.

Each clause has a due clock: the earliest watermark at which one of its notices could
become true. Between dues nothing is computed. The bounds are exact, not sampled:

- uptime: counted downtime grows at most as fast as time, so the budget cannot be crossed
  before the settled point has moved by the gap left (downtime held by a span still
  shorter than ``min_outage`` counts as used); a service with no down status in front of
  the settled point sleeps until a down status arrives;
- response time: a count changes only when a ticket is decided (``next_decision``), or
  with a new ticket event;
- request-based availability: its figures change only with an interval that had failed
  requests, so a clause looks when such an interval has settled (its intervals are folded
  then, in order, so request_ratio's first dip below target + margin is found whatever the
  clock's stops), or when maintenance is announced (the budget shrinks);
- closing: a period is final once the watermark passes its end plus the lateness (for
  response time: its ``D`` plus the lateness, or later while tickets are undecided; for
  availability: the end of its last interval plus the lateness).
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from math import ceil, floor
from typing import Any

from monitor.engine.availability import AvailabilityClauseState
from monitor.engine.calendar import PeriodKey
from monitor.engine.notices import (
    Notice,
    NoticeType,
    UptimeBudget,
    breach_at_close,
    closing_notice,
    notice_id,
    response_risk_notice,
    uptime_risk_notices,
)
from monitor.engine.response import ResponseClauseState
from monitor.engine.results import ClauseResult
from monitor.engine.uptime import UptimeClauseState

NEVER = 2**62
RECHECK_US = 60 * 1_000_000  # a period kept open by a span not yet known to count

ClauseState = UptimeClauseState | ResponseClauseState | AvailabilityClauseState


def state_key(state: ClauseState) -> str:
    """A clause state's name in snapshots: ``contract/clause``, plus ``@YYYY-MM-DD`` for the
    state of an amendment in force from that day."""
    key = f"{state.contract.id}/{state.clause.id}"
    terms_from = state.calendar.terms_from
    return key if terms_from is None else f"{key}@{terms_from.isoformat()}"


@dataclass
class _Watched:
    state: ClauseState
    threshold: Decimal
    due: int = 0
    next_close: PeriodKey | None = None
    # the last open periods found: (next_close, horizons [from, to] they hold for, periods)
    open_periods: tuple[PeriodKey, int, int, list[PeriodKey]] | None = None


class NoticeWatch:
    def __init__(
        self,
        states: Sequence[ClauseState],
        lateness: int,
        default_threshold: Decimal,
        assess: Callable[[ClauseState, int], list[ClauseResult]],
    ) -> None:
        self.lateness = lateness
        self._assess = assess
        self.watched = [
            _Watched(
                state,
                state.contract.at_risk_budget_percent
                if state.contract.at_risk_budget_percent is not None
                else default_threshold,
                next_close=next(state.calendar.keys_from(), None),
            )
            for state in states
        ]
        self._heap: list[tuple[int, int]] = []
        self.recent: dict[str, Notice] = {}  # notices of the periods not closed long ago
        self.pending: list[Notice] = []
        self._by_service: dict[str, list[int]] = {}
        self._by_contract: dict[str, list[int]] = {}
        self._by_requests: dict[str, list[tuple[int, int]]] = {}  # (index, interval length)
        for index, watched in enumerate(self.watched):
            state = watched.state
            if isinstance(state, AvailabilityClauseState):
                self._by_requests.setdefault(state.clause.service, []).append((index, state.interval))
            if isinstance(state, UptimeClauseState | AvailabilityClauseState):
                self._by_service.setdefault(state.clause.service, []).append(index)
            else:
                self._by_contract.setdefault(state.contract.id, []).append(index)
        self.rebuild()

    def rebuild(self) -> None:
        self._heap = [(w.due, i) for i, w in enumerate(self.watched) if w.due < NEVER]
        heapq.heapify(self._heap)

    @property
    def next_due(self) -> int:
        return self._heap[0][0] if self._heap else NEVER

    # waking ------------------------------------------------------------------------
    def _wake(self, index: int, clock: int) -> None:
        watched = self.watched[index]
        if clock < watched.due:
            watched.due = clock
            heapq.heappush(self._heap, (clock, index))

    def down_status(self, service: str, at: int) -> None:
        for index in self._by_service.get(service, ()):
            self._wake(index, at + self.lateness)

    def failed_requests(self, service: str, start: int) -> None:
        """Requests failed at ``start``: look once the interval holding it has settled."""
        for index, size in self._by_requests.get(service, ()):  # ``_wake``, inline: per event
            clock = start - start % size + size + self.lateness
            watched = self.watched[index]
            if clock < watched.due:
                watched.due = clock
                heapq.heappush(self._heap, (clock, index))

    def maintenance(self, service: str, clock: int) -> None:
        """A new announcement can shrink a period's budget: look again at the next clock."""
        for index in self._by_service.get(service, ()):
            self._wake(index, clock)

    def ticket(self, contract: str, at: int) -> None:
        for index in self._by_contract.get(contract, ()):
            self._wake(index, at + self.lateness)

    # checking ----------------------------------------------------------------------
    def run(self, clock: int, settled: int | None) -> None:
        while self._heap and self._heap[0][0] <= clock:
            due, index = heapq.heappop(self._heap)
            watched = self.watched[index]
            if due != watched.due:
                continue  # superseded by an earlier wake
            # risk first: a clock that jumps past a period's close (an idle partition moved to
            # the wall clock, a recovered worker) still states what the period reached
            risk_due = self._check_risk(watched, clock, settled)
            close_due = self._close_finished(watched, clock)
            watched.due = max(min(close_due, risk_due), clock + 1)
            if watched.due < NEVER:
                heapq.heappush(self._heap, (watched.due, index))

    def _emit(self, notice: Notice) -> None:
        if notice.id not in self.recent:
            self.recent[notice.id] = notice
            self.pending.append(notice)

    def _close_finished(self, watched: _Watched, clock: int) -> int:
        """Close the periods that became final; return the clock at which to look again."""
        state = watched.state
        results: dict[PeriodKey, ClauseResult] | None = None
        while watched.next_close is not None:
            key = watched.next_close
            if clock < self._final_from(state, key):
                return self._final_from(state, key)
            if results is None:
                results = {r.period: r for r in self._assess(state, clock)}
            result = results[key]
            if not result.final:
                if isinstance(state, ResponseClauseState):  # tickets still undecided hold it open
                    return state.next_final_check(key, clock - self.lateness) + self.lateness
                return clock + RECHECK_US  # a down span not yet known to count holds it open
            if not result.met and _breach_at_close(state):
                self._emit(breach_at_close(state.contract, result, clock - self.lateness))
            self._emit(closing_notice(state.contract, result, clock - self.lateness))
            self._forget_before(state, key)
            watched.next_close = _following(state, key)
        return NEVER

    def _final_from(self, state: ClauseState, key: PeriodKey) -> int:
        if isinstance(state, ResponseClauseState):
            return state.final_from(key) + self.lateness
        if isinstance(state, AvailabilityClauseState):
            return state.last_interval_end(key) + self.lateness
        return state.calendar.bounds(key)[1] + self.lateness

    def _forget_before(self, state: ClauseState, period: PeriodKey) -> None:
        stale = [
            notice_id_
            for notice_id_, n in self.recent.items()
            if n.contract == state.contract.id and n.clause == state.clause.id and n.period < period
        ]
        for notice_id_ in stale:
            del self.recent[notice_id_]

    def _open_periods(self, watched: _Watched, horizon: int) -> list[PeriodKey]:
        """The periods from the next one to close that started before ``horizon`` (kept
        for the next wakes: most come before another period starts)."""
        if watched.next_close is None:
            return []
        known = watched.open_periods
        if known is not None and known[0] == watched.next_close and known[1] <= horizon <= known[2]:
            return known[3]
        keys = []
        calendar = watched.state.calendar
        holds_from, holds_to = NEVER, NEVER  # no later period: the same for any later horizon
        for key in calendar.keys_from(watched.next_close):
            start = calendar.bounds(key)[0]
            if start >= horizon:
                holds_to = start
                break
            keys.append(key)
            holds_from = start + 1
        watched.open_periods = (watched.next_close, holds_from if keys else -NEVER, holds_to, keys)
        return keys

    def _check_risk(self, watched: _Watched, clock: int, settled: int | None) -> int:
        horizon = clock - self.lateness
        if isinstance(watched.state, UptimeClauseState):
            return self._check_uptime(watched, watched.state, horizon, settled)
        if isinstance(watched.state, AvailabilityClauseState):
            return self._check_availability(watched, watched.state, horizon)
        return self._check_response(watched, watched.state, horizon)

    def _check_availability(self, watched: _Watched, state: AvailabilityClauseState, horizon: int) -> int:
        """Fold what has settled, then state the budget notices of the open periods (and
        request_ratio's first dips). Nothing else can change them before another wake.
        While the new intervals cannot make a notice true, the fold waits (for the hourly
        fold, or a later wake): the small folds of the watch were a tenth of a replay."""
        periods = self._open_periods(watched, horizon)
        if state.quiet_through(horizon, periods, watched.threshold):
            return NEVER
        state.fold(horizon)
        contract, clause = state.contract, state.clause
        for key in periods:
            dip = state.dips.get(key)
            if dip is not None:
                self._emit(Notice(NoticeType.AT_RISK, contract.id, clause.id, key, horizon, dip))
            totals = state.totals.get(key)
            if totals is None:
                continue
            kinds = [
                k
                for k in state.risk(key, totals, watched.threshold)
                if notice_id(contract.id, clause.id, key, k) not in self.recent
            ]
            if kinds:
                facts = state.risk_facts(key, totals, watched.threshold)
                for kind in kinds:
                    self._emit(Notice(kind, contract.id, clause.id, key, horizon, facts))
        return NEVER

    def _check_uptime(
        self, watched: _Watched, state: UptimeClauseState, horizon: int, settled: int | None
    ) -> int:
        periods = self._open_periods(watched, horizon)
        if not periods:
            start = state.calendar.starts_at
            return start + self.lateness if horizon < start else NEVER
        downtime, held = state.downtime_until(horizon, settled)
        gaps = []
        for key in periods:
            frozen = state.frozen.get(key)
            counted = frozen.downtime if frozen is not None else downtime.get(key, 0)
            figures = UptimeBudget(state.whole_period_eligible(key), counted, state.clause.target_percent)
            for notice in uptime_risk_notices(
                state.clause, state.contract, key, figures, watched.threshold, horizon
            ):
                self._emit(notice)
            gaps.extend(self._uptime_gaps(state, key, figures, held.get(key, 0), watched.threshold))
        current = periods[-1]
        next_look = state.calendar.bounds(current)[1] + self.lateness  # a new period opens
        if gaps and self._may_go_down(state, settled):
            next_look = min(next_look, horizon + max(min(gaps), 1) + self.lateness)
        return next_look

    def _uptime_gaps(
        self, state: UptimeClauseState, key: PeriodKey, figures: UptimeBudget, held: int, threshold: Decimal
    ) -> list[int]:
        """Microseconds of further downtime before each notice not yet sent could be true."""
        used = figures.downtime + held
        gaps = []
        contract, clause = state.contract.id, state.clause.id
        if notice_id(contract, clause, key, NoticeType.AT_RISK) not in self.recent:
            needed = max(Fraction(threshold) / 100 * figures.budget, Fraction(1))
            gaps.append(ceil(needed) - used)
        if notice_id(contract, clause, key, NoticeType.BREACHED) not in self.recent:
            gaps.append(floor(figures.budget) + 1 - used)
        return gaps

    @staticmethod
    def _may_go_down(state: UptimeClauseState, settled: int | None) -> bool:
        timeline = state.timeline
        return timeline.down_before or timeline.pending_downs > 0 or settled is None

    def _check_response(self, watched: _Watched, state: ResponseClauseState, horizon: int) -> int:
        periods = self._open_periods(watched, horizon)
        if not periods:
            start = state.calendar.starts_at
            return start + self.lateness if horizon < start else NEVER
        counts = state.results(horizon)
        for key in periods:
            count = counts.get(key)
            if count is None or notice_id(state.contract.id, state.clause.id, key, NoticeType.AT_RISK) in (
                self.recent
            ):
                continue
            notice = response_risk_notice(
                state.clause, state.contract, key, count.counted, count.on_time, watched.threshold, horizon
            )
            if notice is not None:
                self._emit(notice)
        decision = state.next_decision(horizon)
        return NEVER if decision is None else decision + self.lateness

    # persistence -------------------------------------------------------------------
    def export(self) -> dict[str, Any]:
        return {
            "clauses": {state_key(w.state): [w.due, w.next_close] for w in self.watched},
            "recent": [_notice_data(n) for n in self.recent.values()],
            "pending": [_notice_data(n) for n in self.pending],
        }

    def restore(self, data: dict[str, Any]) -> None:
        for watched in self.watched:
            saved = data["clauses"].get(state_key(watched.state))
            if saved is not None:
                watched.due, watched.next_close = saved
        self.recent = {n.id: n for n in map(_notice_from, data["recent"])}
        self.pending = [_notice_from(n) for n in data["pending"]]
        self.rebuild()


def _breach_at_close(state: ClauseState) -> bool:
    """Clauses whose missed period is a breach (request_ratio and tickets can be rescued until
    the end, so their miss is stated by the closing notice alone)."""
    if isinstance(state, AvailabilityClauseState):
        return state.clause.method != "request_ratio"
    return isinstance(state, UptimeClauseState)


def _following(state: ClauseState, key: PeriodKey) -> PeriodKey | None:
    periods = state.calendar.keys_from(key)
    next(periods)
    return next(periods, None)


def _notice_data(notice: Notice) -> list[Any]:
    return [notice.type.value, notice.contract, notice.clause, notice.period, notice.as_of, notice.facts]


def _notice_from(data: list[Any]) -> Notice:
    kind, contract, clause, period, as_of, facts = data
    return Notice(NoticeType(kind), contract, clause, period, as_of, facts)
