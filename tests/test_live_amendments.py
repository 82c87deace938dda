"""The live worker never rewrites history (SPEC.md section 12), on the bundled broker: a contract
file edited in place under a running deployment is refused at the next start, naming the contract,
the month and the key; an amendment from the next month is accepted and applies from its month."""

from __future__ import annotations

import json
import signal

import yaml

from monitor.ledger.store import Ledger
from tests.builders import outage, plain_document, status
from tests.conftest import LiveSetup, live_on

CONTRACT = plain_document()
AMENDMENT = {"effective_from": "2026-03-01", "title": "Amendment No. 1", "monthly_fee": "2000.00"}


def write_contract(live: LiveSetup, document: dict) -> None:
    directory = live.workdir / "contracts"
    directory.mkdir(exist_ok=True)
    (directory / "acme.yaml").write_text(yaml.safe_dump(document))


def produce(live: LiveSetup, name: str, lines: list[str]) -> None:
    path = live.workdir / name
    path.write_text("\n".join(lines) + "\n")
    live.slamon("produce", "--events", str(path))


def contract_records(live: LiveSetup) -> dict[str, dict]:
    ledger = Ledger(live.database)
    try:
        return {r["period"]: r for r in ledger.read_results() if r["record"] == "contract"}
    finally:
        ledger.close()


@live_on("dev-sqlite")  # the check depends neither on the broker nor on the ledger database
def test_an_edited_file_is_refused_and_an_amendment_applies_from_its_month(live: LiveSetup) -> None:
    write_contract(live, CONTRACT)
    # a day down in January and in February, and the clock moved into late February: both begun
    january = outage("2026-01-10T00:00:00+00:00", "2026-01-11T00:00:00+00:00")
    february = outage("2026-02-10T00:00:00+00:00", "2026-02-11T00:00:00+00:00")
    produce(live, "first.jsonl", [*january, *february, status("2026-02-20T00:00:00+00:00", "up")])
    worker = live.start_worker(idle_timeout="10m")  # no wall-clock moves: the months stay as produced
    live.wait_for(lambda: {"2026-01", "2026-02"} <= set(contract_records(live)), 120)
    live.stop(worker, signal.SIGTERM)

    # the file edited in place: January and February were begun under a fee of 1000.00
    write_contract(live, CONTRACT | {"monthly_fee": "1500.00"})
    refused = live.start_worker(idle_timeout="10m")
    assert refused.wait(timeout=120) != 0
    log = live.full_logs()
    assert "contract acme, month 2026-01: monthly_fee changed" in log
    assert "contract acme, month 2026-02: monthly_fee changed" in log
    assert "add an amendment effective from the next month (2026-03-01) instead" in log
    live.workers.remove(refused)  # its exit is expected: wait_for must not take it for a crash

    # the proper way: the file as it was, and an amendment from March
    write_contract(live, CONTRACT | {"amendments": [AMENDMENT]})
    live.start_worker(idle_timeout="10m")
    march = outage("2026-03-10T00:00:00+00:00", "2026-03-11T00:00:00+00:00")
    produce(live, "second.jsonl", [*march, status("2026-04-01T02:00:00+00:00", "up")])

    def march_final() -> bool:
        record = contract_records(live).get("2026-03")
        return record is not None and record["final"]

    live.wait_for(march_final, 120, lambda: json.dumps(contract_records(live)))
    records = contract_records(live)
    # January and February keep the base terms: 10% of 1000.00 = 100.00
    assert [(records[p]["terms"], records[p]["credit_amount"]) for p in ("2026-01", "2026-02")] == [
        ("base", "100.00"),
        ("base", "100.00"),
    ]
    # March is evaluated under the amendment: 24 h down of 744 h is below 99.5 -> 10% of 2000.00
    assert (records["2026-03"]["terms"], records["2026-03"]["credit_amount"]) == ("Amendment No. 1", "200.00")
