"""Period results and the records of SPEC.md section 5."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from monitor.engine.calendar import PeriodKey


@dataclass(frozen=True)
class ClauseResult:
    contract: str
    clause: str
    period: PeriodKey
    final: bool
    attained: Fraction
    target_percent: Decimal
    met: bool
    consecutive_breaches: int
    credit_percent: Decimal
    remedies: tuple[str, ...]
    chronic: bool = False
    terms: str = "base"  # the title of the amendment in force, or "base"

    def to_record(self) -> dict[str, Any]:
        return {
            "record": "clause",
            "contract": self.contract,
            "clause": self.clause,
            "period": self.period,
            "final": self.final,
            "attained_percent": float(self.attained),
            "target_percent": float(self.target_percent),
            "met": self.met,
            "consecutive_breaches": self.consecutive_breaches,
            "credit_percent": float(self.credit_percent),
            "remedies": list(self.remedies),
            "chronic": self.chronic,
            "terms": self.terms,
        }


@dataclass(frozen=True)
class ContractResult:
    contract: str
    period: PeriodKey
    final: bool
    credit_percent: Decimal
    credit_amount: Decimal  # owed: after the minimum credit and the annual cap
    currency: str
    adjustments: tuple[str, ...] = ()  # the credit rules that changed the amount
    terms: str = "base"

    def to_record(self) -> dict[str, Any]:
        return {
            "record": "contract",
            "contract": self.contract,
            "period": self.period,
            "final": self.final,
            "credit_percent": float(self.credit_percent),
            "credit_amount": str(self.credit_amount),
            "currency": self.currency,
            "adjustments": list(self.adjustments),
            "terms": self.terms,
        }


PeriodResult = ClauseResult | ContractResult


def record_sort_key(record: dict[str, Any]) -> tuple[str, int, str, str]:
    """Replay order: per contract, its clause records by (clause, period), then its contract records."""
    if record["record"] == "clause":
        return (record["contract"], 0, record["clause"], record["period"])
    return (record["contract"], 1, "", record["period"])


@dataclass(frozen=True)
class ClauseStatus:
    """A clause's latest period at the watermark: the live view for operations (provisional)."""

    contract: str
    clause: str
    period: PeriodKey
    attained: Fraction
    target_percent: Decimal
    budget_remaining: Fraction  # share of the whole period's error budget left; negative once overspent
    breached: bool  # the period can no longer be met (uptime) or is below target now (tickets)
    consecutive_breaches: int
    paused_tickets: int | None = None  # open tickets paused now (pausable response-time clauses)
