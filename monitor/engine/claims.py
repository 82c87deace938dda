"""Claims on owed credits (SPEC.md section 12): claimed, claimable until the last day to
claim, or expired. Pure: contracts, contract records, claims and an instant in; no clock."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from monitor.contract import Contract
from monitor.engine.calendar import ContractCalendar
from monitor.terms import terms_for_period
from monitor.timeutil import from_us, span_us


class ClaimState(StrEnum):
    CLAIMED = "claimed"
    CLAIMABLE = "claimable"
    EXPIRED = "expired"


@dataclass(frozen=True)
class MonthClaim:
    """Where one final month's owed credit stands; ``last_day`` is the last local day to
    claim it (None: the terms set no ``claim_within``)."""

    contract: str
    period: str
    amount: Decimal
    currency: str
    state: ClaimState
    last_day: date | None
    claimed_at: int | None = None  # µs


def claim_deadline(contract: Contract, period: str) -> int | None:
    """The instant (µs) from which the month's credit can no longer be claimed: its end plus
    the ``claim_within`` of the terms in force in it; None when those terms set none."""
    rules = terms_for_period(contract, period).contract.credit_rules
    if rules is None or rules.claim_within is None:
        return None
    return ContractCalendar(contract).bounds(period)[1] + span_us(rules.claim_within)


def last_day_to_claim(contract: Contract, deadline: int) -> date:
    """The last local day on which a claim is still in time (the deadline is exclusive)."""
    return from_us(deadline - 1).astimezone(contract.zone).date()


def month_claims(
    contracts: Mapping[str, Contract],
    records: Iterable[dict[str, Any]],
    claims: Mapping[tuple[str, str], int],
    now: int,
) -> list[MonthClaim]:
    """Every final month with a credit owed, split by ``claims`` (``(contract, period) -> µs``)
    made by ``now``: claimed, still claimable, or expired (unclaimed at or past its deadline)."""
    found = []
    for record in records:
        if record["record"] != "contract" or not record["final"]:
            continue
        contract = contracts.get(record["contract"])
        amount = Decimal(record["credit_amount"])
        if amount <= 0 or contract is None:
            continue
        key = (contract.id, record["period"])
        deadline = claim_deadline(contract, record["period"])
        last_day = last_day_to_claim(contract, deadline) if deadline is not None else None
        claimed_at = claims.get(key)
        if claimed_at is not None and claimed_at <= now:
            state = ClaimState.CLAIMED
        elif deadline is not None and now >= deadline:
            state, claimed_at = ClaimState.EXPIRED, None
        else:
            state, claimed_at = ClaimState.CLAIMABLE, None
        found.append(MonthClaim(*key, amount, record["currency"], state, last_day, claimed_at))
    return found
