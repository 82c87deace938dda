"""The ledger on a real SQLite file and the real PostgreSQL (see tests/databases.py)."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import chain

import orjson
import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from alerting.metrics import Metrics
from monitor.demo_stream import sample_events
from monitor.ledger.models import Base
from monitor.ledger.store import Ledger
from monitor.loader import load_contracts
from monitor.replay import replay
from monitor.settings import DEFAULT_CONTRACTS, Settings
from monitor.stream.app import Worker
from tests.databases import ledger_database


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path) -> Iterator[str]:
    """A fresh ledger database: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    with ledger_database(request.param, tmp_path) as url:
        yield url


def clause(period: str, final: bool, attained: float, contract: str = "acme-hosting", **extra) -> dict:
    record = {
        "record": "clause",
        "contract": contract,
        "clause": "api-uptime",
        "period": period,
        "final": final,
        "attained_percent": attained,
        "target_percent": 99.5,
        "met": attained >= 99.5,
        "consecutive_breaches": 0 if attained >= 99.5 else 1,
        "credit_percent": 0.0,
        "remedies": [],
        "chronic": False,
        "terms": "base",
    }
    return record | extra


def contract(
    period: str, final: bool, amount: str, name: str = "acme-hosting", currency: str = "EUR"
) -> dict:
    return {
        "record": "contract",
        "contract": name,
        "period": period,
        "final": final,
        "credit_percent": 10.0,
        "credit_amount": amount,
        "currency": currency,
        "adjustments": [],
        "terms": "base",
    }


def test_migrations_match_the_models(ledger_url: str) -> None:
    Ledger(ledger_url).close()
    engine = create_engine(ledger_url)
    with engine.connect() as connection:
        differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    engine.dispose()
    assert differences == []


def test_round_trip_is_exact_and_sorted_like_replay(ledger_url: str) -> None:
    ledger = Ledger(ledger_url)
    records = [
        contract("2026-10", True, "92593", name="kaisha-api", currency="JPY"),
        clause("2026-10", True, 99.41218637992831, remedies=["contract_review"], credit_percent=7.5),
        clause("2026-09", True, 100.0),
        contract("2026-10", True, "1200.00"),
    ]
    ledger.write_results(records)
    assert ledger.read_results() == [records[2], records[1], records[3], records[0]]
    assert ledger.read_results("kaisha-api") == [records[0]]
    ledger.close()


def test_writes_are_idempotent_and_final_is_never_downgraded(ledger_url: str) -> None:
    ledger = Ledger(ledger_url)
    provisional = clause("2026-10", False, 99.9)
    final = clause("2026-10", True, 99.4)
    ledger.write_results([provisional])
    ledger.write_results([provisional])
    assert ledger.read_results() == [provisional]
    ledger.write_results([final])
    assert ledger.read_results() == [final]
    ledger.write_results([provisional])  # a stale provisional result replayed after the close
    assert ledger.read_results() == [final]
    corrected = clause("2026-10", True, 99.3)
    ledger.write_results([corrected])
    assert ledger.read_results() == [corrected]
    ledger.close()


def test_an_empty_ledger_reads_as_nothing(ledger_url: str) -> None:
    ledger = Ledger(ledger_url)
    assert ledger.read_results() == []
    ledger.close()


def test_contract_records_are_rebuilt_from_clause_records(ledger_url: str) -> None:
    contracts = load_contracts(DEFAULT_CONTRACTS).contracts
    ledger = Ledger(ledger_url, contracts)
    breached = clause(
        "2026-10", True, 99.3, consecutive_breaches=2, credit_percent=10.0, remedies=["contract_review"]
    )
    ledger.record_clause_results([breached])
    ledger.record_clause_results([breached])
    assert ledger.read_results("acme-hosting") == [breached, contract("2026-10", True, "1200.00")]
    ledger.close()


async def test_the_notices_counter_counts_what_the_ledger_stores(ledger_url: str) -> None:
    # A batch from the notices topic may carry a notice twice (the worker restates recent
    # notices every minute) and a later batch repeats what is stored: each id counts once.
    contracts = load_contracts(DEFAULT_CONTRACTS).contracts
    notices = replay(contracts, (orjson.dumps(e) for e in sample_events())).notices
    assert len(notices) > 4
    ledger = Ledger(ledger_url, contracts)
    metrics = Metrics()
    worker = Worker(Settings(), contracts, ledger, metrics)
    try:
        await worker.notices.store([*notices[:3], notices[0], notices[1]])
        await worker.notices.store(list(chain(notices, notices[2:4])))
        stored = ledger.read_notices()
    finally:
        ledger.close()
    counted = sum(
        sample.value
        for metric in metrics.registry.collect()
        if metric.name == "slamon_notices"
        for sample in metric.samples
        if sample.name == "slamon_notices_total"
    )
    assert len(stored) == len({n["id"] for n in notices})
    assert counted == len(stored)
