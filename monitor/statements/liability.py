"""``slamon liability``: credits owed and projected, per contract and per currency."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from monitor.contract import Contract
from monitor.engine.calendar import ContractCalendar
from monitor.engine.liability import ContractLiability, liabilities, totals_by_currency
from monitor.wording import remedy_words


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


def liability_json(entries: list[ContractLiability]) -> str:
    document = {
        "contracts": [
            {
                "contract": e.contract,
                "currency": e.currency,
                "owed": str(e.owed),
                "projected": str(e.projected),
                "final_periods": e.final_periods,
                "open_periods": e.open_periods,
                "remedies": e.remedies,
                "projected_remedies": e.projected_remedies,
            }
            for e in entries
        ],
        "totals": {
            currency: {"owed": str(owed), "projected": str(projected)}
            for currency, (owed, projected) in totals_by_currency(entries).items()
        },
    }
    return json.dumps(document, indent=2)


def liability_text(entries: list[ContractLiability]) -> str:
    if not entries:
        return "no credits in the ledger yet\n"
    rows = [("contract", "currency", "owed (final)", "projected (open)", "remedies open")]
    for e in entries:
        remedies = ", ".join(e.remedies + [f"{r} (projected)" for r in e.projected_remedies]) or "-"
        rows.append((e.contract, e.currency, str(e.owed), str(e.projected), remedies))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    ]
    lines.append("")
    lines.append("totals per currency:")
    for currency, (owed, projected) in totals_by_currency(entries).items():
        lines.append(f"  {currency}: owed {owed}, projected {projected}")
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
    records: Iterable[dict[str, Any]], contracts: Sequence[Contract], as_of: int | None
) -> list[ContractLiability]:
    return liabilities(records_as_of(records, contracts, as_of))
