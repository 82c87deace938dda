"""``explain``: one clause's figure for one period, derived step by step, from the counted events
(a replay of a file) or from the ledger, and checked against the engine's or the ledger's result."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from typing import Any

from monitor.contract import Clause, Contract
from monitor.engine import DEFAULT_LATENESS, Engine, Outcome
from monitor.engine.calendar import ContractCalendar
from monitor.events import Event, InvalidEvent, decode_event
from monitor.explain.common import ClauseContext, arithmetic_section, period_section, terms_section
from monitor.explain.credit import credit_section
from monitor.explain.kinds import ClauseExplainer, Derived, explainers
from monitor.explain.model import ExplainError, Explanation
from monitor.terms import Terms, terms_for_period
from monitor.timeutil import to_us


def explain_from_events(
    contracts: Sequence[Contract],
    contract_id: str,
    clause_id: str,
    period: str,
    lines: Iterable[bytes | str],
    as_of: datetime | None = None,
    allowed_lateness: timedelta = DEFAULT_LATENESS,
    source: str = "a replay of the events",
) -> Explanation:
    """Replay ``lines`` as ``slamon replay`` does, keeping the counted events that bear on the
    clause (late, duplicate and invalid ones are not counted), and derive the period's figure."""
    written, terms, clause, explainer = _find(contracts, contract_id, clause_id, period)
    contract = terms.contract
    engine = Engine(contracts, allowed_lateness)
    kept: list[Event] = []
    for line in lines:
        try:
            event = decode_event(line)
        except InvalidEvent:
            continue
        if engine.apply(event).outcome is Outcome.APPLIED and explainer.relevant(contract, clause, event):
            kept.append(event)
    clock = engine.watermark
    if as_of is not None:
        clock = max(to_us(as_of), clock or to_us(as_of))
    if clock is None:
        raise ExplainError("no valid event in the input: nothing to explain")
    engine.advance_to(clock)
    records = [r.to_record() for r in engine.results(clock) if r.contract == contract.id]
    ctx = _context(written, terms, clause, period, clock, records)
    return _explanation(ctx, explainer.from_events(ctx, kept), records, source)


def explain_from_ledger(
    contract: Contract,
    clause_id: str,
    period: str,
    records: Sequence[dict[str, Any]],
    details: dict[str, Any] | None,
) -> Explanation:
    """From the ledger's results of the contract and its detail record of the clause and period."""
    _, terms, clause, explainer = _find([contract], contract.id, clause_id, period)
    if details is None:
        raise ExplainError(
            f"the ledger has no details of {clause_id} in {period} (outages, windows, tickets): "
            "explain it from the events with --events FILE --contracts DIR"
        )
    ctx = _context(contract, terms, clause, period, details["details"]["as_of"], records)
    return _explanation(ctx, explainer.from_details(ctx, details), records, "the ledger")


def _find(
    contracts: Sequence[Contract], contract_id: str, clause_id: str, period: str
) -> tuple[Contract, Terms, Clause, ClauseExplainer]:
    """The contract as written, the terms in force in ``period`` (the base terms or an
    amendment's), the clause under them and its kind's explainer."""
    contract = next((c for c in contracts if c.id == contract_id), None)
    if contract is None:
        known = ", ".join(sorted(c.id for c in contracts)) or "none"
        raise ExplainError(f"unknown contract {contract_id!r} (known: {known})")
    terms = terms_for_period(contract, period)
    clause = next((c for c in terms.contract.clauses if c.id == clause_id), None)
    if clause is None:
        known = ", ".join(c.id for c in terms.contract.clauses)
        raise ExplainError(
            f"contract {contract.id} has no clause {clause_id!r} in {period} (its clauses then: {known})"
        )
    explainer = explainers().get(clause.kind)
    if explainer is None:
        raise ExplainError(f"clauses of kind {clause.kind!r} cannot be explained yet")
    return contract, terms, clause, explainer


def _context(
    written: Contract,
    terms: Terms,
    clause: Clause,
    period: str,
    clock: int | None,
    records: Sequence[dict[str, Any]],
) -> ClauseContext:
    contract = terms.contract
    calendar = ContractCalendar(contract)
    start, end = calendar.bounds(period)
    if end <= start or calendar.key_of(start) != period:
        raise ExplainError(f"{period} is outside the dates of contract {contract.id}")
    record = _record(records, clause.id, period)
    if record is None or clock is None or clock <= start:
        raise ExplainError(f"no result for {clause.id} of {contract.id} in {period}: no data for it yet")
    title = "the base terms" if terms.is_base else f"the amendment {terms.title!r}"
    return ClauseContext(contract, clause, period, start, end, clock, bool(record["final"]), written, title)


def _record(records: Sequence[dict[str, Any]], clause_id: str, period: str) -> dict[str, Any] | None:
    return next(
        (
            r
            for r in records
            if r["record"] == "clause" and r["clause"] == clause_id and r["period"] == period
        ),
        None,
    )


def _explanation(
    ctx: ClauseContext, derived: Derived, records: Sequence[dict[str, Any]], source: str
) -> Explanation:
    record = _record(records, ctx.clause.id, ctx.period)
    assert record is not None
    if float(derived.attained) != record["attained_percent"]:
        raise ExplainError(
            f"the derivation gives {float(derived.attained)}% where the result says "
            f"{record['attained_percent']}%: the input is not what the result was computed from"
        )
    history = [
        r
        for r in records
        if r["record"] == "clause" and r["clause"] == ctx.clause.id and r["period"] <= ctx.period
    ]
    kind_terms = explainers()[ctx.clause.kind].terms(ctx)
    sections = [
        period_section(ctx),
        terms_section(ctx, kind_terms),
        *derived.sections,
        arithmetic_section(ctx, derived.attained, derived.formula, history),
        credit_section(ctx, records),
    ]
    return Explanation(ctx.contract.id, ctx.clause.id, ctx.period, source, sections)
