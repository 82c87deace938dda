"""Credits: tiers, consecutive and chronic breaches, remedies, the contract cap and the amount owed."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Any

from monitor.contract import Clause, Contract
from monitor.engine.calendar import PeriodKey
from monitor.engine.credit_rules import Owed, PricedMonth, owed_amounts
from monitor.engine.history import standings
from monitor.engine.money import exact_amount, half_up
from monitor.engine.results import ClauseResult, ContractResult
from monitor.terms import (
    BASE_TERMS,
    Terms,
    clause_ids_in_force,
    contract_terms,
    period_first_day,
    terms_for_period,
)

ZERO = Decimal(0)


def tier_credit(clause: Clause, attained: Fraction) -> Decimal:
    """The largest credit among tiers whose bound the attained value is below."""
    return max(
        (tier.credit_percent for tier in clause.credits if attained < Fraction(tier.below_percent)),
        default=ZERO,
    )


@dataclass(frozen=True)
class ClauseFigure:
    """A clause's attained value in one period, under the terms then in force."""

    period: PeriodKey
    clause: Clause
    attained: Fraction
    final: bool
    terms: str = BASE_TERMS


def assess_clause(contract: Contract, figures: Sequence[ClauseFigure]) -> list[ClauseResult]:
    """Results for the periods of one clause id, in period order; a month missing from
    ``figures`` is one in which the clause did not exist (SPEC.md section 12)."""
    results = []
    months = [(f.period, f.clause, f.attained >= Fraction(f.clause.target_percent)) for f in figures]
    for figure, (_, _, met), standing in zip(figures, months, standings(months), strict=True):
        clause, value = figure.clause, figure.attained
        credit = tier_credit(clause, value)
        remedies: list[str] = []
        rule = clause.consecutive
        if rule is not None and standing.consecutive_breaches >= rule.periods:
            credit += rule.credit_percent
            _add_remedy(remedies, rule.remedy)
        if standing.chronic and clause.chronic is not None:
            credit += clause.chronic.credit_percent
            _add_remedy(remedies, clause.chronic.remedy)
        results.append(
            ClauseResult(
                contract=contract.id,
                clause=clause.id,
                period=figure.period,
                final=figure.final,
                attained=value,
                target_percent=clause.target_percent,
                met=met,
                consecutive_breaches=standing.consecutive_breaches,
                credit_percent=credit,
                remedies=tuple(remedies),
                chronic=standing.chronic,
                terms=figure.terms,
            )
        )
    return results


def _add_remedy(remedies: list[str], remedy: str) -> None:
    if remedy != "none" and remedy not in remedies:
        remedies.append(remedy)


@dataclass(frozen=True)
class MonthCredit:
    """A contract's money in one period, with every figure of SPEC.md section 12 that led to it."""

    terms: Terms  # in force in the period
    priced: PricedMonth  # the clause percents summed, capped and priced
    owed: Owed  # after the credit rules
    final: bool  # every clause result of the period is final


def price_month(
    contract: Contract, period: PeriodKey, terms: Contract, clauses: Sequence[ClauseResult]
) -> PricedMonth:
    """The clauses' credit percents summed, capped at ``terms.credit_cap_percent``, and that
    share of ``terms.monthly_fee`` half-up to the contract's minor unit."""
    parts = tuple(sorted((c.clause, c.credit_percent) for c in clauses))
    summed = sum((p for _, p in parts), ZERO)
    percent = summed if terms.credit_cap_percent is None else min(summed, terms.credit_cap_percent)
    exact = exact_amount(terms.monthly_fee, percent)
    return PricedMonth(
        period=period,
        first_day=period_first_day(contract, period),
        terms=terms,
        clause_percents=parts,
        summed_percent=summed,
        percent=percent,
        exact_amount=exact,
        amount=half_up(exact, contract.minor_unit),
    )


def month_credits(contract: Contract, clause_results: Iterable[ClauseResult]) -> list[MonthCredit]:
    """Each period's money, in period order, from the clause results of every period (the
    annual cap of a month depends on the earlier months of its contract year), each under the
    terms in force in that period."""
    by_period: dict[PeriodKey, list[ClauseResult]] = {}
    for result in clause_results:
        by_period.setdefault(result.period, []).append(result)
    terms = contract_terms(contract)
    periods = sorted(by_period)
    in_force = [terms_for_period(contract, key, terms) for key in periods]
    priced = [
        price_month(contract, key, current.contract, by_period[key])
        for key, current in zip(periods, in_force, strict=True)
    ]
    owed = owed_amounts(contract, priced)
    return [
        MonthCredit(current, month, money, all(c.final for c in by_period[month.period]))
        for current, month, money in zip(in_force, priced, owed, strict=True)
    ]


def assess_contract(contract: Contract, clause_results: list[ClauseResult]) -> list[ContractResult]:
    """One record per period: the clauses' credits summed, capped, priced, then the credit
    rules (minimum credit, annual cap), each under the terms in force in that period."""
    return [
        ContractResult(
            contract=contract.id,
            period=month.priced.period,
            final=month.final,
            credit_percent=month.priced.percent,
            credit_amount=month.owed.amount,
            currency=contract.currency,
            adjustments=month.owed.adjustments,
            terms=month.terms.title,
        )
        for month in month_credits(contract, clause_results)
    ]


def contract_records(contract: Contract, clause_records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Contract records from clause records computed elsewhere (the live worker's partitions).

    A period is final only when every clause in force in it has a final record for it.
    """
    results = [clause_result(contract, record) for record in clause_records]
    terms = contract_terms(contract)
    complete: dict[PeriodKey, set[str]] = {}
    for result in results:
        complete.setdefault(result.period, set()).add(result.clause)
    records = []
    for contract_result in assess_contract(contract, results):
        record = contract_result.to_record()
        clause_ids = clause_ids_in_force(contract, contract_result.period, terms)
        record["final"] = record["final"] and complete[contract_result.period] >= clause_ids
        records.append(record)
    return records


def clause_result(contract: Contract, record: dict[str, Any]) -> ClauseResult:
    """A clause record (the engine's or the ledger's) back as the engine's result."""
    # credit percents are sums of the contract's short decimals: their float repr is exact
    return ClauseResult(
        contract=contract.id,
        clause=record["clause"],
        period=record["period"],
        final=record["final"],
        attained=Fraction(record["attained_percent"]),
        target_percent=Decimal(repr(record["target_percent"])),
        met=record["met"],
        consecutive_breaches=record["consecutive_breaches"],
        credit_percent=Decimal(repr(record["credit_percent"])),
        remedies=tuple(record["remedies"]),
        chronic=record.get("chronic", False),
        terms=record.get("terms", BASE_TERMS),
    )
