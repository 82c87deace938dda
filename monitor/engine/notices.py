"""Notices (SPEC.md section 6): the facts worth telling people, decided from settled figures.

A notice states a fact that later events cannot undo, so it is decided at the settled
point (the watermark minus ``allowed_lateness``: no event before it can still arrive),
never from the provisional figures in front of it. Its id names the fact — contract,
clause, period and type — so replaying or recovering states it again under the same id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from fractions import Fraction
from typing import Any

from monitor.contract import Contract, ResponseTimeClause, UptimeClause
from monitor.engine.calendar import PeriodKey
from monitor.engine.money import credit_amount
from monitor.engine.results import ClauseResult
from monitor.timeutil import format_instant

DEFAULT_AT_RISK_BUDGET_PERCENT = Decimal(75)
MICROSECONDS = 1_000_000


class NoticeType(StrEnum):
    AT_RISK = "sla.at_risk"
    BREACHED = "sla.breached"
    PERIOD_CLOSED = "sla.period_closed"


@dataclass(frozen=True)
class Notice:
    type: NoticeType
    contract: str
    clause: str
    period: PeriodKey
    as_of: int  # the settled point (µs) at which the fact was established
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def id(self) -> str:
        return notice_id(self.contract, self.clause, self.period, self.type)

    def to_record(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.type.value,
            "contract": self.contract,
            "clause": self.clause,
            "period": self.period,
            "as_of": format_instant(self.as_of),
            "facts": self.facts,
        }


def notice_id(contract: str, clause: str, period: PeriodKey, kind: NoticeType | str) -> str:
    return f"{contract}/{clause}/{period}/{NoticeType(kind).value}"


@dataclass(frozen=True)
class UptimeBudget:
    """One uptime period at the settled point: its downtime against the whole period's budget."""

    eligible: int  # µs of the whole period, less the excluded time known so far
    downtime: int  # µs counted before the settled point
    target_percent: Decimal

    @property
    def budget(self) -> Fraction:
        return (1 - Fraction(self.target_percent) / 100) * self.eligible

    @property
    def used(self) -> Fraction | None:
        """Share of the budget used; None when there is no budget at all (target 100%)."""
        return Fraction(self.downtime) / self.budget if self.budget > 0 else None

    def at_risk(self, threshold_percent: Decimal) -> bool:
        if self.downtime <= 0:
            return False
        return self.downtime >= Fraction(threshold_percent) / 100 * self.budget

    def breached(self) -> bool:
        return self.downtime > self.budget

    def facts(self) -> dict[str, Any]:
        attained = (
            Fraction(100)
            if self.eligible <= 0
            else Fraction(100 * (self.eligible - self.downtime), self.eligible)
        )
        used = self.used
        return {
            "downtime_seconds": self.downtime / MICROSECONDS,
            "budget_seconds": float(self.budget) / MICROSECONDS,
            "budget_used_ratio": float(used) if used is not None else None,
            "eligible_seconds": self.eligible / MICROSECONDS,
            "attained_percent_so_far": float(attained),
            "target_percent": float(self.target_percent),
        }


def uptime_risk_notices(
    clause: UptimeClause,
    contract: Contract,
    period: PeriodKey,
    figures: UptimeBudget,
    threshold_percent: Decimal,
    as_of: int,
) -> list[Notice]:
    notices = []
    facts = figures.facts() | {"at_risk_budget_percent": float(threshold_percent)}
    if figures.at_risk(threshold_percent):
        notices.append(Notice(NoticeType.AT_RISK, contract.id, clause.id, period, as_of, facts))
    if figures.breached():
        notices.append(Notice(NoticeType.BREACHED, contract.id, clause.id, period, as_of, facts))
    return notices


def response_margin(target_percent: Decimal, threshold_percent: Decimal) -> Fraction:
    """At risk below target + margin: the same share of the budget (100 − target) used."""
    return (1 - Fraction(threshold_percent) / 100) * (100 - Fraction(target_percent))


def response_risk_notice(
    clause: ResponseTimeClause,
    contract: Contract,
    period: PeriodKey,
    counted: int,
    on_time: int,
    threshold_percent: Decimal,
    as_of: int,
) -> Notice | None:
    if counted == 0:
        return None
    attained = Fraction(100 * on_time, counted)
    margin = response_margin(clause.target_percent, threshold_percent)
    if attained >= Fraction(clause.target_percent) + margin:
        return None
    facts = {
        "tickets_counted": counted,
        "tickets_on_time": on_time,
        "attained_percent_so_far": float(attained),
        "target_percent": float(clause.target_percent),
        "at_risk_below_percent": float(Fraction(clause.target_percent) + margin),
    }
    return Notice(NoticeType.AT_RISK, contract.id, clause.id, period, as_of, facts)


def closing_notice(contract: Contract, result: ClauseResult, as_of: int) -> Notice:
    """The month-close statement of one clause: final figures, its credit and remedies.

    The amount is the clause's share before the contract's cap; the capped total of the
    month is the contract record of the ledger and of ``slamon report``.
    """
    facts = {
        "attained_percent": float(result.attained),
        "target_percent": float(result.target_percent),
        "met": result.met,
        "consecutive_breaches": result.consecutive_breaches,
        "credit_percent": float(result.credit_percent),
        "credit_amount": str(credit_amount(contract.monthly_fee, result.credit_percent, contract.minor_unit)),
        "currency": contract.currency,
        "remedies": list(result.remedies),
    }
    return Notice(NoticeType.PERIOD_CLOSED, contract.id, result.clause, result.period, as_of, facts)


def breach_at_close(contract: Contract, result: ClauseResult, as_of: int) -> Notice:
    """An uptime period found breached only as it closes (it crossed its budget at the end)."""
    facts = {
        "attained_percent": float(result.attained),
        "target_percent": float(result.target_percent),
        "found_at_close": True,
    }
    return Notice(NoticeType.BREACHED, contract.id, result.clause, result.period, as_of, facts)
