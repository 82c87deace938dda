"""Credits: tiers, consecutive breaches, remedies, the contract cap and the amount owed."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from decimal import Decimal
from fractions import Fraction
from typing import Any

from monitor.contract import Clause, Contract
from monitor.engine.calendar import PeriodKey
from monitor.engine.money import credit_amount
from monitor.engine.results import ClauseResult, ContractResult

ZERO = Decimal(0)


def tier_credit(clause: Clause, attained: Fraction) -> Decimal:
    """The largest credit among tiers whose bound the attained value is below."""
    return max(
        (tier.credit_percent for tier in clause.credits if attained < Fraction(tier.below_percent)),
        default=ZERO,
    )


def assess_clause(
    contract: Contract,
    clause: Clause,
    attained: Mapping[PeriodKey, Fraction],
    final: Mapping[PeriodKey, bool],
) -> list[ClauseResult]:
    """Results for consecutive periods of one clause, in order (``attained`` is ordered)."""
    results = []
    breaches = 0
    target = Fraction(clause.target_percent)
    rule = clause.consecutive
    for key, value in attained.items():
        met = value >= target
        breaches = 0 if met else breaches + 1
        credit = tier_credit(clause, value)
        remedies: tuple[str, ...] = ()
        if rule is not None and breaches >= rule.periods:
            credit += rule.credit_percent
            if rule.remedy != "none":
                remedies = (rule.remedy,)
        results.append(
            ClauseResult(
                contract=contract.id,
                clause=clause.id,
                period=key,
                final=final[key],
                attained=value,
                target_percent=clause.target_percent,
                met=met,
                consecutive_breaches=breaches,
                credit_percent=credit,
                remedies=remedies,
            )
        )
    return results


def assess_contract(contract: Contract, clause_results: list[ClauseResult]) -> list[ContractResult]:
    """One record per period: the clauses' credits summed, capped, and priced."""
    by_period: dict[PeriodKey, list[ClauseResult]] = {}
    for result in clause_results:
        by_period.setdefault(result.period, []).append(result)
    records = []
    for key in sorted(by_period):
        clauses = by_period[key]
        percent = sum((c.credit_percent for c in clauses), ZERO)
        if contract.credit_cap_percent is not None:
            percent = min(percent, contract.credit_cap_percent)
        records.append(
            ContractResult(
                contract=contract.id,
                period=key,
                final=all(c.final for c in clauses),
                credit_percent=percent,
                credit_amount=credit_amount(contract.monthly_fee, percent, contract.minor_unit),
                currency=contract.currency,
            )
        )
    return records


def contract_records(contract: Contract, clause_records: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Contract records from clause records computed elsewhere (the live worker's partitions).

    A period is final only when every clause of the contract has a final record for it.
    """
    results = [_clause_result(contract, record) for record in clause_records]
    clause_ids = {clause.id for clause in contract.clauses}
    complete: dict[PeriodKey, set[str]] = {}
    for result in results:
        complete.setdefault(result.period, set()).add(result.clause)
    records = []
    for result in assess_contract(contract, results):
        record = result.to_record()
        record["final"] = record["final"] and complete[result.period] >= clause_ids
        records.append(record)
    return records


def _clause_result(contract: Contract, record: dict[str, Any]) -> ClauseResult:
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
    )
