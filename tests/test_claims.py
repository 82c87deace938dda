"""`slamon claim` and the claimed / claimable / expired split of `slamon liability`, on a real
SQLite ledger written from a replay (SPEC.md section 12). Hand-computed: UTC, 10% of 1000.00 =
100.00 owed in each of January, February and March 2026; claims are due within 30 days."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest
import yaml

from alerting.metrics import Metrics
from monitor.ledger.store import Ledger
from monitor.loader import load_contracts
from monitor.replay import replay
from monitor.stream.ledger_writer import LedgerWriter
from tests.builders import outage, plain_document
from tests.conftest import REPO

CONTRACT = plain_document(credit_rules={"claim_within": "30d"})


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Path, str]:
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    (contracts / "acme.yaml").write_text(yaml.safe_dump(CONTRACT))
    loaded = load_contracts(contracts).contracts
    events = []
    for month in ("01", "02", "03"):  # a day down in each month: below 99.5 -> 10% -> 100.00
        events += outage(f"2026-{month}-10T00:00:00+00:00", f"2026-{month}-11T00:00:00+00:00")
    report = replay(loaded, sorted(events), datetime.fromisoformat("2026-04-10T00:00:00+00:00"))
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    ledger = Ledger(url, loaded)
    ledger.write_results(report.records)
    ledger.close()
    return contracts, url


def slamon(setup: tuple[Path, str], *args: str) -> subprocess.CompletedProcess[str]:
    contracts, url = setup
    flags = ["--database", url, "--contracts", str(contracts)]
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args, *flags],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=60,
    )


def claim(setup: tuple[Path, str], period: str, at: str) -> subprocess.CompletedProcess[str]:
    return slamon(setup, "claim", "--contract", "acme", "--period", period, "--at", at)


def test_claims_split_the_owed_credit(setup: tuple[Path, str]) -> None:
    # February ends 2026-03-01T00:00Z; + 30 days = 2026-03-31T00:00Z: the last day is 2026-03-30
    first = claim(setup, "2026-02", "2026-03-10T00:00:00Z")
    assert first.returncode == 0, first.stderr
    assert "acme 2026-02: claimed at 2026-03-10T00:00:00+00:00 (100.00 EUR)" in first.stdout
    # idempotent: the first claim stays
    again = claim(setup, "2026-02", "2026-03-20T00:00:00Z")
    assert again.returncode == 0
    assert "already claimed at 2026-03-10T00:00:00+00:00" in again.stdout
    # January ends 2026-02-01; + 30 days = 2026-03-03T00:00Z: on 2026-03-05 it is too late
    late = claim(setup, "2026-01", "2026-03-05T00:00:00Z")
    assert late.returncode == 2
    assert "the last day to claim was 2026-03-02" in late.stderr
    # March has not ended on 2026-03-20
    early = claim(setup, "2026-03", "2026-03-20T00:00:00Z")
    assert early.returncode == 2 and "has not ended" in early.stderr

    result = slamon(setup, "liability", "--as-of", "2026-04-10T00:00:00Z", "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    acme = document["contracts"][0]
    # owed 3 x 100.00; January expired, February claimed, March claimable until 2026-04-30
    # (March ends 2026-04-01, + 30 days = 2026-05-01T00:00Z, exclusive)
    assert (acme["owed"], acme["claimed"], acme["claimable"], acme["expired"]) == (
        "300.00",
        "100.00",
        "100.00",
        "100.00",
    )
    states = {c["period"]: (c["state"], c["last_day_to_claim"]) for c in acme["claims"]}
    assert states == {
        "2026-01": ("expired", "2026-03-02"),
        "2026-02": ("claimed", "2026-03-30"),
        "2026-03": ("claimable", "2026-04-30"),
    }
    assert document["totals"]["EUR"] == {
        "owed": "300.00",
        "projected": "0.00",
        "claimed": "100.00",
        "claimable": "100.00",
        "expired": "100.00",
    }
    text = slamon(setup, "liability", "--as-of", "2026-04-10T00:00:00Z").stdout
    assert "EUR: owed 300.00 EUR (claimed 100.00 EUR, claimable 100.00 EUR, expired 100.00 EUR)" in text
    assert "acme 2026-03: 100.00 EUR, until 2026-04-30" in text


def test_liability_as_of_an_earlier_time_ignores_later_claims(setup: tuple[Path, str]) -> None:
    assert claim(setup, "2026-02", "2026-03-10T00:00:00Z").returncode == 0
    # on 2026-03-05: the February claim (made on the 10th) is not made yet -> claimable until
    # 2026-03-30; January's window closed on 2026-03-03 -> expired; March is still open
    result = slamon(setup, "liability", "--as-of", "2026-03-05T00:00:00Z", "--format", "json")
    acme = json.loads(result.stdout)["contracts"][0]
    assert (acme["claimed"], acme["claimable"], acme["expired"]) == ("0", "100.00", "100.00")
    assert acme["open_periods"] == ["2026-03"]


def test_a_claim_for_a_month_not_in_the_ledger_is_refused(setup: tuple[Path, str]) -> None:
    result = claim(setup, "2026-09", "2026-10-10T00:00:00Z")
    assert result.returncode == 2 and "no result for acme in 2026-09" in result.stderr
    unknown = slamon(setup, "claim", "--contract", "nope", "--period", "2026-02")
    assert unknown.returncode == 2 and "unknown contract 'nope'" in unknown.stderr


def test_the_worker_exports_the_split_as_metrics(setup: tuple[Path, str]) -> None:
    contracts, url = setup
    assert claim(setup, "2026-02", "2026-03-10T00:00:00Z").returncode == 0
    loaded = load_contracts(contracts).contracts
    metrics = Metrics()
    ledger = Ledger(url, loaded)
    try:
        LedgerWriter(ledger, metrics, loaded)._set_credit_gauges({"acme"})
    finally:
        ledger.close()
    labels = {"contract": "acme", "currency": "EUR"}

    def gauge(state: str) -> float | None:
        return metrics.registry.get_sample_value(f"slamon_contract_credit_{state}_amount", labels)

    # at the wall clock (after 2026-05-01, the last deadline): February claimed, January and
    # March never claimed and past their windows -> 100.00 claimed, 200.00 expired
    assert (gauge("claimed"), gauge("claimable"), gauge("expired")) == (100.0, 0.0, 200.0)
    assert gauge("final") == 300.0
