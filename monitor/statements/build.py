"""Assemble a month's ``Statement`` from the ledger's records (results, contract credits, details)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from monitor.contract import Contract
from monitor.engine.calendar import ContractCalendar
from monitor.engine.daily import daily_attainment
from monitor.engine.intervals import Interval, merge
from monitor.statements.adjustments import month_money, terms_words
from monitor.statements.model import (
    ClauseStatement,
    ClosedDay,
    DayFigure,
    HistoryLine,
    MaintenanceLine,
    MissedTicket,
    OutageLine,
    Statement,
    UndecidedTicket,
)
from monitor.terms import terms_for_period
from monitor.timeutil import from_us
from monitor.wording import clause_words, period_label, remedy_words

MINUTE_US = Decimal(60_000_000)


class StatementError(ValueError):
    """A statement that cannot be made: unknown contract or period, or no data for it."""


class PeriodOutsideContract(StatementError):
    """The month is not within the contract's effective dates."""


def build_statement(
    contract: Contract,
    period: str,
    records: Sequence[dict[str, Any]],
    details: dict[str, dict[str, Any]],
    generated_at: datetime,
) -> Statement:
    """``records``: the contract's replay-format records; ``details``: per clause, the
    ledger's detail record of this period (``{"final", "details"}``)."""
    calendar = ContractCalendar(contract)
    if calendar.key_of(calendar.bounds(period)[0]) != period:
        raise PeriodOutsideContract(f"{period} is outside the contract's effective dates")
    contract_record = _find(records, "contract", period)
    if contract_record is None:
        raise StatementError(f"no data for {contract.id} in {period} yet: the ledger has no result for it")
    zone = ZoneInfo(contract.timezone)
    start, end = calendar.bounds(period)
    in_force = terms_for_period(contract, period)
    terms = in_force.contract
    clauses = [
        _clause_statement(terms, clause.id, period, records, details.get(clause.id), zone, (start, end))
        for clause in terms.clauses
    ]
    money = month_money(contract, period, records)
    return Statement(
        contract_id=contract.id,
        customer=contract.customer,
        provider=contract.provider,
        timezone=contract.timezone,
        currency=contract.currency,
        monthly_fee=terms.monthly_fee,
        period=period,
        period_label=period_label(period),
        period_start=from_us(start).astimezone(zone),
        period_end=from_us(end).astimezone(zone),
        final=bool(contract_record["final"]),
        clauses=clauses,
        uncapped_credit_percent=sum((Decimal(repr(c.credit_percent)) for c in clauses), Decimal(0)),
        cap_percent=terms.credit_cap_percent,
        credit_percent=Decimal(repr(contract_record["credit_percent"])),
        credit_amount=Decimal(contract_record["credit_amount"]),
        remedies=[text for c in clauses for text in c.remedies],
        generated_at=generated_at.astimezone(zone).replace(microsecond=0),  # people read seconds
        terms=terms_words(in_force),
        amount_before_rules=money.before_rules if money.adjustments else None,
        adjustments=money.adjustments,
    )


def _find(records: Sequence[dict[str, Any]], kind: str, period: str, clause: str | None = None) -> Any:
    for record in records:
        if record["record"] == kind and record["period"] == period and record.get("clause") == clause:
            return record
    return None


