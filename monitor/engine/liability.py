"""The provider's view of the ledger: credits owed (final months), projected (open months),
and the remedies open to each customer. Pure: replay-format records in, figures out."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from monitor.engine.claims import ClaimState, MonthClaim

REMEDY_ORDER = {"termination_right": 0, "contract_review": 1}


@dataclass
class ContractLiability:
    contract: str
    currency: str
    owed: Decimal = Decimal(0)  # final periods, summed
    projected: Decimal = Decimal(0)  # periods not final yet, as they stand
    final_periods: list[str] = field(default_factory=list)
    open_periods: list[str] = field(default_factory=list)
    remedies: list[str] = field(default_factory=list)  # of the latest final period
    projected_remedies: list[str] = field(default_factory=list)  # of the open periods
    # the owed credit split by the customer's claims (SPEC.md section 12)
    claimed: Decimal = Decimal(0)
    claimable: Decimal = Decimal(0)
    expired: Decimal = Decimal(0)
    claims: list[MonthClaim] = field(default_factory=list)

    @property
    def most_serious_remedy(self) -> int:
        ranks = [REMEDY_ORDER.get(r, 9) for r in self.remedies + self.projected_remedies]
        return min(ranks, default=10)


def liabilities(records: Iterable[dict[str, Any]]) -> list[ContractLiability]:
    """Per contract, from clause and contract records; contracts with open remedies first
    (termination rights before contract reviews), then by id."""
    records = list(records)
    by_contract: dict[str, ContractLiability] = {}
    for record in records:
        if record["record"] != "contract":
            continue
        contract = record["contract"]
        entry = by_contract.get(contract)
        if entry is None:
            entry = by_contract[contract] = ContractLiability(contract, record["currency"])
        amount = Decimal(record["credit_amount"])
        if record["final"]:
            entry.owed += amount
            entry.final_periods.append(record["period"])
        else:
            entry.projected += amount
            entry.open_periods.append(record["period"])
    for entry in by_contract.values():
        latest_final = max(entry.final_periods, default=None)
        for record in records:
            if record["record"] != "clause" or record["contract"] != entry.contract:
                continue
            if record["period"] == latest_final:
                _add_new(entry.remedies, record["remedies"])
            elif record["period"] in entry.open_periods:
                _add_new(entry.projected_remedies, record["remedies"])
    return sorted(by_contract.values(), key=lambda e: (e.most_serious_remedy, e.contract))


def add_claims(entries: Iterable[ContractLiability], claims: Iterable[MonthClaim]) -> None:
    """Split each contract's owed credit into claimed, claimable and expired."""
    by_contract = {entry.contract: entry for entry in entries}
    for claim in claims:
        entry = by_contract.get(claim.contract)
        if entry is None or claim.period not in entry.final_periods:
            continue
        entry.claims.append(claim)
        field_name = claim.state.value
        setattr(entry, field_name, getattr(entry, field_name) + claim.amount)


def claim_totals_by_currency(entries: Iterable[ContractLiability]) -> dict[str, dict[ClaimState, Decimal]]:
    """Claimed, claimable and expired per currency."""
    totals: dict[str, dict[ClaimState, Decimal]] = {}
    for entry in entries:
        sums = totals.setdefault(entry.currency, dict.fromkeys(ClaimState, Decimal(0)))
        for state in ClaimState:
            sums[state] += getattr(entry, state.value)
    return dict(sorted(totals.items()))


def totals_by_currency(entries: Iterable[ContractLiability]) -> dict[str, tuple[Decimal, Decimal]]:
    """(owed, projected) per currency: amounts in different currencies are never added."""
    totals: dict[str, tuple[Decimal, Decimal]] = {}
    for entry in entries:
        owed, projected = totals.get(entry.currency, (Decimal(0), Decimal(0)))
        totals[entry.currency] = (owed + entry.owed, projected + entry.projected)
    return dict(sorted(totals.items()))


def _add_new(target: list[str], items: Iterable[str]) -> None:
    target.extend(item for item in items if item not in target)
