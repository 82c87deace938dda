"""Response-time clause: tickets on time within ``within`` of their first ``opened``, per period."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from monitor.contract import Contract, ResponseTimeClause
from monitor.engine.calendar import ContractCalendar, PeriodKey
from monitor.engine.tally import EventTally
from monitor.timeutil import span_us

TICKET_ID_REUSE_AFTER_US = 62 * 86400 * 1_000_000  # two months: a ticket id may then be reused
MISSED_HISTORY_US = 70 * 86400 * 1_000_000
MissedLine = tuple[str, str | None, int, int | None]


@dataclass
class Ticket:
    opened: tuple[int, str, str | None] | None = None  # first opened: (at, event_id, priority)
    first_measure: int | None = None  # earliest `responded`/`resolved` (the clause's measure)


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
    # needs remembering, and only for TICKET_ID_REUSE_AFTER: an event later than that
    # belongs to a new ticket with the same id.
    settled_ids: dict[str, int] = field(default_factory=dict)
    # missed tickets of recent periods, for statements: (ticket id, priority, opened, first measure)
    missed: dict[PeriodKey, list[MissedLine]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.received = EventTally(self.calendar)  # ticket events of the contract, any action
        self.within = span_us(self.clause.within)
        priorities = self.clause.priorities
        self._priorities = frozenset(priorities) if priorities is not None else None

    def add(self, ticket_id: str, action: str, at: int, event_id: str, priority: str | None) -> None:
        if action != "opened" and action != self.clause.measure:
            return
        settled_opened = self.settled_ids.get(ticket_id)
        if settled_opened is not None:
            if at <= settled_opened + TICKET_ID_REUSE_AFTER_US:
                return
            del self.settled_ids[ticket_id]  # the id is reused: a new ticket
        ticket = self.tickets.get(ticket_id)
        if ticket is not None and self._reused(ticket, at):
            self._settle(ticket_id, ticket)
            ticket = None
        if ticket is None:
            ticket = self.tickets[ticket_id] = Ticket()
        if action == "opened":
            opened = (at, event_id, priority)
            if ticket.opened is None or opened < ticket.opened:
                ticket.opened = opened
        elif ticket.first_measure is None or at < ticket.first_measure:
            ticket.first_measure = at

    def _reused(self, ticket: Ticket, at: int) -> bool:
        """An event this long after the ticket's first `opened` belongs to a new ticket with the
        same id, whether or not the earlier one is settled yet: the rule depends on the events'
        times only, never on how far a clock had moved when they arrived."""
        if ticket.opened is None:
            return False
        opened_at = ticket.opened[0]
        return at > opened_at + TICKET_ID_REUSE_AFTER_US and at > opened_at + self.within

    def _settle(self, ticket_id: str, ticket: Ticket) -> None:
        """Count a ticket that can no longer change (past its deadline) and forget all but its id."""
        assert ticket.opened is not None
        opened_at = ticket.opened[0]
        verdict = self._verdict(ticket, opened_at + self.within + 1)
        if verdict is not None:
            _count(self.settled_counts, *verdict)
            if not verdict[1]:
                self.missed.setdefault(verdict[0], []).append(_missed_line(ticket_id, ticket))
        del self.tickets[ticket_id]
        self.settled_ids[ticket_id] = opened_at

    def _verdict(self, ticket: Ticket, clock: int) -> tuple[PeriodKey, bool] | None:
        """(period, on time) once decided at ``clock``; None while undecided or not counted."""
        if ticket.opened is None:
            return None
        opened_at, _, priority = ticket.opened
        if opened_at >= clock:
            return None
        if self._priorities is not None and priority not in self._priorities:
            return None
        key = self.calendar.key_of(opened_at)
        if key is None:
            return None
        deadline = opened_at + self.within
        measure = ticket.first_measure
        if measure is not None and measure <= deadline and measure <= clock:
            return key, True
        if clock > deadline:
            return key, False
        return None

    def fold(self, settled: int) -> None:
        """Tickets whose deadline is before the settled point can no longer change: count them."""
        done = [
            (ticket_id, ticket)
            for ticket_id, ticket in self.tickets.items()
            if ticket.opened is not None and ticket.opened[0] + self.within < settled
        ]
        for ticket_id, ticket in done:
            self._settle(ticket_id, ticket)
        oldest = self.calendar.key_of(settled - MISSED_HISTORY_US)
        if oldest is not None and any(key < oldest for key in self.missed):
            self.missed = {key: lines for key, lines in self.missed.items() if key >= oldest}
        horizon = settled - TICKET_ID_REUSE_AFTER_US
        if any(opened_at < horizon for opened_at in self.settled_ids.values()):
            self.settled_ids = {t: o for t, o in self.settled_ids.items() if o >= horizon}

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
                lines.setdefault(verdict[0], []).append(_missed_line(ticket_id, ticket))
        return lines

    def next_decision(self, after: int) -> int | None:
        """The earliest clock after ``after`` at which an open ticket is decided (on time at its
        measure, missed just past its deadline), or None: only a new event can change a count."""
        earliest: int | None = None
        for ticket in self.tickets.values():
            if ticket.opened is None:
                continue
            opened_at = ticket.opened[0]
            deadline = opened_at + self.within
            measure = ticket.first_measure
            if measure is not None and measure <= deadline:  # on time: decided at the measure
                decided = max(measure, opened_at + 1)
            else:
                decided = deadline + 1
            if decided > after and (earliest is None or decided < earliest):
                earliest = decided
        return earliest

    def is_final(self, key: PeriodKey, clock: int, lateness: int) -> bool:
        return clock >= self.calendar.bounds(key)[1] + self.within + lateness


def _count(counts: dict[PeriodKey, TicketCounts], key: PeriodKey, on_time: bool) -> None:
    entry = counts.get(key)
    if entry is None:
        entry = counts[key] = TicketCounts()
    entry.counted += 1
    entry.on_time += on_time


def _missed_line(ticket_id: str, ticket: Ticket) -> MissedLine:
    assert ticket.opened is not None
    opened_at, _, priority = ticket.opened
    return (ticket_id, priority, opened_at, ticket.first_measure)