def _clause_statement(
    contract: Contract,
    clause_id: str,
    period: str,
    records: Sequence[dict[str, Any]],
    detail: dict[str, Any] | None,
    zone: ZoneInfo,
    bounds: Interval,
) -> ClauseStatement:
    clause = next(c for c in contract.clauses if c.id == clause_id)
    record = _find(records, "clause", period, clause_id)
    if record is None:
        raise StatementError(f"no result for clause {clause_id} of {contract.id} in {period}")
    history = [
        HistoryLine(r["period"], r["attained_percent"], r["met"], r["consecutive_breaches"], r["final"])
        for r in records
        if r["record"] == "clause" and r["clause"] == clause_id and r["period"] <= period
    ]
    data = detail["details"] if detail is not None else None
    lines: dict[str, Any] = {"details_known": data is not None}
    if data is not None:
        lines["events_received"] = data.get("events_received")  # absent from older ledgers
    if data is not None and data["kind"] == "uptime":
        lines |= _uptime_lines(data, zone, bounds)
    elif data is not None and data["kind"] == "availability":
        lines |= _availability_lines(data, zone)
    elif data is not None:
        lines |= _ticket_lines(data, zone)
    return ClauseStatement(
        clause_id=clause_id,
        kind=clause.kind,
        text=clause_words(contract, clause),
        target_percent=record["target_percent"],
        attained_percent=record["attained_percent"],
        met=record["met"],
        consecutive_breaches=record["consecutive_breaches"],
        credit_percent=record["credit_percent"],
        remedies=[remedy_words(r) for r in record["remedies"]],
        final=record["final"],
        history=sorted(history, key=lambda h: h.period),
        **lines,
    )


def _local(instant: int, zone: ZoneInfo) -> datetime:
    return from_us(instant).astimezone(zone)


def _uptime_lines(data: dict[str, Any], zone: ZoneInfo, bounds: Interval) -> dict[str, Any]:
    outages = [
        OutageLine(_local(s, zone), _local(e, zone), Decimal(counted) / MINUTE_US, bool(is_open))
        for s, e, counted, is_open in data["outages"]
    ]
    maintenance = [
        MaintenanceLine(_local(s, zone), _local(e, zone), Decimal(e - s) / MINUTE_US, kind)
        for s, e, kind in data["maintenance"]
    ]
    spans = [(s, e) for s, e, _, _ in data["outages"]]
    excluded = merge((s, e) for s, e, _ in data["maintenance"])
    shown = (bounds[0], min(bounds[1], data["as_of"]))  # an open month: the days up to its clock
    daily = [DayFigure(d.day, float(d.attained)) for d in daily_attainment(spans, excluded, zone, shown)]
    return {"outages": outages, "maintenance": maintenance, "daily": daily}


def _availability_lines(data: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    """Down runs as outages (minutes: the run's down intervals in this month), with their worst
    error rate; excluded intervals as maintenance."""
    size = Decimal(data["interval_us"]) / MINUTE_US
    outages = [
        OutageLine(_local(s, zone), _local(e, zone), count * size, bool(is_open), float(100 * failed / total))
        for s, e, failed, total, count, is_open in data["down_runs"]
    ]
    maintenance = [
        MaintenanceLine(_local(s, zone), _local(e, zone), Decimal(e - s) / MINUTE_US, "excluded intervals")
        for s, e in data["excluded"]
    ]
    return {"outages": outages, "maintenance": maintenance}


def _ticket_lines(data: dict[str, Any], zone: ZoneInfo) -> dict[str, Any]:
    within = data["within_us"]
    missed = [_missed_ticket(line, within, zone) for line in data["missed"]]
    lines = {"missed_tickets": missed, "tickets_counted": data["counted"], "tickets_on_time": data["on_time"]}
    if "calendar" in data:  # a clause in business time
        lines |= {
            "calendar": data["calendar"],
            "pausable": data["pausable"],
            "holidays": [ClosedDay(date.fromisoformat(day), name) for day, name in data["holidays"]],
            "undecided_tickets": [
                UndecidedTicket(ticket_id, priority, _local(opened, zone), Decimal(counted) / MINUTE_US)
                for ticket_id, priority, opened, counted in data["undecided"]
            ],
        }
    return lines


def _missed_ticket(line: list[Any], within: int, zone: ZoneInfo) -> MissedTicket:
    """A missed line: (id, priority, opened, first measure[, deadline, counted µs at it]);
    ledgers written before deadlines were recorded hold the first four (elapsed time)."""
    ticket_id, priority, opened, measure = line[:4]
    due, counted = (
        line[4:] if len(line) > 4 else (opened + within, None if measure is None else measure - opened)
    )
    return MissedTicket(
        ticket_id,
        priority,
        _local(opened, zone),
        _local(due, zone),
        _local(measure, zone) if measure is not None else None,
        Decimal(counted) / MINUTE_US if counted is not None else None,
    )
