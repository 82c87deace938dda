"""The webhook body of a notice, written for people: documented by ``notice.schema.json``.

Standard Webhooks shape: ``{"type", "timestamp", "data"}``. ``data`` names the contract and
its parties, the clause in words, the period, the figures, and for a month close the credit
owed and the remedies now open.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from monitor.contract import Contract
from monitor.engine.calendar import ContractCalendar
from monitor.terms import terms_for_period
from monitor.timeutil import from_us
from monitor.wording import clause_words, money_words, percent_words, period_label, remedy_words

SCHEMA_PATH = Path(__file__).with_name("notice.schema.json")

_HEADLINES = {
    "sla.at_risk": "at risk",
    "sla.breached": "breached",
    "sla.period_closed": "month closed",
}


def notice_body(notice: dict[str, Any], contract: Contract) -> dict[str, Any]:
    """``notice`` is a notice record (``Notice.to_record()``) of ``contract``."""
    contract = terms_for_period(contract, notice["period"]).contract  # the terms in force then
    clause = next(c for c in contract.clauses if c.id == notice["clause"])
    facts = notice["facts"]
    data: dict[str, Any] = {
        "notice_id": notice["id"],
        "summary": _summary(notice, contract),
        "contract": {
            "id": contract.id,
            "customer": contract.customer,
            "provider": contract.provider,
            "timezone": contract.timezone,
            "currency": contract.currency,
            "monthly_fee": str(contract.monthly_fee),
        },
        "clause": {
            "id": clause.id,
            "kind": clause.kind,
            "text": clause_words(contract, clause),
            "target_percent": float(clause.target_percent),
        },
        "period": _period(contract, notice["period"]),
        "as_of": notice["as_of"],
        "figures": {k: v for k, v in facts.items() if k not in ("credit_amount", "currency", "remedies")},
    }
    if notice["type"] == "sla.period_closed":
        data["credit"] = {
            "percent": facts["credit_percent"],
            "amount": facts["credit_amount"],
            "currency": facts["currency"],
            "note": "this clause's credit before the contract's cap; the month's total is in the statement",
        }
        data["remedies"] = [{"remedy": r, "text": remedy_words(r)} for r in facts["remedies"]]
    return {"type": notice["type"], "timestamp": notice["as_of"], "data": data}


def _period(contract: Contract, period: str) -> dict[str, str]:
    start, end = ContractCalendar(contract).bounds(period)
    zone = ZoneInfo(contract.timezone)
    return {
        "month": period,
        "label": period_label(period),
        "start": from_us(start).astimezone(zone).isoformat(),
        "end": from_us(end).astimezone(zone).isoformat(),
    }


def _summary(notice: dict[str, Any], contract: Contract) -> str:
    facts = notice["facts"]
    head = (
        f"{contract.customer} / {contract.provider}: {notice['clause']} "
        f"{_HEADLINES[notice['type']]} for {period_label(notice['period'])}"
    )
    target = percent_words(facts["target_percent"])
    if notice["type"] == "sla.period_closed":
        verdict = "met" if facts["met"] else "missed"
        share = percent_words(facts["credit_percent"])
        credit = f"credit owed {money_words(facts['credit_amount'], facts['currency'])} ({share})"
        return f"{head}: {_two(facts['attained_percent'])} against {target}, {verdict}; {credit}."
    attained = facts.get("attained_percent_so_far", facts.get("attained_percent"))
    return f"{head}: {_two(attained)} so far against {target}."


def _two(percent: float) -> str:
    return f"{percent:.3f}%"
