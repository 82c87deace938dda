"""The contract's money in the explained month (SPEC.md section 12), in the engine's order:
the clause percents summed, the credit cap, the amount and its rounding, the minimum credit,
the annual cap of the contract year; every figure is the engine's own (``month_credits``)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from monitor.contract import Contract
from monitor.engine.credit_rules import ANNUAL_CAP, MIN_CREDIT, AnnualCapStep, Owed, PricedMonth
from monitor.engine.credits import MonthCredit, clause_result, month_credits
from monitor.explain.common import ClauseContext
from monitor.explain.model import ExplainError, Section, Step
from monitor.wording import money_words, percent_words


def credit_section(ctx: ClauseContext, records: Sequence[dict[str, Any]]) -> Section:
    """The month's money from the clause records of every period of the contract (the annual
    cap needs the earlier months of the contract year), checked against the period's contract
    record: the owed amount and the adjustments must be the recorded ones."""
    month = _month(ctx, records)
    contract, priced, owed = ctx.contract, month.priced, month.owed
    steps = [*_priced_steps(ctx, priced), *_min_credit_steps(ctx, priced, owed)]
    if owed.annual_cap is not None:
        steps += _annual_cap_steps(ctx, priced, owed, owed.annual_cap)
    else:
        steps.append(Step("No annual cap in force."))
    adjustments = ", ".join(owed.adjustments) or "none"
    total = money_words(owed.amount, contract.currency)
    steps.append(Step(f"Credit owed for {ctx.period}: {total}; adjustments: {adjustments}."))
    _check(ctx, owed, records)
    return Section("Credit owed", steps)


def _month(ctx: ClauseContext, records: Sequence[dict[str, Any]]) -> MonthCredit:
    contract = ctx.written  # every month under its own terms: the year's earlier months may differ
    clauses = [clause_result(contract, r) for r in records if r["record"] == "clause"]
    month = next((m for m in month_credits(contract, clauses) if m.priced.period == ctx.period), None)
    if month is None:
        raise ExplainError(f"no clause results of {contract.id} in {ctx.period}")
    return month


def _priced_steps(ctx: ClauseContext, priced: PricedMonth) -> list[Step]:
    terms, currency = priced.terms, ctx.contract.currency
    parts = " + ".join(f"{percent_words(p)} ({clause})" for clause, p in priced.clause_percents)
    steps = [Step(f"Contract credit before the cap: {parts} = {percent_words(priced.summed_percent)}.")]
    cap = terms.credit_cap_percent
    if cap is None:
        steps.append(Step("No credit cap: the percent stays as summed."))
    elif priced.summed_percent > cap:
        steps.append(Step(f"Capped at {percent_words(cap)} (credit_cap_percent)."))
    else:
        steps.append(Step(f"Within the credit cap of {percent_words(cap)}: unchanged."))
    amount = money_words(priced.amount, currency)
    if priced.exact_amount == priced.amount:
        rounding = "exact: nothing to round"
    else:
        exact = money_words(priced.exact_amount.normalize(), currency)
        rounding = f"exactly {exact}, {_rounding(ctx.contract)}"
    share = percent_words(priced.percent).removesuffix("%")
    steps.append(
        Step(f"Amount: {money_words(terms.monthly_fee, currency)} × {share} / 100 = {amount} ({rounding}).")
    )
    return steps


def _min_credit_steps(ctx: ClauseContext, priced: PricedMonth, owed: Owed) -> list[Step]:
    minimum, currency = owed.min_credit, ctx.contract.currency
    if minimum is None:
        return [Step("No minimum credit in force.")]
    amount, floor = money_words(priced.amount, currency), money_words(minimum, currency)
    if MIN_CREDIT in owed.adjustments:
        assert owed.after_min_credit is not None
        return [
            Step(
                f"Minimum credit {floor}: {amount} is below it, so "
                f"{money_words(owed.after_min_credit, currency)} is owed (min_credit)."
            )
        ]
    if priced.amount == 0:
        return [Step(f"Minimum credit {floor}: no credit this month, nothing to compare.")]
    return [Step(f"Minimum credit {floor}: {amount} is not below it, unchanged.")]


def _annual_cap_steps(ctx: ClauseContext, priced: PricedMonth, owed: Owed, cap: AnnualCapStep) -> list[Step]:
    terms, currency = priced.terms, ctx.contract.currency
    rules = terms.credit_rules
    assert rules is not None and rules.annual_cap_percent is not None and owed.after_min_credit is not None
    year = cap.year
    total = money_words(cap.earlier_total, currency)
    before = money_words(owed.after_min_credit, currency)
    left = money_words(cap.left, currency)
    verdict = "the annual cap cuts it (annual_cap)" if ANNUAL_CAP in owed.adjustments else "within the cap"
    return [
        Step(
            f"The contract year from {year.starts.isoformat()} until {year.ends.isoformat()} "
            f"(exclusive; year {year.index + 1} of the contract) holds the periods starting in it: "
            f"{ctx.period} starts on {priced.first_day.isoformat()}."
        ),
        Step(
            f"Annual cap: {percent_words(rules.annual_cap_percent).removesuffix('%')} × 12 × "
            f"{money_words(terms.monthly_fee, currency)} / 100 = {money_words(cap.cap, currency)} "
            f"({_rounding(ctx.contract)})."
        ),
        Step(f"Owed in the earlier months of that contract year: {_earlier_words(cap, currency)}."),
        Step(f"Left of the cap: {money_words(cap.cap, currency)} − {total} = {left}."),
        Step(f"Owed: max(0, min({before}, {left})) = {money_words(owed.amount, currency)}: {verdict}."),
    ]


def _rounding(contract: Contract) -> str:
    places = contract.minor_unit
    if places == 0:
        return f"half-up to whole {contract.currency}"
    return f"half-up to {places} decimal{'s' if places != 1 else ''}"


def _earlier_words(cap: AnnualCapStep, currency: str) -> str:
    """The earlier months of the contract year that owed something, and their sum."""
    total = money_words(cap.earlier_total, currency)
    owing = [f"{money_words(amount, currency)} ({period})" for period, amount in cap.earlier if amount != 0]
    if not owing:
        return f"none ({total})"
    if len(owing) == 1:
        return owing[0]
    return f"{' + '.join(owing)} = {total}"


def _check(ctx: ClauseContext, owed: Owed, records: Sequence[dict[str, Any]]) -> None:
    record = next((r for r in records if r["record"] == "contract" and r["period"] == ctx.period), None)
    if record is None:
        raise ExplainError(f"no contract result of {ctx.contract.id} in {ctx.period}")
    derived = (Decimal(str(owed.amount)), list(owed.adjustments))
    recorded = (Decimal(record["credit_amount"]), list(record.get("adjustments", [])))
    if derived != recorded:
        raise ExplainError(
            f"the derivation of the credit owed {derived} disagrees with the recorded result {recorded}"
        )
