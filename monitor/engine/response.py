"""Response-time clause: tickets answered by their deadline, per period of their first ``opened``.

The deadline is where the ticket's counted time reaches ``within`` (SPEC.md section 10):
elapsed time without a calendar and pauses, else the open time of the clause's calendar
that is not paused. A period is final once the settled point has passed ``D`` (the deadline
of an unpaused ticket opened at its end) with every ticket decided, or in any case once it
is at ``max(D, end + settle_after)``; a ticket still undecided then is not counted.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass, field
from fractions import Fraction

from monitor.contract import Contract, ResponseTimeClause
from monitor.engine.business_hours import AlwaysOpen, CalendarHours, OpenHours
from monitor.engine.calendar import ContractCalendar, PeriodKey
from monitor.engine.tally import EventTally
from monitor.engine.ticket_clock import PauseLog, counted_until, deadline, decisive_toggles, fold
from monitor.timeutil import span_us

TICKET_ID_REUSE_AFTER_US = 62 * 86400 * 1_000_000  # two months: a ticket id may then be reused
MISSED_HISTORY_US = 70 * 86400 * 1_000_000
NO_DEADLINE = 2**62
# (ticket id, priority, opened, first measure, deadline, counted µs at the first measure)
MissedLine = tuple[str, str | None, int, int | None, int, int | None]
# (ticket id, priority, opened, counted µs at settlement)
UndecidedLine = tuple[str, str | None, int, int]
# a counted ticket, for explanations: (ticket id, priority, opened, id of its first `opened`,
# first measure, its event id, deadline as it stood at the first measure, on time, ids of the
# pauses and resumes before that deadline and that measure that paused or resumed it)
TicketLine = tuple[str, str | None, int, str, int | None, str | None, int | None, bool, tuple[str, ...]]
KEPT_TICKET_LINES = 500  # per period: as many as a details record lists, the first by (id, opened)
_UNKNOWN = object()


@dataclass
class Ticket:
    opened: tuple[int, str, str | None] | None = None  # first opened: (at, event_id, priority)
    first_measure: int | None = None  # earliest `responded`/`resolved` (the clause's measure)
    measure_event: str | None = None  # its id (the smallest of those at that instant)
    pauses: PauseLog | None = None  # only on pausable clauses, once a pause or resume came
    cached_deadline: object = field(default=_UNKNOWN, repr=False, compare=False)
    cached_key: object = field(default=_UNKNOWN, repr=False, compare=False)


@dataclass
class TicketCounts:
    counted: int = 0
    on_time: int = 0

    @property
    def attained(self) -> Fraction:
        return Fraction(100) if self.counted == 0 else Fraction(100 * self.on_time, self.counted)


@dataclass
class ResponseClauseState:
    contract: Contract
    clause: ResponseTimeClause
    calendar: ContractCalendar
    tickets: dict[str, Ticket] = field(default_factory=dict)
    settled_counts: dict[PeriodKey, TicketCounts] = field(default_factory=dict)
    # Later events of a settled ticket are at or after the settled point, past its deadline
    # and its first `opened`, so they cannot change it; only its id (and first `opened`)
    # needs remembering, until ``_remember_until``: a later event belongs to a new ticket.
    settled_ids: dict[str, int] = field(default_factory=dict)
    # missed tickets of recent periods, for statements
    missed: dict[PeriodKey, list[MissedLine]] = field(default_factory=dict)
    # tickets of recent periods still undecided when their period settled (not counted)
    undecided: dict[PeriodKey, list[UndecidedLine]] = field(default_factory=dict)
    # counted tickets of recent periods with the ids of their events, for explanations
    decided: dict[PeriodKey, list[TicketLine]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.within = span_us(self.clause.within)
        self.settle_after = span_us(self.clause.settle_after)
        priorities = self.clause.priorities
        self._priorities = frozenset(priorities) if priorities is not None else None
        name = self.clause.calendar
        self.hours: OpenHours = (
            AlwaysOpen() if name is None else CalendarHours(self.contract.calendars[name], self.contract.zone)
        )
        self.business = name is not None or self.clause.pausable
        self._period_deadlines: dict[PeriodKey, int | None] = {}
        self.received = EventTally(self.calendar)  # ticket events of the contract, any action
        self._settles: dict[PeriodKey, int] = {}
        # (remember until, ticket id, first opened) of the settled ids, earliest first; None
        # until first needed (after a restore it is rebuilt from ``settled_ids``)
        self._forget_queue: list[tuple[int, str, int]] | None = None

    # input ---------------------------------------------------------------------------
    def add(self, ticket_id: str, action: str, at: int, event_id: str, priority: str | None) -> None:
        toggles = action in ("paused", "resumed")
        if action != "opened" and action != self.clause.measure and not (toggles and self.clause.pausable):
            return
        settled_opened = self.settled_ids.get(ticket_id)
        if settled_opened is not None:
            if at <= self._remember_until(settled_opened):
                return
            del self.settled_ids[ticket_id]  # the id is reused: a new ticket
        ticket = self.tickets.get(ticket_id)
        if ticket is not None and self._reused(ticket, at):
            self._settle(ticket_id, ticket, NO_DEADLINE)
            ticket = None
        if ticket is None:
            ticket = self.tickets[ticket_id] = Ticket()
        if action == "opened":
            opened = (at, event_id, priority)
            if ticket.opened is None or opened < ticket.opened:
                ticket.opened = opened
                ticket.cached_deadline = ticket.cached_key = _UNKNOWN
        elif toggles:
            if ticket.pauses is None:
                ticket.pauses = PauseLog()
            if ticket.pauses.add((at, event_id, action == "paused")):
                ticket.cached_deadline = _UNKNOWN
        elif ticket.first_measure is None or (at, event_id) < (
            ticket.first_measure,
            ticket.measure_event or "",
        ):
            ticket.first_measure, ticket.measure_event = at, event_id

    def _remember_until(self, opened_at: int) -> int:
        """Until when events of a settled ticket with that id still belong to it."""
        if not self.business:
            return opened_at + TICKET_ID_REUSE_AFTER_US
        return max(opened_at + TICKET_ID_REUSE_AFTER_US, self._settles_at_of(opened_at))

    def _reused(self, ticket: Ticket, at: int) -> bool:
        """An event this long after the ticket's first `opened` belongs to a new ticket with the
        same id, whether or not the earlier one is settled yet: the rule depends on the events'
        times only, never on how far a clock had moved when they arrived."""
        if ticket.opened is None:
            return False
        opened_at = ticket.opened[0]
        if self.business:
            return at > self._remember_until(opened_at)
        return at > opened_at + TICKET_ID_REUSE_AFTER_US and at > opened_at + self.within

    # deadlines -------------------------------------------------------------------------
    def deadline_of(self, ticket: Ticket) -> int | None:
        """The ticket's deadline from the events known (None: paused short of it, or no open time left)."""
        assert ticket.opened is not None
        if ticket.cached_deadline is _UNKNOWN:
            ticket.cached_deadline = deadline(ticket.opened[0], ticket.pauses, self.within, self.hours)
        return ticket.cached_deadline  # type: ignore[return-value]

    def period_deadline(self, key: PeriodKey) -> int | None:
        """D: the deadline of an unpaused ticket opened at the period's end."""
        if key not in self._period_deadlines:
            self._period_deadlines[key] = self.hours.advance(self.calendar.bounds(key)[1], self.within)
        return self._period_deadlines[key]

    def settles_at(self, key: PeriodKey) -> int:
        """The settled point at which the period is final whatever its tickets: max(D, end + settle_after)."""
        found = self._settles.get(key)
        if found is None:
            latest = self.calendar.bounds(key)[1] + self.settle_after
            period_deadline = self.period_deadline(key)
            found = self._settles[key] = latest if period_deadline is None else max(period_deadline, latest)
        return found

    def _settles_at_of(self, opened_at: int) -> int:
        key = self.calendar.key_of(opened_at)
        return opened_at if key is None else self.settles_at(key)

    # verdicts --------------------------------------------------------------------------
    def _counted_key(self, ticket: Ticket) -> PeriodKey | None:
        """The period the ticket counts in, or None when the clause does not count it."""
        assert ticket.opened is not None
        if ticket.cached_key is _UNKNOWN:
            opened_at, _, priority = ticket.opened
            counted = self._priorities is None or priority in self._priorities
            ticket.cached_key = self.calendar.key_of(opened_at) if counted else None
        return ticket.cached_key  # type: ignore[return-value]

    def _verdict(self, ticket: Ticket, clock: int) -> tuple[PeriodKey, bool] | None:
        """(period, on time) once decided at ``clock``; None while undecided or not counted.
        Nothing is decided after the period settled: a ticket undecided then never counts."""
        if ticket.opened is None or ticket.opened[0] >= clock:
            return None
        key = self._counted_key(ticket)
        if key is None:
            return None
        limit = min(clock, self.settles_at(key))
        due = self.deadline_of(ticket)
        measure = ticket.first_measure
        if measure is not None and measure <= limit and (due is None or measure <= due):
            return key, True
        if due is not None and limit > due:
            return key, False
        return None

    def _settle(self, ticket_id: str, ticket: Ticket, clock: int) -> None:
        """Count a ticket decided at ``clock`` (or record it undecided at settlement) and forget
        all but its id."""
        assert ticket.opened is not None
        opened_at = ticket.opened[0]
        verdict = self._verdict(ticket, clock)
        if verdict is not None:
            _count(self.settled_counts, *verdict)
            _keep_line(self.decided, verdict[0], self._ticket_line(ticket_id, ticket, verdict[1]))
            if not verdict[1]:
                self.missed.setdefault(verdict[0], []).append(self._missed_line(ticket_id, ticket))
        else:
            key = self._counted_key(ticket)
            if key is not None:
                line = self._undecided_line(ticket_id, ticket, self.settles_at(key))
                self.undecided.setdefault(key, []).append(line)
        self._forget(ticket_id, opened_at)

    def fold(self, settled: int) -> None:
        """Count the tickets decided before the settled point, drop the ones their period settled
        without, and fold the pauses before it: only undecided tickets keep state."""
        for ticket_id, ticket in list(self.tickets.items()):
            self._fold_ticket(ticket_id, ticket, settled)
        oldest = self.calendar.key_of(settled - MISSED_HISTORY_US)
        if oldest is not None:
            for lines in (self.missed, self.undecided, self.decided):
                for key in [key for key in lines if key < oldest]:
                    del lines[key]
        queue = self._queue()
        while queue and queue[0][0] < settled:
            _, ticket_id, opened_at = heapq.heappop(queue)
            if self.settled_ids.get(ticket_id) == opened_at:
                del self.settled_ids[ticket_id]

    def _queue(self) -> list[tuple[int, str, int]]:
        if self._forget_queue is None:
            self._forget_queue = [(self._remember_until(o), t, o) for t, o in self.settled_ids.items()]
            heapq.heapify(self._forget_queue)
        return self._forget_queue

    def _fold_ticket(self, ticket_id: str, ticket: Ticket, settled: int) -> None:
        if ticket.opened is None:
            if ticket.pauses is not None:  # a later `opened` would come at or after `settled`
                ticket.pauses.toggles = [t for t in ticket.pauses.toggles if t[0] >= settled]
            return
        opened_at = ticket.opened[0]
        if opened_at >= settled:
            return
        key = self._counted_key(ticket)
        if key is None:
            self._forget(ticket_id, opened_at)
            return
        settles = self.settles_at(key)
        verdict = self._verdict(ticket, settled)
        # a decided ticket waits until its first response is before the settled point (an
        # earlier one, or one at the same instant with a smaller id, could still come): its line
        # names that response whatever the arrival order; a missed one without a response waits
        # for it (for the statement) until its period settles
        measure = ticket.first_measure
        waiting = verdict is not None and (measure is None or measure >= settled)
        if settled >= settles or (verdict is not None and not waiting):
            self._settle(ticket_id, ticket, settled)
        elif ticket.pauses is not None:
            fold(opened_at, ticket.pauses, settled, self.within, self.hours)

    def _forget(self, ticket_id: str, opened_at: int) -> None:
        """Forget all but its id: a settled ticket, or one no period counts (priority, dates)."""
        del self.tickets[ticket_id]
        self.settled_ids[ticket_id] = opened_at
        heapq.heappush(self._queue(), (self._remember_until(opened_at), ticket_id, opened_at))

    # output ----------------------------------------------------------------------------
    def results(self, clock: int) -> dict[PeriodKey, TicketCounts]:
        counts = {key: TicketCounts(c.counted, c.on_time) for key, c in self.settled_counts.items()}
        for ticket in self.tickets.values():
            verdict = self._verdict(ticket, clock)
            if verdict is not None:
                _count(counts, *verdict)
        return {key: counts.get(key, TicketCounts()) for key in self.calendar.started_before(clock)}

    def missed_until(self, clock: int) -> dict[PeriodKey, list[MissedLine]]:
        """Missed tickets per period at ``clock``: the settled ones and the open ones missed by then."""
        lines = {key: list(found) for key, found in self.missed.items()}
        for ticket_id, ticket in self.tickets.items():
            verdict = self._verdict(ticket, clock)
            if verdict is not None and not verdict[1]:
                lines.setdefault(verdict[0], []).append(self._missed_line(ticket_id, ticket))
        return lines

    def tickets_until(self, clock: int) -> dict[PeriodKey, list[TicketLine]]:
        """The counted tickets per period at ``clock`` with their events' ids, the first
        ``KEPT_TICKET_LINES`` by (ticket id, opened) of each period."""
        lines = {key: list(found) for key, found in self.decided.items()}
        for ticket_id, ticket in self.tickets.items():
            verdict = self._verdict(ticket, clock)
            if verdict is not None:
                _keep_line(lines, verdict[0], self._ticket_line(ticket_id, ticket, verdict[1]))
        return {key: sorted(found, key=_line_order)[:KEPT_TICKET_LINES] for key, found in lines.items()}

    def undecided_until(self, clock: int, lateness: int) -> dict[PeriodKey, list[UndecidedLine]]:
        """Tickets undecided when their period settled, for the periods settled by ``clock``."""
        lines = {key: list(found) for key, found in self.undecided.items()}
        settled = clock - lateness
        for ticket_id, ticket in self.tickets.items():
            if ticket.opened is None or ticket.opened[0] >= settled:
                continue
            key = self._counted_key(ticket)
            if key is not None and settled >= self.settles_at(key) and self._verdict(ticket, settled) is None:
                line = self._undecided_line(ticket_id, ticket, self.settles_at(key))
                lines.setdefault(key, []).append(line)
        return lines

    def paused_now(self, clock: int) -> int | None:
        """Open tickets that are paused at ``clock`` (for the live view); None if not pausable."""
        if not self.clause.pausable:
            return None
        paused = 0
        for ticket in self.tickets.values():
            if ticket.opened is None or ticket.pauses is None or self._verdict(ticket, clock) is not None:
                continue
            if _is_paused(ticket, clock):
                paused += 1
        return paused

    def next_decision(self, after: int) -> int | None:
        """The earliest clock after ``after`` at which an open ticket is decided (on time at its
        measure, missed just past its deadline), or None: only a new event can change a count."""
        earliest: int | None = None
        for ticket in self.tickets.values():
            decided = self._decided_at(ticket)
            if decided is not None and decided > after and (earliest is None or decided < earliest):
                earliest = decided
        return earliest

    def _decided_at(self, ticket: Ticket) -> int | None:
        """The first clock at which the ticket is decided on the events known, if ever (never
        after its period settled)."""
        if ticket.opened is None:
            return None
        opened_at = ticket.opened[0]
        key = self._counted_key(ticket)
        settles = self.settles_at(key) if key is not None else NO_DEADLINE
        due = self.deadline_of(ticket)
        measure = ticket.first_measure
        if measure is not None and (due is None or measure <= due):
            return max(measure, opened_at + 1) if measure <= settles else None
        if due is not None and due < settles:
            return due + 1
        return None

    def is_final(self, key: PeriodKey, clock: int, lateness: int) -> bool:
        settled = clock - lateness
        if settled >= self.settles_at(key):
            return True
        period_deadline = self.period_deadline(key)
        if period_deadline is None or settled < period_deadline:
            return False
        return not self.business or not any(
            ticket.opened is not None
            and ticket.opened[0] < settled
            and self._counted_key(ticket) == key
            and self._verdict(ticket, settled) is None
            for ticket in self.tickets.values()
        )

    def final_from(self, key: PeriodKey) -> int:
        """The earliest settled point at which the period can be final."""
        period_deadline = self.period_deadline(key)
        return self.settles_at(key) if period_deadline is None else period_deadline

    def next_final_check(self, key: PeriodKey, settled: int) -> int:
        """The next settled point at which a period not final at ``settled`` may become final
        without a new event: a ticket decided, or its settlement."""
        decision = self.next_decision(settled)
        settles = self.settles_at(key)
        return settles if decision is None else min(decision, settles)

    # lines for statements -----------------------------------------------------------------
    def _missed_line(self, ticket_id: str, ticket: Ticket) -> MissedLine:
        assert ticket.opened is not None
        opened_at, _, priority = ticket.opened
        measure = ticket.first_measure
        due = self.deadline_of(ticket)
        assert due is not None
        key = self._counted_key(ticket)
        if measure is not None and key is not None and measure > self.settles_at(key):
            measure = None  # came after the period settled: not part of its statement
        counted = None if measure is None else counted_until(opened_at, ticket.pauses, measure, self.hours)
        return (ticket_id, priority, opened_at, measure, due, counted)

    def _ticket_line(self, ticket_id: str, ticket: Ticket, on_time: bool) -> TicketLine:
        assert ticket.opened is not None
        opened_at, opened_event, priority = ticket.opened
        measure, measure_event = ticket.first_measure, ticket.measure_event
        key = self._counted_key(ticket)
        if measure is not None and key is not None and measure > self.settles_at(key):
            measure, measure_event = None, None  # came after the period settled
        # the deadline as it stood at the first measure: later pauses and resumes change
        # nothing (they may come after the ticket settled), nor the verdict
        pauses = ticket.pauses
        if pauses is None:
            due = self.deadline_of(ticket)
        else:
            pauses = pauses.before(measure) if measure is not None else pauses
            due = deadline(opened_at, pauses, self.within, self.hours)
        toggles = tuple(decisive_toggles(opened_at, pauses, due))
        return (ticket_id, priority, opened_at, opened_event, measure, measure_event, due, on_time, toggles)

    def _undecided_line(self, ticket_id: str, ticket: Ticket, settles: int) -> UndecidedLine:
        assert ticket.opened is not None
        opened_at, _, priority = ticket.opened
        return (ticket_id, priority, opened_at, counted_until(opened_at, ticket.pauses, settles, self.hours))


def _is_paused(ticket: Ticket, clock: int) -> bool:
    log = ticket.pauses
    assert log is not None and ticket.opened is not None
    paused = log.paused if log.since is not None and log.since <= clock else False
    start = log.since if log.since is not None else ticket.opened[0]
    for at, _, is_pause in log.toggles:
        if at > clock:
            break
        if at >= start:
            paused = is_pause
    return paused


def _keep_line(lines: dict[PeriodKey, list[TicketLine]], key: PeriodKey, line: TicketLine) -> None:
    """Add a line, keeping the first ``KEPT_TICKET_LINES`` of the period by (ticket id, opened)
    (trimmed in batches): the same lines whatever the order tickets settle in."""
    found = lines.setdefault(key, [])
    found.append(line)
    if len(found) >= 2 * KEPT_TICKET_LINES:
        found.sort(key=_line_order)
        del found[KEPT_TICKET_LINES:]


def _line_order(line: TicketLine) -> tuple[str, int]:
    return line[0], line[2]


def _count(counts: dict[PeriodKey, TicketCounts], key: PeriodKey, on_time: bool) -> None:
    entry = counts.get(key)
    if entry is None:
        entry = counts[key] = TicketCounts()
    entry.counted += 1
    entry.on_time += on_time
