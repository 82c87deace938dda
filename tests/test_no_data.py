"""A month in which no event arrived says so ("no data received") instead of a silent 100%."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from monitor.demo_stream import sample_events
from monitor.engine import Engine
from monitor.engine.snapshot import export_state, restore_state
from monitor.events import decode_event
from monitor.loader import load_contracts
from monitor.settings import DEFAULT_CONTRACTS
from monitor.statements.build import build_statement
from monitor.statements.render import NO_CLAUSE_DATA, NO_DATA, render

CLOCK = datetime(2026, 11, 10, tzinfo=UTC)


@pytest.fixture(scope="module")
def engine() -> Engine:
    # the sample stream starts on 1 Sep 2026 (00:00 Berlin, 07:00 Tokyo): nothing in August
    engine = Engine(load_contracts(DEFAULT_CONTRACTS).contracts, timedelta(hours=1))
    for event in sample_events():
        engine.apply(decode_event(orjson.dumps(event)))
    engine.advance(CLOCK)
    return engine


def statement_text(engine: Engine, contract_id: str, period: str, fmt: str) -> str:
    contract = engine.contracts[contract_id]
    records = [r.to_record() for r in engine.results() if r.contract == contract_id]
    details = {
        d.clause: {"final": d.final, "details": d.data}
        for d in engine.clause_details(periods=12)
        if d.contract == contract_id and d.period == period
    }
    statement = build_statement(contract, period, records, details, CLOCK)
    return render(statement, fmt)


@pytest.mark.parametrize("fmt", ["md", "html", "csv"])
def test_a_month_without_events_says_no_data_received(engine: Engine, fmt: str) -> None:
    august = statement_text(engine, "kaisha-api", "2026-08", fmt)
    assert NO_DATA in august and NO_CLAUSE_DATA in august
    october = statement_text(engine, "kaisha-api", "2026-10", fmt)
    assert NO_DATA not in october and NO_CLAUSE_DATA not in october


def test_json_carries_the_counts(engine: Engine) -> None:
    # New York: the stream starts on 31 Aug 18:00 local, so July is globex's last empty month
    july = json.loads(statement_text(engine, "globex-support", "2026-07", "json"))
    assert july["data_note"] == NO_DATA
    assert [c["events_received"] for c in july["clauses"]] == [0, 0, 0]
    october = json.loads(statement_text(engine, "globex-support", "2026-10", "json"))
    assert october["data_note"] is None
    # web-uptime: web's status events of October (New York), both response clauses: every
    # ticket event of globex-support in October
    web, p1, resolution = (c["events_received"] for c in october["clauses"])
    oct_start, nov_start = "2026-10-01T04:00:00Z", "2026-11-01T04:00:00Z"
    # (an outage's edge on the 5-minute grid repeats that heartbeat's id: a duplicate, not counted)
    in_october = {e["event_id"]: e for e in sample_events() if oct_start <= e["at"] < nov_start}.values()
    assert web == sum(1 for e in in_october if e.get("service") == "web")
    tickets = sum(1 for e in in_october if e["type"] == "ticket" and e["contract"] == "globex-support")
    assert p1 == resolution == tickets


def test_one_clause_without_events_is_named_while_the_others_had_some(engine: Engine) -> None:
    # in the sample every month with events has both kinds: leave the tickets out
    contracts = load_contracts(DEFAULT_CONTRACTS).contracts
    only_web = Engine(contracts, timedelta(hours=1))
    for event in sample_events():
        if event["type"] != "ticket":
            only_web.apply(decode_event(orjson.dumps(event)))
    only_web.advance(CLOCK)
    text = statement_text(only_web, "globex-support", "2026-10", "md")
    assert NO_DATA not in text and text.count(NO_CLAUSE_DATA) == 2


def test_a_restored_engine_keeps_the_counts(engine: Engine) -> None:
    copy = Engine(list(engine.contracts.values()), timedelta(hours=1))
    restore_state(copy, json.loads(json.dumps(export_state(engine))))
    assert [d.data["events_received"] for d in copy.clause_details(periods=12)] == [
        d.data["events_received"] for d in engine.clause_details(periods=12)
    ]
