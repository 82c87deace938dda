"""A month's statement for one contract: everything ``slamon report`` prints, as plain data.

Built from the ledger by ``monitor.statements.build``; rendered to Markdown, HTML, CSV or
JSON by ``monitor.statements.render``. Times are aware datetimes in the contract's zone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal


@dataclass(frozen=True)
class OutageLine:
    start: datetime
    end: datetime  # the end of the span, or the clock for one still open (``open`` True)
    minutes: Decimal  # downtime counted in this month: outside excluded time, within the month
    open: bool = False
    worst_error_percent: float | None = None  # availability clauses: the run's worst interval


@dataclass(frozen=True)
class MaintenanceLine:
    start: datetime
    end: datetime
    minutes: Decimal  # within the month
    kind: str  # "scheduled" (contract window) or "announced" (maintenance event with notice)


@dataclass(frozen=True)
class MissedTicket:
    ticket_id: str
    priority: str | None
    opened: datetime
    deadline: datetime
    first_measure: datetime | None  # the first `responded`/`resolved`, if any, late
    counted_minutes: Decimal | None = None  # counted (business, unpaused) time at the first measure


@dataclass(frozen=True)
class UndecidedTicket:
    """A ticket still paused short of its deadline when its month settled: not counted."""

    ticket_id: str
    priority: str | None
    opened: datetime
    counted_minutes: Decimal  # counted time when the month settled


@dataclass(frozen=True)
class ClosedDay:
    day: date
    name: str  # the public holiday's name, or "closed" for an extra date of the calendar


@dataclass(frozen=True)
class DayFigure:
    day: date
    attained_percent: float  # the day's availability (uptime clauses), 100 when nothing eligible;
    # the exact fraction of ``monitor.engine.daily`` converted once to the nearest float


@dataclass(frozen=True)
class HistoryLine:
    period: str
    attained_percent: float
    met: bool
    consecutive_breaches: int
    final: bool


@dataclass(frozen=True)
class ClauseStatement:
    clause_id: str
    kind: str  # "uptime" | "response_time" | "availability"
    text: str  # the clause in words, with its credits and remedies
    target_percent: float
    attained_percent: float
    met: bool
    consecutive_breaches: int
    credit_percent: float  # this clause's credit, before the contract's cap
    remedies: list[str]  # remedies open, in words
    final: bool
    outages: list[OutageLine] = field(default_factory=list)
    maintenance: list[MaintenanceLine] = field(default_factory=list)
    missed_tickets: list[MissedTicket] = field(default_factory=list)
    tickets_counted: int | None = None
    tickets_on_time: int | None = None
    daily: list[DayFigure] = field(default_factory=list)
    calendar: str | None = None  # response time counted in this business calendar (SPEC.md section 10)
    pausable: bool = False
    holidays: list[ClosedDay] = field(default_factory=list)  # the calendar's closed days of the month
    undecided_tickets: list[UndecidedTicket] = field(default_factory=list)
    history: list[HistoryLine] = field(default_factory=list)  # this clause's months up to this one
    details_known: bool = True  # False when the ledger has no outage/ticket detail for the month
    events_received: int | None = None  # events for this clause in the month; None: not recorded


@dataclass(frozen=True)
class Statement:
    contract_id: str
    customer: str
    provider: str
    timezone: str
    currency: str
    monthly_fee: Decimal
    period: str  # YYYY-MM
    period_label: str  # e.g. "October 2026"
    period_start: datetime
    period_end: datetime  # exclusive
    final: bool
    clauses: list[ClauseStatement]
    uncapped_credit_percent: Decimal
    cap_percent: Decimal | None
    credit_percent: Decimal  # after the cap
    credit_amount: Decimal  # rounded half-up to the currency's minor unit
    remedies: list[str]  # in words, all clauses
    generated_at: datetime
    terms: str = "the base terms of the contract"  # the terms in force, in words (SPEC.md section 12)
    amount_before_rules: Decimal | None = None  # when a credit rule changed the amount
    adjustments: list[str] = field(default_factory=list)  # each credit rule that changed it, in words

    @property
    def no_data_received(self) -> bool:
        """Not a single event arrived for any clause of the contract in the month."""
        return bool(self.clauses) and all(c.events_received == 0 for c in self.clauses)
