"""Small builders for engine tests: contracts from dicts, events as JSON lines, and runners.

Times in the helpers are microseconds (``US``, ``S``, ``M``, ``H``), the engine's own unit, so a
hand-computed eligible and down time give the exact expected value with :func:`pct`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

from monitor.contract import Contract
from monitor.engine import DEFAULT_LATENESS, Engine, Verdict
from monitor.events import decode_event
from monitor.replay import ReplayReport, replay

US = 1
S = 1_000_000 * US
M = 60 * S
H = 60 * M

TICK_SERVICE = "zz-clock"  # a service no contract watches: its events only move the watermark


def pct(eligible: int, down: int) -> float:
    """The exact attained percent, correctly rounded to a float: 100 * (eligible - down) / eligible."""
    return float(Fraction(100 * (eligible - down), eligible))


def ratio(on_time: int, counted: int) -> float:
    return float(Fraction(100 * on_time, counted))


# contracts -----------------------------------------------------------------------------


def uptime(clause_id: str = "api-uptime", service: str = "api", target: Any = 99.5, **extra: Any) -> dict:
    return {"id": clause_id, "kind": "uptime", "service": service, "target_percent": target, **extra}


def response(
    clause_id: str = "support",
    measure: str = "responded",
    within: str = "24h",
    target: Any = 90,
    **extra: Any,
) -> dict:
    return {
        "id": clause_id,
        "kind": "response_time",
        "measure": measure,
        "within": within,
        "target_percent": target,
        **extra,
    }


def contract(*clauses: dict, **overrides: Any) -> Contract:
    document: dict[str, Any] = {
        "id": "acme",
        "customer": "Acme Corp",
        "provider": "CloudCo Ltd",
        "timezone": "Europe/Berlin",
        "currency": "EUR",
        "monthly_fee": "12000.00",
        "effective_from": "2026-01-01",
        "clauses": list(clauses) or [uptime()],
    }
    document.update(overrides)
    return Contract.model_validate(document)


def plain_document(**changes: Any) -> dict[str, Any]:
    """A contract file's content for hand-computed money: UTC (a month is a plain number of
    hours), 1000.00 EUR a month, one uptime clause ``up`` on ``api`` (99.5%, 10% credit below)."""
    document: dict[str, Any] = {
        "id": "acme",
        "customer": "Acme Corp",
        "provider": "CloudCo Ltd",
        "timezone": "UTC",
        "currency": "EUR",
        "monthly_fee": "1000.00",
        "effective_from": "2026-01-01",
        "clauses": [
            {
                "id": "up",
                "kind": "uptime",
                "service": "api",
                "target_percent": 99.5,
                "credits": [{"below_percent": 99.5, "credit_percent": 10}],
            }
        ],
    }
    return document | changes


# events (JSON Lines) -------------------------------------------------------------------


def status(at: str, state: str, service: str = "api", event_id: str | None = None) -> str:
    return json.dumps(
        {
            "event_id": event_id or f"status:{service}:{at}:{state}",
            "type": "status",
            "service": service,
            "status": state,
            "at": at,
        }
    )


def outage(start: str, end: str, service: str = "api") -> list[str]:
    """Down at ``start``, up again at ``end``."""
    return [status(start, "down", service), status(end, "up", service)]


def maintenance(
    start: str, end: str, announced: str, service: str = "api", event_id: str | None = None
) -> str:
    return json.dumps(
        {
            "event_id": event_id or f"maintenance:{service}:{start}:{end}:{announced}",
            "type": "maintenance",
            "service": service,
            "start": start,
            "end": end,
            "at": announced,
        }
    )


def ticket(
    ticket_id: str,
    action: str,
    at: str,
    priority: str | None = "P1",
    contract_id: str = "acme",
    event_id: str | None = None,
) -> str:
    document: dict[str, Any] = {
        "event_id": event_id or f"ticket:{contract_id}:{ticket_id}:{action}:{at}",
        "type": "ticket",
        "ticket_id": ticket_id,
        "contract": contract_id,
        "action": action,
        "at": at,
    }
    if priority is not None:
        document["priority"] = priority
    return json.dumps(document)


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text)


def in_time_order(lines: Iterable[str]) -> list[str]:
    """The lines sorted by ``at`` (stable): a file in which nothing is late."""
    return sorted(lines, key=lambda line: moment(json.loads(line)["at"]))


def with_ticks(lines: Sequence[str], until: str, step: timedelta = timedelta(minutes=10)) -> list[str]:
    """The events in time order, interleaved with clock events every ``step`` up to ``until``.

    The ticks move the watermark steadily, so the engine folds settled history into its running
    totals many times along the way (the other path to the same figures)."""
    stamped = [(moment(json.loads(line)["at"]), 0, line) for line in lines]
    end = moment(until)
    tick = min((t for t, _, _ in stamped), default=end)
    while tick <= end:
        stamped.append((tick, 1, status(tick.isoformat(), "up", TICK_SERVICE, f"tick:{tick.isoformat()}")))
        tick += step
    stamped.sort(key=lambda item: (item[0], item[1]))
    return [line for _, _, line in stamped]


# running -------------------------------------------------------------------------------


@dataclass
class Records:
    report: ReplayReport

    def clause(self, clause_id: str, period: str, contract_id: str = "acme") -> dict[str, Any]:
        for record in self.report.records:
            if (
                record["record"] == "clause"
                and record["contract"] == contract_id
                and record["clause"] == clause_id
                and record["period"] == period
            ):
                return record
        raise KeyError((contract_id, clause_id, period))

    def contract(self, period: str, contract_id: str = "acme") -> dict[str, Any]:
        for record in self.report.records:
            if (
                record["record"] == "contract"
                and record["contract"] == contract_id
                and record["period"] == period
            ):
                return record
        raise KeyError((contract_id, period))

    def periods(self, clause_id: str | None = None, contract_id: str = "acme") -> list[str]:
        """Periods with a clause record of ``clause_id`` (or with a contract record, if None)."""
        return [
            r["period"]
            for r in self.report.records
            if r["contract"] == contract_id
            and (r["record"] == "contract" if clause_id is None else r.get("clause") == clause_id)
        ]

    def outcomes(self) -> dict[str, int]:
        return {outcome.value: count for outcome, count in self.report.outcomes.items()}


def run(
    contracts: Contract | Sequence[Contract],
    lines: Iterable[str],
    as_of: str | None = None,
    *,
    lateness: timedelta = DEFAULT_LATENESS,
    ticked: bool = False,
) -> Records:
    """``replay`` over the lines; with ``ticked``, clock events every 10 minutes are interleaved."""
    if isinstance(contracts, Contract):
        contracts = [contracts]
    lines = list(lines)
    if ticked:
        assert as_of is not None, "ticks run up to as_of"
        lines = with_ticks(lines, as_of)
    return Records(replay(contracts, lines, moment(as_of) if as_of else None, lateness))


def feed(engine: Engine, lines: Iterable[str]) -> list[Verdict]:
    """Apply lines to an engine directly; the verdict of each."""
    return [engine.apply(decode_event(line)) for line in lines]


# request-based availability (SPEC.md section 11) ----------------------------------------


def availability(
    clause_id: str = "api-availability",
    method: str = "downtime_intervals",
    interval: str = "1m",
    target: Any = 99.9,
    service: str = "api",
    **extra: Any,
) -> dict:
    clause = {
        "id": clause_id,
        "kind": "availability",
        "service": service,
        "method": method,
        "interval": interval,
        "target_percent": target,
        **extra,
    }
    if method == "downtime_intervals":
        clause.setdefault("error_rate_above_percent", 5)
    return clause


def requests(
    start: str,
    total: int,
    failed: int,
    service: str = "api",
    *,
    end: str | None = None,
    at: str | None = None,
    event_id: str | None = None,
) -> str:
    """Counts of the requests finished in ``[start, end)`` (default: the minute from ``start``)."""
    begin = moment(start)
    stop = moment(end) if end is not None else begin + timedelta(minutes=1)
    return json.dumps(
        {
            "event_id": event_id or f"requests:{service}:{start}:{stop.isoformat()}",
            "type": "requests",
            "service": service,
            "start": begin.isoformat(),
            "end": stop.isoformat(),
            "total": total,
            "failed": failed,
            "at": at or stop.isoformat(),
        }
    )
