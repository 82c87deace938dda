"""The live worker never rewrites history (SPEC.md section 12): a begun month's terms are kept,
in the engine state (the partition processor's snapshot) and in the ledger, and a change to
them is refused at start with the contract, the month and the key."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from monitor.contract import Contract
from monitor.ledger.store import Ledger
from monitor.replay import replay
from monitor.stream.partitions import Stream
from monitor.stream.processor import PartitionProcessor
from monitor.terms_guard import TermsChanged, check_terms, refusal
from tests.builders import outage, plain_document
from tests.test_processor import ChangelogStore
from tests.test_properties import LATENESS

BASE = plain_document()
# a day down in January and in February: the clock is in February, so both months are begun
EVENTS = outage("2026-01-10T00:00:00+00:00", "2026-01-11T00:00:00+00:00") + outage(
    "2026-02-10T00:00:00+00:00", "2026-02-11T00:00:00+00:00"
)


def make(**changes: Any) -> Contract:
    return Contract.model_validate(BASE | changes)


NEXT_MONTH_AMENDMENT = {
    "amendments": [{"effective_from": "2026-03-01", "title": "No. 1", "monthly_fee": "2000"}]
}


def begun_in_ledger(tmp_path: Path, contract: Contract) -> dict:
    """The fingerprints the live worker's ledger writer keeps for the months it wrote."""
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", [contract])
    records = replay([contract], EVENTS).records
    ledger.record_clause_results([r for r in records if r["record"] == "clause"])
    begun = ledger.read_fingerprints()
    ledger.close()
    return begun


def test_the_ledger_keeps_the_terms_of_each_begun_month(tmp_path: Path) -> None:
    begun = begun_in_ledger(tmp_path, make())
    assert sorted(begun) == [("acme", "2026-01"), ("acme", "2026-02")]
    assert check_terms([make()], begun).ok


@pytest.mark.parametrize(
    ("changes", "month", "keys"),
    [
        ({"monthly_fee": "1500.00"}, "2026-01", ["monthly_fee"]),  # the file edited in place
        ({"credit_cap_percent": 20}, "2026-01", ["credit_cap_percent"]),
        # an amendment into a begun month: February's fee and the name of its terms change
        (
            {"amendments": [{"effective_from": "2026-02-01", "title": "No. 1", "monthly_fee": "2000"}]},
            "2026-02",
            ["monthly_fee", "title"],
        ),
    ],
)
def test_changed_terms_of_a_begun_month_are_refused(tmp_path: Path, changes, month, keys) -> None:
    check = check_terms([make(**changes)], begun_in_ledger(tmp_path, make()))
    assert not check.ok
    assert (check.changes[0].contract, check.changes[0].period, check.changes[0].keys) == (
        "acme",
        month,
        keys,
    )
    message = refusal(check)
    assert f"contract acme, month {month}: {', '.join(keys)} changed" in message
    assert "add an amendment effective from the next month (2026-03-01) instead" in message


def test_an_amendment_from_the_next_month_and_a_new_contract_are_fine(tmp_path: Path) -> None:
    begun = begun_in_ledger(tmp_path, make())
    check = check_terms([make(**NEXT_MONTH_AMENDMENT), make(id="newcomer")], begun)
    assert check.ok and check.removed == []


def test_a_removed_contract_is_reported(tmp_path: Path) -> None:
    check = check_terms([make(id="other")], begun_in_ledger(tmp_path, make()))
    assert check.ok and check.removed == ["acme"]


def _processor(contract: Contract, store: ChangelogStore) -> PartitionProcessor:
    return PartitionProcessor(Stream.UPTIME, 0, 1, [contract], LATENESS, store, 1, ("uptime",))


def test_the_engine_state_keeps_the_terms_and_refuses_changed_ones() -> None:
    store = ChangelogStore()
    processor = _processor(make(), store)
    for line in EVENTS:
        processor.handle(line, "uptime")
    processor.clause_results()  # the driver publishes results: January and February begun
    processor.flush()  # a snapshot (one every input) with the terms of the begun months
    with pytest.raises(TermsChanged, match="contract acme, month 2026-01: monthly_fee changed"):
        _processor(make(monthly_fee="1500.00"), store)
    amended = _processor(make(**NEXT_MONTH_AMENDMENT), store)  # the next month: fine
    assert amended.engine.watermark == processor.engine.watermark
    # the replay of the same events under the amended file: March is "No. 1"
    later = replay(
        [make(**NEXT_MONTH_AMENDMENT)], EVENTS, datetime.fromisoformat("2026-03-02T00:00:00+00:00")
    )
    terms = {r["period"]: r["terms"] for r in later.records if r["record"] == "contract"}
    assert terms == {"2026-01": "base", "2026-02": "base", "2026-03": "No. 1"}
