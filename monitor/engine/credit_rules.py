"""A month's money after the contract's credit rules (SPEC.md section 12): the minimum
credit, then the annual cap per contract year. Exact decimals, half-up to the minor unit.

Each month's result keeps the figures the rules used (the minimum in force, the contract
year's bounds, its cap, what the earlier months of the year owed), so that a statement or
``slamon explain`` can show the derivation without computing it again."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from dateutil.relativedelta import relativedelta

from monitor.contract import Contract
from monitor.engine.calendar import PeriodKey
from monitor.engine.money import credit_amount

MIN_CREDIT = "min_credit"
ANNUAL_CAP = "annual_cap"
ZERO = Decimal(0)


@dataclass(frozen=True)
class PricedMonth:
    """A month's amount before the rules, with the terms in force then and how it was priced:
    the clause percents summed, capped at the terms' ``credit_cap_percent``, then the fee's
    share half-up to the minor unit."""

    period: PeriodKey
    first_day: date  # the period's first local day (clipped to effective_from)
    terms: Contract
    clause_percents: tuple[tuple[str, Decimal], ...]  # (clause id, credit percent), by clause id
    summed_percent: Decimal
    percent: Decimal  # after credit_cap_percent
    exact_amount: Decimal  # monthly fee x percent / 100, before rounding
    amount: Decimal  # half-up to the minor unit


@dataclass(frozen=True)
class ContractYear:
    """Contract year ``index``: the periods that start in ``[starts, ends)``."""

    index: int
    starts: date
    ends: date


@dataclass(frozen=True)
class AnnualCapStep:
    """The annual cap as applied to one month."""

    year: ContractYear
    cap: Decimal  # annual_cap_percent x 12 x that month's fee / 100, half-up
    earlier: tuple[tuple[PeriodKey, Decimal], ...]  # the earlier months of the year and what each owed
    left: Decimal  # cap - what the earlier months owed (negative when a smaller cap came in mid-year)

    @property
    def earlier_total(self) -> Decimal:
        return sum((owed for _, owed in self.earlier), ZERO)


@dataclass(frozen=True)
class Owed:
    """What a month owes after the rules, the rules that changed its amount, and the figures
    each rule in force used."""

    amount: Decimal
    adjustments: tuple[str, ...]
    after_min_credit: Decimal | None = None  # the amount after the minimum credit rule
    min_credit: Decimal | None = None  # min_credit_amount in force, if any
    annual_cap: AnnualCapStep | None = None  # the annual cap in force, if any


def contract_year(effective_from: date, first_day: date) -> int:
    """k such that ``first_day`` lies in ``[effective_from + k years, effective_from + k+1 years)``."""
    return relativedelta(first_day, effective_from).years


def contract_year_of(effective_from: date, first_day: date) -> ContractYear:
    """The contract year ``first_day`` lies in, with its bounds."""
    index = contract_year(effective_from, first_day)
    return ContractYear(
        index,
        effective_from + relativedelta(years=index),
        effective_from + relativedelta(years=index + 1),
    )


def owed_amounts(contract: Contract, months: Sequence[PricedMonth]) -> list[Owed]:
    """Apply the rules in force in each month, in period order: 0 if below
    ``min_credit_amount``, then at most what the annual cap leaves of the contract year
    (cap = ``annual_cap_percent`` x 12 x that month's fee / 100, half-up)."""
    owed_in_year: dict[int, list[tuple[PeriodKey, Decimal]]] = {}
    none = ZERO.quantize(Decimal(1).scaleb(-contract.minor_unit))  # 0 written to the minor unit
    results = []
    for month in months:
        rules = month.terms.credit_rules
        owed, adjustments = month.amount, []
        minimum = rules.min_credit_amount if rules is not None else None
        if minimum is not None and ZERO < owed < minimum:
            owed = none
            adjustments.append(MIN_CREDIT)
        after_min_credit = owed
        year = contract_year_of(contract.effective_from, month.first_day)
        earlier = owed_in_year.setdefault(year.index, [])
        cap_step = None
        if rules is not None and rules.annual_cap_percent is not None:
            cap = credit_amount(12 * month.terms.monthly_fee, rules.annual_cap_percent, contract.minor_unit)
            cap_step = AnnualCapStep(year, cap, tuple(earlier), cap - sum((o for _, o in earlier), ZERO))
            capped = max(none, min(owed, cap_step.left))
            if capped != owed:
                adjustments.append(ANNUAL_CAP)
            owed = capped
        earlier.append((month.period, owed))
        results.append(Owed(owed, tuple(adjustments), after_min_credit, minimum, cap_step))
    return results
