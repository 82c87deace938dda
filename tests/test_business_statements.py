"""The October statement of the business-hours sample contract (initech-helpdesk), from a
ledger written like the worker writes it: closed days, missed tickets with their deadline in
local time and counted time at the first measure, tickets undecided at settlement."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import orjson
import pytest

from monitor.demo_stream import sample_events
from monitor.engine import Engine
from monitor.events import decode_event
from monitor.ledger.store import Ledger
from monitor.loader import load_contracts
from monitor.settings import DEFAULT_CONTRACTS
from tests.conftest import REPO

CONTRACT = "initech-helpdesk"
# October 2026 in Berlin ends 1 Nov 00:00 CET. p1-first-response settles at the latest at
# end + 30d = 1 Dec 00:00 CET (30 Nov 23:00Z), resolution at end + 3d; with 1h lateness
# both are final at a watermark of 1 Dec 00:00Z.
AS_OF = datetime(2026, 12, 1, 0, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def ledger_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    contracts = [c for c in load_contracts(DEFAULT_CONTRACTS).contracts if c.id == CONTRACT]
    engine = Engine(contracts, timedelta(hours=1))
    for event in sample_events():
        if event.get("contract") == CONTRACT:
            engine.apply(decode_event(orjson.dumps(event)))
    engine.advance(AS_OF)
    url = f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'ledger.db'}"
    ledger = Ledger(url, contracts)
    ledger.record_details([d.to_record() for d in engine.clause_details(periods=3)])
    ledger.write_results(r.to_record() for r in engine.results())
    ledger.close()
    return url


def report(ledger_url: str, fmt: str) -> str:
    command = [sys.executable, "-m", "monitor.cli", "report", "--database", ledger_url]
    command += ["--contracts", str(DEFAULT_CONTRACTS), "--contract", CONTRACT, "--period", "2026-10"]
    result = subprocess.run([*command, "--format", fmt], capture_output=True, text=True, cwd=REPO, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def paused_and_never_resumed() -> set[str]:
    """From the stream itself: October tickets (Berlin) paused and never resumed."""
    paused, resumed, october = set(), set(), set()
    for event in sample_events():
        if event.get("contract") != CONTRACT:
            continue
        local = datetime.fromisoformat(event["at"].replace("Z", "+00:00")) + timedelta(hours=1)
        if (
            event["action"] == "opened"
            and local.month == 10
            and local >= datetime(2026, 10, 1, 1, tzinfo=UTC)
        ):
            october.add(event["ticket_id"])
        elif event["action"] == "paused":
            paused.add(event["ticket_id"])
        elif event["action"] == "resumed":
            resumed.add(event["ticket_id"])
    return (paused - resumed) & october


def test_the_statement_lists_closed_days_deadlines_and_undecided_tickets(ledger_url: str) -> None:
    statement = json.loads(report(ledger_url, "json"))
    assert statement["final"] is True
    first, resolution = statement["clauses"]
    for clause in (first, resolution):
        assert clause["calendar"] == "support-hours" and clause["pausable"] is True
        # Berlin public holidays of October 2026: only German Unity Day (Saturday 3 October)
        assert clause["holidays"] == [{"day": "2026-10-03", "name": "German Unity Day"}]
    within = {"p1-first-response": 4 * 60, "resolution": 17 * 60}
    for clause in (first, resolution):
        assert clause["missed_tickets"], clause["clause_id"]
        for ticket in clause["missed_tickets"]:
            deadline = datetime.fromisoformat(ticket["deadline"])
            assert deadline.utcoffset() in (timedelta(hours=1), timedelta(hours=2))  # Berlin local time
            assert deadline > datetime.fromisoformat(ticket["opened"])
            if ticket["first_measure"] is not None:
                # late: at least the counted time allowed had passed (exactly that when the
                # answer came while closed, after the deadline)
                assert Decimal(ticket["counted_minutes"]) >= within[clause["clause_id"]]
                assert datetime.fromisoformat(ticket["first_measure"]) > deadline
    # resolution settles 3 days after October: tickets still paused then are not counted
    undecided = {t["ticket_id"] for t in resolution["undecided_tickets"]}
    assert undecided == paused_and_never_resumed()
    assert undecided and all(Decimal(t["counted_minutes"]) < 17 * 60 for t in resolution["undecided_tickets"])


@pytest.mark.parametrize("fmt", ["md", "html", "csv"])
def test_every_format_shows_the_new_sections(ledger_url: str, fmt: str) -> None:
    text = report(ledger_url, fmt)
    assert "German Unity Day" in text
    for ticket in paused_and_never_resumed():
        assert ticket in text
    if fmt != "csv":
        assert "Undecided at settlement" in text and "Holidays (closed days)" in text
    else:
        rows = text.replace("\r", "").splitlines()
        assert any(row.startswith("holiday,") for row in rows)
        assert any(row.startswith("undecided_ticket,") for row in rows)
