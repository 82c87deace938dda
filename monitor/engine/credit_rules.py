"""A month's money after the contract's credit rules (SPEC.md section 12): the minimum
credit, then the annual cap per contract year. Exact decimals, half-up to the minor unit."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from monitor.contract import Contract
from monitor.engine.money import credit_amount

MIN_CREDIT = "min_credit"
ANNUAL_CAP = "annual_cap"
ZERO = Decimal(0)


@dataclass(frozen=True)
class Owed:
    """What a month owes after the rules, and the rules that changed its amount."""

    amount: Decimal
    adjustments: tuple[str, ...]


@dataclass(frozen=True)
class PricedMonth:
    """A month's amount before the rules, with the terms in force then."""

    first_day: date  # the period's first local day (clipped to effective_from)
    terms: Contract
    amount: Decimal


def contract_year(effective_from: date, first_day: date) -> int:
    """k such that ``first_day`` lies in ``[effective_from + k years, effective_from + k+1 years)``."""
    return relativedelta(first_day, effective_from).years


def owed_amounts(contract: Contract, months: Sequence[PricedMonth]) -> list[Owed]:
    """Apply the rules in force in each month, in period order: 0 if below
    ``min_credit_amount``, then at most what the annual cap leaves of the contract year
    (cap = ``annual_cap_percent`` x 12 x that month's fee / 100, half-up)."""
    owed_in_year: dict[int, Decimal] = {}
    none = ZERO.quantize(Decimal(1).scaleb(-contract.minor_unit))  # 0 written to the minor unit
    results = []
    for month in months:
        rules = month.terms.credit_rules
        owed, adjustments = month.amount, []
        minimum = rules.min_credit_amount if rules is not None else None
        if minimum is not None and ZERO < owed < minimum:
            owed = none
            adjustments.append(MIN_CREDIT)
        year = contract_year(contract.effective_from, month.first_day)
        earlier = owed_in_year.get(year, ZERO)
        if rules is not None and rules.annual_cap_percent is not None:
            cap = credit_amount(12 * month.terms.monthly_fee, rules.annual_cap_percent, contract.minor_unit)
            capped = max(none, min(owed, cap - earlier))
            if capped != owed:
                adjustments.append(ANNUAL_CAP)
            owed = capped
        owed_in_year[year] = earlier + owed
        results.append(Owed(owed, tuple(adjustments)))
    return results
