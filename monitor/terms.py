"""The terms in force per month: the base terms, then each amendment from its ``effective_from``
(SPEC.md section 12). Pure: contracts in, terms out."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from monitor.contract import AMENDABLE_KEYS, Clause, Contract

BASE_TERMS = "base"
# what a month's fingerprint covers besides the amendable keys; the month's own first and
# last day stand for effective_from / effective_to, so extending a contract rewrites nothing
FINGERPRINT_FIXED = ("customer", "provider", "timezone", "currency")

Fingerprint = dict[str, str]  # key -> digest of its value as in force in one month


@dataclass(frozen=True)
class Terms:
    """One set of terms: ``contract`` is the contract as in force from ``starts`` (the
    amended keys replaced whole, no amendments of its own) until ``ends`` (exclusive)."""

    title: str
    starts: date
    ends: date | None
    contract: Contract

    @property
    def is_base(self) -> bool:
        return self.title == BASE_TERMS


def contract_terms(contract: Contract) -> list[Terms]:
    """The contract's terms in date order; a contract without amendments is its own base terms."""
    if not contract.amendments:
        return [Terms(BASE_TERMS, contract.effective_from, contract.effective_to, contract)]
    starts = [contract.effective_from] + [a.effective_from for a in contract.amendments]
    ends = [*starts[1:], contract.effective_to]
    current = contract.model_copy(update={"amendments": []})
    terms = [Terms(BASE_TERMS, starts[0], ends[0], current)]
    for index, amendment in enumerate(contract.amendments, start=1):
        update = {key: getattr(amendment, key) for key in amendment.replaced_keys}
        current = current.model_copy(update=update)
        terms.append(Terms(amendment.title, starts[index], ends[index], current))
    return terms


def period_first_day(contract: Contract, period: str) -> date:
    """The first local day of a period ``YYYY-MM``, clipped to ``effective_from``."""
    return max(date(int(period[:4]), int(period[5:7]), 1), contract.effective_from)


def terms_on(terms: list[Terms], day: date) -> Terms:
    """The terms in force on a local day (the base terms before the first amendment)."""
    chosen = terms[0]
    for candidate in terms[1:]:
        if candidate.starts <= day:
            chosen = candidate
    return chosen


def terms_for_period(contract: Contract, period: str, terms: list[Terms] | None = None) -> Terms:
    """The terms a period is evaluated under: those in force on its first day."""
    return terms_on(terms or contract_terms(contract), period_first_day(contract, period))


def all_clauses(contract: Contract) -> list[Clause]:
    """Every clause the contract has at any time (an amended clause once per version)."""
    clauses = list(contract.clauses)
    for amendment in contract.amendments:
        clauses.extend(amendment.clauses or ())
    return clauses


def clause_ids_in_force(contract: Contract, period: str, terms: list[Terms] | None = None) -> set[str]:
    return {clause.id for clause in terms_for_period(contract, period, terms).contract.clauses}


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def month_fingerprint(contract: Contract, period: str, terms: list[Terms] | None = None) -> Fingerprint:
    """A digest per key of what a month is evaluated under: the keys that differ between two
    fingerprints of the same month name what changed."""
    in_force = terms_for_period(contract, period, terms)
    dumped = in_force.contract.model_dump(mode="json")
    first = period_first_day(contract, period)
    year, month = first.year + (first.month == 12), first.month % 12 + 1
    end = date(year, month, 1)
    if contract.effective_to is not None:
        end = min(end, contract.effective_to)
    printed = {key: _digest(dumped.get(key)) for key in (*FINGERPRINT_FIXED, *AMENDABLE_KEYS)}
    printed["effective_from"] = _digest(first.isoformat())
    printed["effective_to"] = _digest(end.isoformat())
    printed["title"] = _digest(in_force.title)
    return printed


def changed_keys(before: Fingerprint, now: Fingerprint) -> list[str]:
    """The keys whose value differs; a key only one side knows (one added to the contract
    language since) is not a change."""
    return sorted(key for key in before.keys() & now.keys() if before[key] != now[key])
