"""``slamon liability``: credits owed (claimed, claimable, expired) and projected, per contract."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from monitor.contract import Contract
from monitor.engine.calendar import ContractCalendar
from monitor.engine.claims import ClaimState, MonthClaim, month_claims
from monitor.engine.liability import (
    ContractLiability,
    add_claims,
    claim_totals_by_currency,
    liabilities,
    totals_by_currency,
)
from monitor.timeutil import from_us
from monitor.wording import money_words, remedy_words


def records_as_of(
    records: Iterable[dict[str, Any]], contracts: Sequence[Contract], as_of: int | None
) -> list[dict[str, Any]]:
    """The ledger as it stood at ``as_of`` (µs): periods started by then; a period counts as
    final only if it is final now and had ended by then (its figures are today's)."""
    if as_of is None:
        return list(records)
    calendars = {c.id: ContractCalendar(c) for c in contracts}
    kept = []
    for record in records:
        calendar = calendars.get(record["contract"])
        if calendar is None:
            continue
        start, end = calendar.bounds(record["period"])
        if start >= as_of:
            continue
        kept.append({**record, "final": record["final"] and end <= as_of})
    return kept


def _claim_json(claim: MonthClaim) -> dict[str, Any]:
    return {
        "period": claim.period,
        "amount": str(claim.amount),
        "state": claim.state.value,
        "last_day_to_claim": claim.last_day.isoformat() if claim.last_day is not None else None,
        "claimed_at": from_us(claim.claimed_at).isoformat() if claim.claimed_at is not None else None,
    }


def liability_json(entries: list[ContractLiability]) -> str:
    claim_totals = claim_totals_by_currency(entries)
    document = {
        "contracts": [
            {
                "contract": e.contract,
                "currency": e.currency,
                "owed": str(e.owed),
                "projected": str(e.projected),
                "claimed": str(e.claimed),
                "claimable": str(e.claimable),
                "expired": str(e.expired),
                "final_periods": e.final_periods,
                "open_periods": e.open_periods,
                "remedies": e.remedies,
                "projected_remedies": e.projected_remedies,
                "claims": [_claim_json(c) for c in e.claims],
            }
            for e in entries
        ],
        "totals": {
            currency: {
                "owed": str(owed),
                "projected": str(projected),
                **{state.value: str(amount) for state, amount in claim_totals[currency].items()},
            }
            for currency, (owed, projected) in totals_by_currency(entries).items()
        },
    }
    return json.dumps(document, indent=2)


def _claims_lines(entries: list[ContractLiability]) -> list[str]:
    claimable = [c for e in entries for c in e.claims if c.state is ClaimState.CLAIMABLE]
    if not claimable:
        return []
    lines = ["", "credits the customer can still claim (last day to claim):"]
    for claim in sorted(claimable, key=lambda c: (c.last_day or date.max, c.contract, c.period)):
        until = claim.last_day.isoformat() if claim.last_day is not None else "no deadline"
        amount = money_words(claim.amount, claim.currency)
        lines.append(f"  {claim.contract} {claim.period}: {amount}, until {until}")
    return lines


def liability_text(entries: list[ContractLiability]) -> str:
    if not entries:
        return "no credits in the ledger yet\n"
    rows: list[tuple[str, ...]] = [
        (
            "contract",
            "currency",
            "owed (final)",
            "claimed",
            "claimable",
            "expired",
            "projected (open)",
            "remedies open",
        )
    ]
    for e in entries:
        remedies = ", ".join(e.remedies + [f"{r} (projected)" for r in e.projected_remedies]) or "-"
        amounts = (e.owed, e.claimed, e.claimable, e.expired, e.projected)
        rows.append((e.contract, e.currency, *(money_words(a, e.currency) for a in amounts), remedies))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.append("")
    lines.append("totals per currency:")
    claim_totals = claim_totals_by_currency(entries)
    for currency, (owed, projected) in totals_by_currency(entries).items():
        split = ", ".join(
            f"{state.value} {money_words(amount, currency)}"
            for state, amount in claim_totals[currency].items()
        )
        owed_words, projected_words = money_words(owed, currency), money_words(projected, currency)
        lines.append(f"  {currency}: owed {owed_words} ({split}), projected {projected_words}")
    lines += _claims_lines(entries)
    serious = [e for e in entries if e.remedies or e.projected_remedies]
    if serious:
        lines.append("")
        lines.append("remedies open to customers (most serious first):")
        for e in serious:
            for remedy in e.remedies:
                lines.append(f"  {e.contract}: {remedy_words(remedy)}")
            for remedy in e.projected_remedies:
                lines.append(
                    f"  {e.contract}: {remedy_words(remedy)} (if the open month closes as it stands)"
                )
    return "\n".join(lines) + "\n"


def build_liability(
    records: Iterable[dict[str, Any]],
    contracts: Sequence[Contract],
    as_of: int | None,
    claims: Mapping[tuple[str, str], int] | None = None,
    now: int | None = None,
) -> list[ContractLiability]:
    """The liability at ``as_of`` (default: now); owed credits are split by the ``claims``
    made by then (``(contract, period) -> µs``), and expire by ``as_of`` or ``now``."""
    kept = records_as_of(records, contracts, as_of)
    entries = liabilities(kept)
    clock = as_of if as_of is not None else now
    if clock is not None:
        by_id = {c.id: c for c in contracts}
        add_claims(entries, month_claims(by_id, kept, claims or {}, clock))
    return entries
