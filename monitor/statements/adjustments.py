"""The terms in force and the credit rules that changed a month's amount, in words for statements."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from dateutil.relativedelta import relativedelta

from monitor.contract import Contract
from monitor.engine.credit_rules import ANNUAL_CAP, MIN_CREDIT, contract_year
from monitor.engine.money import credit_amount
from monitor.terms import Terms, period_first_day, terms_for_period
from monitor.wording import percent_words


@dataclass(frozen=True)
class MonthMoney:
    before_rules: Decimal  # the amount after the monthly cap, before the credit rules
    adjustments: list[str] = field(default_factory=list)  # in words


def terms_words(terms: Terms) -> str:
    if terms.is_base:
        return "the base terms of the contract"
    return f"{terms.title} (in force from {terms.starts.isoformat()})"


def month_money(contract: Contract, period: str, records: Sequence[dict[str, Any]]) -> MonthMoney:
    """The amount before the rules and, for each rule the ledger's contract record names in
    ``adjustments``, what it did, with the figures a reader needs to check it."""
    record = next(r for r in records if r["record"] == "contract" and r["period"] == period)
    terms = terms_for_period(contract, period).contract
    percent = Decimal(repr(record["credit_percent"]))
    before = credit_amount(terms.monthly_fee, percent, contract.minor_unit)
    owed, currency = Decimal(record["credit_amount"]), contract.currency
    rules = terms.credit_rules
    words = []
    for adjustment in record.get("adjustments", []):
        if adjustment == MIN_CREDIT and rules is not None and rules.min_credit_amount is not None:
            words.append(
                f"Minimum credit: {before} {currency} is below the minimum credit of "
                f"{rules.min_credit_amount} {currency}, so none is owed"
            )
        elif adjustment == ANNUAL_CAP and rules is not None and rules.annual_cap_percent is not None:
            cap = credit_amount(12 * terms.monthly_fee, rules.annual_cap_percent, contract.minor_unit)
            year = contract_year(contract.effective_from, period_first_day(contract, period))
            year_start = contract.effective_from + relativedelta(years=year)
            share = percent_words(rules.annual_cap_percent)
            words.append(
                f"Annual cap: {share} of 12 monthly fees is {cap} {currency} for the contract year "
                f"from {year_start.isoformat()}; {owed} {currency} of it was left for this month"
            )
    return MonthMoney(before, words)
