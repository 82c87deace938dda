"""Realistic sample month statements, for the renderers' tests and for any test that needs one.

``sample_statement()`` is Acme Corp's October 2026 with CloudCo Ltd (Europe/Berlin, EUR): the month
has 745 hours (summer time ends on the 25th), an uptime clause missed for the second month running
and a P1 response-time clause missed once, so the credit is capped. Every figure (minutes counted,
attained percents, daily figures) is computed here from the outage and maintenance timeline with the
SPEC's formulas, so the sample is internally consistent.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from fractions import Fraction
from zoneinfo import ZoneInfo

from monitor.statements.model import (
    ClauseStatement,
    DayFigure,
    HistoryLine,
    MaintenanceLine,
    MissedTicket,
    OutageLine,
    Statement,
)

ZONE = ZoneInfo("Europe/Berlin")
PERIOD = "2026-10"
MONTH_START = datetime(2026, 10, 1, tzinfo=ZONE)
MONTH_END = datetime(2026, 11, 1, tzinfo=ZONE)
PROVISIONAL_CLOCK = datetime(2026, 10, 28, 18, 30, tzinfo=ZONE)
FINAL_GENERATED_AT = datetime(2026, 11, 2, 9, 0, tzinfo=ZONE)
PROVISIONAL_GENERATED_AT = datetime(2026, 10, 28, 18, 31, 7, tzinfo=ZONE)
MONTHLY_FEE = Decimal("12000.00")
CREDIT_AMOUNT = "2400.00"  # 20% (capped from 30%) of 12000.00
# how people read them: thousands separated, the currency's two decimals
FEE_WORDS, CREDIT_WORDS = "12,000.00 EUR", "2,400.00 EUR"

UPTIME_TEXT = (
    "The Provider shall maintain a system uptime of at least 99.5% each month, excluding scheduled "
    "maintenance. Below 99.5%, a service credit of 5% of the monthly fee applies. Below 99%, a service "
    "credit of 15% of the monthly fee applies. If missed for 2 consecutive months or more: a further "
    "credit of 10% and the Client may initiate a contract review."
)
RESPONSE_TEXT = (
    "The Provider shall respond to at least 95% of P1 support tickets within 1 hour of their opening, "
    "in each calendar month (Europe/Berlin). Below 95%, a service credit of 5% of the monthly fee "
    "applies. Below 80%, a service credit of 10% of the monthly fee applies. If missed for 3 "
    "consecutive months or more: a further credit of 5% and the Client may terminate the contract."
)
CONTRACT_REVIEW = "the Client may initiate a contract review"

Span = tuple[datetime, datetime]


def at(day: int, hour: int, minute: int = 0, month: int = 10) -> datetime:
    """A local wall-clock time in 2026 (fold=0 in the autumn overlap, as the SPEC resolves it)."""
    return datetime(2026, month, day, hour, minute, tzinfo=ZONE)


def later(start: datetime, minutes: int) -> datetime:
    """``start`` plus elapsed minutes (aware arithmetic in one zone would ignore a DST change)."""
    return (start.astimezone(UTC) + timedelta(minutes=minutes)).astimezone(ZONE)


# Scheduled window: Sundays 02:00 local for 2 hours (on the 25th it ends at 03:00 winter time).
SCHEDULED: list[Span] = [(at(day, 2), later(at(day, 2), 120)) for day in (4, 11, 18, 25)]
ANNOUNCED: list[Span] = [(at(14, 22), at(14, 23, 30))]
OUTAGES: list[Span] = [
    (at(30, 23, 50, month=9), at(1, 0, 20)),  # began in September: 20 minutes count in October
    (at(3, 14, 5), at(3, 15, 17)),
    (at(11, 3, 20), at(11, 4, 35)),  # overlaps the Sunday window: only 04:00-04:35 counts
    (at(20, 22, 10), at(21, 1, 40)),
    (at(28, 16, 0), at(28, 19, 12)),  # still open at the provisional clock
]
MISSED: list[tuple[str, datetime, datetime | None]] = [
    ("ACME-4711", at(6, 9, 12), at(6, 10, 47)),
    ("ACME-4750", at(13, 23, 40), at(14, 2, 5)),
    ("ACME-4802", at(22, 15, 3), None),  # never answered
    ("ACME-4839", at(27, 8, 30), at(27, 11, 15)),
]


def _seconds(a: datetime, b: datetime) -> int:
    return int((b.astimezone(UTC) - a.astimezone(UTC)).total_seconds())


def _utc(moment: datetime) -> datetime:
    # Aware datetimes sharing one tzinfo compare as wall-clock times: compare in UTC instead.
    return moment.astimezone(UTC)


def _clip(span: Span, lo: datetime, hi: datetime) -> Span | None:
    start, end = max(span[0], lo, key=_utc), min(span[1], hi, key=_utc)
    return (start, end) if _utc(start) < _utc(end) else None


def _length(spans: list[Span], lo: datetime, hi: datetime) -> int:
    """Seconds of ``spans`` (disjoint) within ``[lo, hi)``."""
    return sum(_seconds(*clipped) for s in spans if (clipped := _clip(s, lo, hi)))


def _down(outage: Span, lo: datetime, hi: datetime) -> int:
    """Seconds of ``outage`` within ``[lo, hi)`` and outside the excluded time."""
    clipped = _clip(outage, lo, hi)
    if clipped is None:
        return 0
    return _seconds(*clipped) - _length(SCHEDULED + ANNOUNCED, *clipped)


def _attained(lo: datetime, hi: datetime, down: int) -> float:
    eligible = _seconds(lo, hi) - _length(SCHEDULED + ANNOUNCED, lo, hi)
    return 100.0 if eligible <= 0 else float(Fraction(100 * (eligible - down), eligible))


def _minutes(seconds: int) -> Decimal:
    return Decimal(seconds) / 60


def _outage_lines(clock: datetime) -> list[OutageLine]:
    lines = []
    for start, end in OUTAGES:
        if _utc(start) >= _utc(clock):
            continue
        is_open = _utc(end) > _utc(clock)
        down = _down((start, end), MONTH_START, clock)
        lines.append(OutageLine(start, clock if is_open else end, _minutes(down), open=is_open))
    return lines


def _maintenance_lines(clock: datetime) -> list[MaintenanceLine]:
    spans = [(s, "scheduled") for s in SCHEDULED] + [(s, "announced") for s in ANNOUNCED]
    spans.sort(key=lambda item: item[0][0])
    return [
        MaintenanceLine(start, end, _minutes(_length([(start, end)], MONTH_START, clock)), kind)
        for (start, end), kind in spans
        if _utc(start) < _utc(clock)
    ]


def _daily(clock: datetime) -> list[DayFigure]:
    figures = []
    for offset in range(31):
        day = date(2026, 10, 1) + timedelta(days=offset)
        lo = datetime.combine(day, time(), tzinfo=ZONE)
        hi = min(datetime.combine(day + timedelta(days=1), time(), tzinfo=ZONE), clock, key=_utc)
        if _utc(lo) >= _utc(hi):
            figures.append(DayFigure(day, 100.0))  # nothing eligible yet
            continue
        down = sum(_down(outage, lo, hi) for outage in OUTAGES)
        figures.append(DayFigure(day, _attained(lo, hi, down)))
    return figures


def _uptime_history(attained: float, final: bool) -> list[HistoryLine]:
    past = [
        ("2026-01", 99.982, 0),
        ("2026-02", 99.941, 0),
        ("2026-03", 99.613, 0),
        ("2026-04", 99.377, 1),
        ("2026-05", 99.702, 0),
        ("2026-06", 99.958, 0),
        ("2026-07", 99.871, 0),
        ("2026-08", 99.904, 0),
        ("2026-09", 99.402, 1),
    ]
    lines = [HistoryLine(period, value, count == 0, count, True) for period, value, count in past]
    return [*lines, HistoryLine(PERIOD, attained, False, 2, final)]


def _response_history(attained: float, final: bool) -> list[HistoryLine]:
    past = [("2026-07", 91.667, 1), ("2026-08", 97.143, 0), ("2026-09", 100.0, 0)]
    lines = [HistoryLine(period, value, count == 0, count, True) for period, value, count in past]
    return [*lines, HistoryLine(PERIOD, attained, False, 1, final)]


def uptime_clause(final: bool = True) -> ClauseStatement:
    clock = MONTH_END if final else PROVISIONAL_CLOCK
    outages = _outage_lines(clock)
    attained = _attained(MONTH_START, clock, sum(_down(o, MONTH_START, clock) for o in OUTAGES))
    return ClauseStatement(
        clause_id="api-uptime",
        kind="uptime",
        text=UPTIME_TEXT,
        target_percent=99.5,
        attained_percent=attained,
        met=False,
        consecutive_breaches=2,
        credit_percent=25.0,  # below 99%: 15%, plus 10% for the second consecutive month
        remedies=[CONTRACT_REVIEW],
        final=final,
        outages=outages,
        maintenance=_maintenance_lines(clock),
        daily=_daily(clock),
        history=_uptime_history(attained, final),
    )


def response_clause(final: bool = True) -> ClauseStatement:
    counted, on_time = (38, 34) if final else (34, 30)
    attained = float(Fraction(100 * on_time, counted))
    missed = [
        MissedTicket(ticket_id, "P1", opened, later(opened, 60), first) for ticket_id, opened, first in MISSED
    ]
    return ClauseStatement(
        clause_id="p1-response",
        kind="response_time",
        text=RESPONSE_TEXT,
        target_percent=95.0,
        attained_percent=attained,
        met=False,
        consecutive_breaches=1,
        credit_percent=5.0,
        remedies=[],
        final=final,
        missed_tickets=missed,
        tickets_counted=counted,
        tickets_on_time=on_time,
        history=_response_history(attained, final),
    )


def _without_details(clause: ClauseStatement) -> ClauseStatement:
    """What the ledger gives for a month it holds only the results of (no event detail)."""
    return replace(
        clause,
        outages=[],
        maintenance=[],
        missed_tickets=[],
        tickets_counted=None,
        tickets_on_time=None,
        daily=[],
        details_known=False,
    )


def sample_statement(final: bool = True, with_outages: bool = True) -> Statement:
    """Acme Corp's October 2026: final (closed month) or provisional (as of 28 October, 18:30).

    ``with_outages=False`` gives the same results with ``details_known`` False on every clause:
    no outages, maintenance, tickets or daily figures, as for a month the ledger has no detail of.
    """
    clauses = [uptime_clause(final), response_clause(final)]
    if not with_outages:
        clauses = [_without_details(c) for c in clauses]
    return Statement(
        contract_id="acme-hosting",
        customer="Acme Corp",
        provider="CloudCo Ltd",
        timezone="Europe/Berlin",
        currency="EUR",
        monthly_fee=MONTHLY_FEE,
        period=PERIOD,
        period_label="October 2026",
        period_start=MONTH_START,
        period_end=MONTH_END,
        final=final,
        clauses=clauses,
        uncapped_credit_percent=Decimal("30"),
        cap_percent=Decimal("20"),
        credit_percent=Decimal("20"),
        credit_amount=Decimal(CREDIT_AMOUNT),
        remedies=[CONTRACT_REVIEW],
        generated_at=FINAL_GENERATED_AT if final else PROVISIONAL_GENERATED_AT,
    )
