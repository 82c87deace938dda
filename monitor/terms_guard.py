"""The live worker never rewrites history (SPEC.md section 12): the terms of every month it has
begun evaluating must be the ones it began under. Pure: fingerprints in, findings out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from monitor.contract import Contract
from monitor.terms import Fingerprint, changed_keys, contract_terms, month_fingerprint

BegunMonths = Mapping[tuple[str, str], Fingerprint]  # (contract, period) -> fingerprint


@dataclass(frozen=True)
class TermsChange:
    contract: str
    period: str
    keys: list[str]


@dataclass
class TermsCheck:
    changes: list[TermsChange] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)  # contracts begun but no longer loaded
    next_month: dict[str, str] = field(default_factory=dict)  # contract -> first month not begun

    @property
    def ok(self) -> bool:
        return not self.changes


class TermsChanged(RuntimeError):
    """Refusal to start: the message names each contract, month and changed key."""


def check_terms(contracts: Sequence[Contract], begun: BegunMonths) -> TermsCheck:
    """Compare each begun month's fingerprint with the terms the files now give it."""
    by_id = {c.id: c for c in contracts}
    check = TermsCheck()
    check.removed = sorted({contract for contract, _ in begun} - by_id.keys())
    terms = {c.id: contract_terms(c) for c in contracts}
    latest: dict[str, str] = {}
    for (contract_id, period), before in sorted(begun.items()):
        contract = by_id.get(contract_id)
        if contract is None:
            continue
        latest[contract_id] = max(period, latest.get(contract_id, period))
        keys = changed_keys(before, month_fingerprint(contract, period, terms[contract_id]))
        if keys:
            check.changes.append(TermsChange(contract_id, period, keys))
    check.next_month = {contract: _month_after(period) for contract, period in latest.items()}
    return check


def refusal(check: TermsCheck) -> str:
    """What to tell the operator when the check failed."""
    lines = ["refusing to start: the terms of months the worker has already begun evaluating have changed"]
    for change in check.changes:
        keys = ", ".join(change.keys)
        lines.append(f"  contract {change.contract}, month {change.period}: {keys} changed")
    for contract in sorted({c.contract for c in check.changes}):
        lines.append(
            f"restore {contract}'s file as it was for those months and add an amendment effective from "
            f"the next month ({check.next_month[contract]}-01) instead: history is never rewritten"
        )
    return "\n".join(lines)


def _month_after(period: str) -> str:
    year, month = int(period[:4]), int(period[5:7])
    return f"{year + 1:04d}-01" if month == 12 else f"{year:04d}-{month + 1:02d}"
