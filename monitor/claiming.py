"""``slamon claim``: record that the customer claimed a month's credit (SPEC.md section 12)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from monitor.contract import Contract
from monitor.engine.calendar import ContractCalendar
from monitor.engine.claims import claim_deadline, last_day_to_claim
from monitor.timeutil import to_us


class ClaimRefused(ValueError):
    """The claim cannot be recorded; the message says why."""


class ClaimLedger(Protocol):
    def read_results(self, contract: str | None = None) -> list[dict[str, Any]]: ...
    def read_claims(self) -> dict[tuple[str, str], datetime]: ...
    def record_claim(self, contract: str, period: str, at: datetime) -> datetime: ...


def record_claim(ledger: ClaimLedger, contract: Contract, period: str, at: datetime) -> str:
    """Record the claim made at ``at`` and say what was recorded. Idempotent: a month claimed
    before keeps its first claim. Refused for a month not ended by ``at``, one without a
    result in the ledger, or one whose claim window had closed by ``at``."""
    earlier = ledger.read_claims().get((contract.id, period))
    if earlier is not None:
        return f"{contract.id} {period}: already claimed at {earlier.isoformat()}"
    start, end = ContractCalendar(contract).bounds(period)
    if start >= end:
        raise ClaimRefused(f"{period} is outside the effective dates of {contract.id}")
    record = next(
        (r for r in ledger.read_results(contract.id) if r["record"] == "contract" and r["period"] == period),
        None,
    )
    if record is None:
        raise ClaimRefused(f"no result for {contract.id} in {period} in the ledger yet")
    moment = to_us(at)
    if moment < end:
        raise ClaimRefused(
            f"{period} has not ended at {at.isoformat()}: a month's credit is claimed after it"
        )
    deadline = claim_deadline(contract, period)
    if deadline is not None and moment >= deadline:
        last_day = last_day_to_claim(contract, deadline).isoformat()
        raise ClaimRefused(
            f"the claim window of {contract.id} {period} closed: the last day to claim was {last_day}"
        )
    stored = ledger.record_claim(contract.id, period, at)
    amount = f"{record['credit_amount']} {record['currency']}" + ("" if record["final"] else ", provisional")
    return f"{contract.id} {period}: claimed at {stored.isoformat()} ({amount})"
