"""A small brute-force reference for SPEC.md section 4, written independently of the engine.

It keeps every event, cuts time into elementary intervals at every breakpoint and asks of
each one whether it is down, excluded and inside a period. Slow and obvious on purpose.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Any

from dateutil.rrule import rrulestr
from iso4217 import Currency

from monitor.contract import Contract, OneOffWindow, RecurringWindow, UptimeClause
from monitor.events import Event, MaintenanceEvent, StatusEvent, TicketEvent

US = timedelta(microseconds=1)
EPOCH = datetime(1970, 1, 1).astimezone(__import__("zoneinfo").ZoneInfo("UTC"))


def us(moment: datetime) -> int:
    return (moment - EPOCH) // US


def counted_events(events: list[Event], lateness: timedelta) -> tuple[list[Event], int | None]:
    """Dedup by id and drop late events exactly as SPEC section 4 says; return them and the watermark."""
    seen: set[str] = set()
    kept: list[Event] = []
    watermark: int | None = None
    for event in events:
        if isinstance(event, TicketEvent) and event.contract == "no-such-contract":
            continue
        if event.event_id in seen:
            continue
        key = us(event.start) if isinstance(event, MaintenanceEvent) else us(event.at)
        if watermark is not None and key < watermark - lateness // US:
            watermark = max(watermark, us(event.at))  # late, but valid: it moves the clock
            continue
        seen.add(event.event_id)
        kept.append(event)
        watermark = max(watermark or us(event.at), us(event.at))
    return kept, watermark


@dataclass
class Period:
    key: str
    start: int
    end: int


def periods(contract: Contract, clock: int) -> list[Period]:
    zone = contract.zone

    def midnight(day: date) -> int:
        return us(datetime(day.year, day.month, day.day, tzinfo=zone))

    lo = midnight(contract.effective_from)
    hi = midnight(contract.effective_to) if contract.effective_to else None
    year, month = contract.effective_from.year, contract.effective_from.month
    found = []
    while True:
        nxt = (year + 1, 1) if month == 12 else (year, month + 1)
        start = max(midnight(date(year, month, 1)), lo)
        end = midnight(date(nxt[0], nxt[1], 1))
        if hi is not None:
            end = min(end, hi)
        if start >= clock or (hi is not None and start >= hi):
            return found
        if end > start:
            found.append(Period(f"{year:04d}-{month:02d}", start, end))
        year, month = nxt


def _length(intervals: list[tuple[int, int]], lo: int, hi: int) -> int:
    points = sorted({lo, hi} | {p for s, e in intervals for p in (s, e) if lo < p < hi})
    total = 0
    for a, b in itertools.pairwise(points):
        if any(s <= a and b <= e for s, e in intervals):
            total += b - a
    return total


def _excluded(contract: Contract, clause: UptimeClause, events: list[Event], lo: int, hi: int):
    if not clause.exclude_maintenance:
        return []
    zone = contract.zone
    windows = []
    start = contract.effective_from
    dtstart = datetime(start.year, start.month, start.day)
    first = datetime.fromtimestamp(lo / 1e6) - timedelta(days=40)
    last = datetime.fromtimestamp(hi / 1e6) + timedelta(days=2)
    for window in contract.maintenance.windows:
        if isinstance(window, RecurringWindow):
            for occurrence in rrulestr(window.rrule, dtstart=dtstart).between(first, last, inc=True):
                begin = us(occurrence.replace(tzinfo=zone))
                windows.append((begin, begin + window.duration // US))
        elif isinstance(window, OneOffWindow):
            windows.append((us(window.start), us(window.end)))
    notice = contract.maintenance.announced_min_notice
    if notice is not None:
        for event in events:
            is_ours = isinstance(event, MaintenanceEvent) and event.service == clause.service
            if is_ours and event.start - event.at >= notice:
                windows.append((us(event.start), us(event.end)))
    return windows


def _down_spans(clause: UptimeClause, events: list[Event], clock: int) -> list[tuple[int, int]]:
    changes = sorted(
        (us(e.at), e.event_id, e.status == "down")
        for e in events
        if isinstance(e, StatusEvent) and e.service == clause.service and us(e.at) <= clock
    )
    # the status at an instant is the last change at that instant
    last_at: dict[int, bool] = {}
    for at, _, down in changes:
        last_at[at] = down
    spans, since = [], None
    for at in sorted(last_at):
        down = last_at[at]
        if down and since is None:
            since = at
        elif not down and since is not None:
            if at > since:
                spans.append((since, at))
            since = None
    if since is not None and clock > since:
        spans.append((since, clock))
    return spans


def uptime_figures(contract, clause, events, clock, lateness_us):
    spans = _down_spans(clause, events, clock)
    threshold = clause.min_outage // US
    counted = [s for s in spans if s[1] - s[0] >= threshold]
    open_short = [
        s for s in spans if s[1] == clock and s[1] - s[0] < threshold and _is_open(clause, events, clock)
    ]
    out = {}
    for period in periods(contract, clock):
        hi = min(period.end, clock)
        excluded = _excluded(contract, clause, events, period.start, period.end)
        eligible = (hi - period.start) - _length(excluded, period.start, hi)
        down = _length(counted, period.start, hi) - _length(
            [(max(s, a), min(e, b)) for s, e in counted for a, b in excluded if s < b and a < e],
            period.start,
            hi,
        )
        attained = Fraction(100) if eligible <= 0 else Fraction(100 * (eligible - down), eligible)
        undecided = any(
            _length([s], period.start, hi)
            - _length(
                [(max(s[0], a), min(s[1], b)) for a, b in excluded if s[0] < b and a < s[1]], period.start, hi
            )
            > 0
            for s in open_short
        )
        final = clock >= period.end + lateness_us and not undecided
        out[period.key] = (attained, final)
    return out


def _is_open(clause, events, clock) -> bool:
    changes = sorted(
        (us(e.at), e.event_id, e.status == "down")
        for e in events
        if isinstance(e, StatusEvent) and e.service == clause.service and us(e.at) <= clock
    )
    return bool(changes) and changes[-1][2]


def response_figures(contract, clause, events, clock, lateness_us):
    tickets: dict[tuple[str, int], dict[str, Any]] = {}
    mine = sorted(
        (e for e in events if isinstance(e, TicketEvent) and e.contract == contract.id),
        key=lambda e: (us(e.at), e.event_id),
    )
    instance: dict[str, tuple[int, int | None]] = {}  # ticket id -> (instance, first opened)
    reuse_after = 62 * 86400 * 1_000_000
    for e in mine:
        if e.action != "opened" and e.action != clause.measure:
            continue
        number, first = instance.get(e.ticket_id, (0, None))
        if first is not None and us(e.at) > first + reuse_after:
            number, first = number + 1, None  # the id is reused by a new ticket
        if e.action == "opened" and first is None:
            first = us(e.at)
        instance[e.ticket_id] = (number, first)
        t = tickets.setdefault((e.ticket_id, number), {"opened": None, "measure": None})
        if e.action == "opened":
            cand = (us(e.at), e.event_id, e.priority)
            if t["opened"] is None or cand < t["opened"]:
                t["opened"] = cand
        elif e.action == clause.measure and (t["measure"] is None or us(e.at) < t["measure"]):
            t["measure"] = us(e.at)
    plist = periods(contract, clock)
    counts = {p.key: [0, 0] for p in plist}
    within = clause.within // US
    for t in tickets.values():
        if t["opened"] is None:
            continue
        opened, _, priority = t["opened"]
        if opened >= clock or (clause.priorities is not None and priority not in clause.priorities):
            continue
        holder = [p for p in plist if p.start <= opened < p.end]
        if not holder:
            continue
        deadline = opened + within
        measure = t["measure"]
        if measure is not None and measure <= deadline and measure <= clock:
            counts[holder[0].key][0] += 1
            counts[holder[0].key][1] += 1
        elif clock > deadline:
            counts[holder[0].key][0] += 1
    return {
        p.key: (
            Fraction(100) if counts[p.key][0] == 0 else Fraction(100 * counts[p.key][1], counts[p.key][0]),
            clock >= p.end + within + lateness_us,
        )
        for p in plist
    }


def reference_records(
    contracts: list[Contract], events: list[Event], lateness: timedelta, as_of=None, responses=None
):
    """``responses``: the figures function of response-time clauses (default: section 4's)."""
    responses = responses or response_figures
    kept, watermark = counted_events(events, lateness)
    clock = us(as_of) if as_of is not None else watermark
    if clock is None:
        return []
    lateness_us = lateness // US
    records = []
    for contract in sorted(contracts, key=lambda c: c.id):
        clause_rows = []
        for clause in sorted(contract.clauses, key=lambda c: c.id):
            if isinstance(clause, UptimeClause):
                figures = uptime_figures(contract, clause, kept, clock, lateness_us)
            else:
                figures = responses(contract, clause, kept, clock, lateness_us)
            count = 0
            for key, (attained, final) in figures.items():
                met = attained >= Fraction(clause.target_percent)
                count = 0 if met else count + 1
                credit = max(
                    [t.credit_percent for t in clause.credits if attained < Fraction(t.below_percent)],
                    default=Decimal(0),
                )
                remedies = []
                rule = clause.consecutive
                if rule is not None and count >= rule.periods:
                    credit += rule.credit_percent
                    if rule.remedy != "none":
                        remedies = [rule.remedy]
                clause_rows.append(
                    {
                        "record": "clause",
                        "contract": contract.id,
                        "clause": clause.id,
                        "period": key,
                        "final": final,
                        "attained_percent": float(attained),
                        "target_percent": float(clause.target_percent),
                        "met": met,
                        "consecutive_breaches": count,
                        "credit_percent": float(credit),
                        "remedies": remedies,
                        # SPEC.md section 12: without its keys, never chronic, always the base terms
                        "chronic": False,
                        "terms": "base",
                        "_credit": credit,
                    }
                )
        for key in sorted({r["period"] for r in clause_rows}):
            rows = [r for r in clause_rows if r["period"] == key]
            percent = sum((r["_credit"] for r in rows), Decimal(0))
            if contract.credit_cap_percent is not None:
                percent = min(percent, contract.credit_cap_percent)
            exponent = Currency[contract.currency].exponent or 0
            amount = (contract.monthly_fee * percent / 100).quantize(
                Decimal(1) / (Decimal(10) ** exponent), rounding=ROUND_HALF_UP
            )
            clause_rows.append(
                {
                    "record": "contract",
                    "contract": contract.id,
                    "period": key,
                    "final": all(r["final"] for r in rows),
                    "credit_percent": float(percent),
                    "credit_amount": str(amount),
                    "currency": contract.currency,
                    "adjustments": [],
                    "terms": "base",
                }
            )
        for row in clause_rows:
            row.pop("_credit", None)
        records.extend(clause_rows)
    return records
