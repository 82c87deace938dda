"""`slamon report` and `slamon liability` on a ledger written from the sample stream."""

from __future__ import annotations

import csv
import io
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from html import unescape
from pathlib import Path

import orjson
import pytest

from monitor.demo import where_to_look
from monitor.demo_stream import sample_events
from monitor.engine import Engine
from monitor.events import decode_event
from monitor.ledger.store import Ledger
from monitor.loader import load_contracts
from monitor.replay import replay
from monitor.settings import DEFAULT_CONTRACTS
from tests.conftest import REPO

CLOSED = datetime(2026, 11, 3, tzinfo=UTC)  # October is final for every clause
AS_OF = datetime(2026, 12, 1, tzinfo=UTC)


@pytest.fixture(scope="module")
def ledger_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The ledger the live worker would write: results, and details of every period."""
    contracts = load_contracts(DEFAULT_CONTRACTS).contracts
    engine = Engine(contracts, timedelta(hours=1))
    for event in sample_events():
        engine.apply(decode_event(orjson.dumps(event)))
    url = f"sqlite:///{tmp_path_factory.mktemp('ledger') / 'ledger.db'}"
    ledger = Ledger(url, contracts)
    engine.advance(CLOSED)  # the worker writes a month's details as it closes
    ledger.record_details([d.to_record() for d in engine.clause_details(periods=3)])
    engine.advance(AS_OF)
    ledger.write_results(r.to_record() for r in engine.results())
    ledger.close()
    return url


def slamon(*args: str) -> subprocess.CompletedProcess[str]:
    # 300 s: a limit for a hung command; `report --all` as PDF took over 60 s on a loaded machine
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args], capture_output=True, text=True, cwd=REPO, timeout=300
    )


def report(ledger_url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return slamon("report", "--database", ledger_url, "--contracts", str(DEFAULT_CONTRACTS), *args)


def test_the_october_statement_lists_the_outages_and_the_credit(ledger_url: str) -> None:
    result = report(ledger_url, "--contract", "acme-hosting", "--period", "2026-10", "--format", "json")
    assert result.returncode == 0, result.stderr
    statement = json.loads(result.stdout)
    assert statement["final"] is True
    assert statement["credit_amount"] == "1200.00"  # 10% of 12000.00 EUR: the consecutive-breach credit
    [clause] = statement["clauses"]
    # the sample stream's October outages of api: 14 Oct 08:00Z for 2h30, 27 Oct 19:00Z for 2h
    assert [Decimal(o["minutes"]) for o in clause["outages"]] == [150, 120]
    assert clause["consecutive_breaches"] == 2
    assert [m["kind"] for m in clause["maintenance"]].count("announced") == 1


def test_every_format_can_be_written_to_a_file(ledger_url: str, tmp_path: Path) -> None:
    for fmt in ("md", "html", "csv", "json"):
        out = tmp_path / f"statement.{fmt}"
        args = ("--contract", "globex-support", "--period", "2026-10", "--format", fmt, "--output", str(out))
        result = report(ledger_url, *args)
        assert result.returncode == 0, result.stderr
        assert "Globex" in out.read_text()
    rows = list(csv.DictReader(io.StringIO((tmp_path / "statement.csv").read_text())))
    assert {"missed_ticket", "credit"} <= {row["section"] for row in rows}


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--contract", "nobody", "--period", "2026-10"), "unknown contract 'nobody'"),
        (("--contract", "acme-hosting", "--period", "October"), "--period must look like 2026-10"),
        (("--contract", "acme-hosting", "--period", "2025-06"), "outside the contract's effective dates"),
        (("--contract", "acme-hosting", "--period", "2027-03"), "no data for acme-hosting in 2027-03"),
        (
            ("--contract", "acme-hosting", "--period", "2026-10", "--output", "/proc/no/such/dir/x.md"),
            "cannot write",
        ),
    ],
)
def test_bad_requests_get_a_clear_message_and_no_traceback(
    ledger_url: str, args: tuple, message: str
) -> None:
    result = report(ledger_url, *args)
    assert result.returncode == 2
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_a_missing_ledger_is_an_error_not_a_new_file(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.db"
    result = report(f"sqlite:///{missing}", "--contract", "acme-hosting", "--period", "2026-10")
    assert result.returncode == 2 and "no ledger at" in result.stderr
    assert not missing.exists()


def liability(ledger_url: str, *args: str) -> dict:
    flags = ("--database", ledger_url, "--contracts", str(DEFAULT_CONTRACTS), "--format", "json")
    result = slamon("liability", *flags, *args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_liability_totals_per_currency(ledger_url: str) -> None:
    document = liability(ledger_url)
    assert set(document["totals"]) == {"EUR", "USD", "JPY"}
    owed = {c["contract"]: c["owed"] for c in document["contracts"]}
    assert owed["acme-hosting"] == "1200.00"  # September 0 (no tier), October 10%, November 0


def test_liability_lists_contracts_with_open_remedies_first(ledger_url: str) -> None:
    document = liability(ledger_url, "--as-of", "2026-11-15T00:00:00Z")  # October: the latest final month
    first = document["contracts"][0]
    assert first["contract"] == "acme-hosting" and first["remedies"] == ["contract_review"]


def test_liability_as_of_an_earlier_time_sees_october_open(ledger_url: str) -> None:
    document = liability(ledger_url, "--as-of", "2026-10-20T00:00:00Z")
    acme = next(c for c in document["contracts"] if c["contract"] == "acme-hosting")
    assert "2026-10" in acme["open_periods"] and "2026-10" not in acme["final_periods"]


def test_results_with_no_ledger_is_an_error_and_creates_none(tmp_path: Path) -> None:
    missing = tmp_path / "nothing.db"
    result = slamon("results", "--database", f"sqlite:///{missing}")
    assert result.returncode == 2 and f"no ledger at {missing}" in result.stderr
    assert not missing.exists()


def test_produce_names_the_reason_a_file_cannot_be_read(tmp_path: Path) -> None:
    missing = tmp_path / "events.jsonl"
    result = slamon("produce", "--events", str(missing), "--broker", "kafka://127.0.0.1:9")
    assert result.returncode == 2, result.stderr
    assert f"cannot read events file {missing}: No such file or directory" in result.stderr
    folder = tmp_path / "a-folder.jsonl"
    folder.mkdir()
    result = slamon("produce", "--events", str(folder), "--broker", "kafka://127.0.0.1:9")
    assert f"cannot read events file {folder}: Is a directory" in result.stderr


def test_a_report_on_a_broken_contract_names_its_file_and_field(ledger_url: str, tmp_path: Path) -> None:
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    for path in DEFAULT_CONTRACTS.glob("*.yaml"):
        (contracts / path.name).write_text(path.read_text())
    broken = contracts / "acme-hosting.yaml"
    broken.write_text(broken.read_text().replace("target_percent: 99.5", "target_percent: 199.5"))
    renamed = contracts / "kaisha.yaml"  # the file is not named for the contract: its id says it
    renamed.write_text((contracts / "kaisha-api.yaml").read_text().replace("currency: JPY", "currency: XXQ"))
    (contracts / "kaisha-api.yaml").unlink()
    flags = ("--database", ledger_url, "--contracts", str(contracts), "--period", "2026-10")
    result = slamon("report", *flags, "--contract", "acme-hosting")
    assert result.returncode == 2
    assert f"contract 'acme-hosting' does not load: {broken}: clauses[0].target_percent:" in result.stderr
    result = slamon("report", *flags, "--contract", "kaisha-api")
    assert f"contract 'kaisha-api' does not load: {renamed}: currency:" in result.stderr
    result = slamon("report", *flags, "--contract", "nobody")
    assert "unknown contract 'nobody'" in result.stderr and "2 file(s) do not load" in result.stderr


def test_the_commands_the_demo_prints_work_as_printed(ledger_url: str, tmp_path: Path) -> None:
    # run by a shell from the checkout, with only the system directories on PATH (no venv
    # activated, no `slamon` installed globally), as a newcomer would paste them
    env = {"PATH": "/usr/bin:/bin", "HOME": str(Path.home())}
    commands = where_to_look(ledger_url, DEFAULT_CONTRACTS, tmp_path)
    assert set(commands) == {"statement", "pdf", "liability"}
    for command in commands.values():
        result = subprocess.run(command, shell=True, capture_output=True, text=True, cwd=REPO, env=env)
        assert result.returncode == 0, (command, result.stderr)
    assert "Acme Corp" in pdf_text(tmp_path / "acme-hosting-2026-10.pdf")


def test_the_sample_stream_closes_october_without_a_wall_clock() -> None:
    # The demo feeds these events; its live worker's clocks follow the events, and the wall
    # clock (the idle rule) only ever moves them forward. At the stream's own watermark every
    # contract's October must be final, or under a wall clock before November 2026 it never is.
    contracts = load_contracts(DEFAULT_CONTRACTS).contracts
    report = replay(contracts, (orjson.dumps(e) for e in sample_events()))
    october = [r for r in report.records if r["period"] == "2026-10"]
    assert {r["contract"] for r in october if r["record"] == "contract"} == {c.id for c in contracts}
    assert all(r["final"] for r in october), [r for r in october if not r["final"]]
    closed = {
        n["clause"] for n in report.notices if n["type"] == "sla.period_closed" and n["period"] == "2026-10"
    }
    assert closed == {clause.id for c in contracts for clause in c.clauses}


def pdf_text(path: Path) -> str:
    """The PDF's text as poppler's pdftotext extracts it, in reading order."""
    result = subprocess.run(["pdftotext", "-enc", "UTF-8", str(path), "-"], capture_output=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout.decode("utf-8")


def html_words(html: str) -> set[str]:
    """The words a reader sees in the statement's HTML (not the chart's SVG, style or title)."""
    body = html.split("<body>", 1)[1]
    body = re.sub(r"<svg.*?</svg>", " ", body, flags=re.DOTALL)
    text = unescape(re.sub(r"<[^>]+>", " ", body))
    return set(re.findall(r"\w+", text.casefold()))


def test_the_pdf_statement_has_the_html_content_page_numbers_and_time(
    ledger_url: str, tmp_path: Path
) -> None:
    pdf, html = tmp_path / "acme.pdf", tmp_path / "acme.html"
    args = ("--contract", "acme-hosting", "--period", "2026-10")
    assert report(ledger_url, *args, "--format", "pdf", "-o", str(pdf)).returncode == 0
    assert report(ledger_url, *args, "--format", "html", "-o", str(html)).returncode == 0
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = pdf_text(pdf)
    words = set(re.findall(r"\w+", text.casefold()))  # headings are upper case by style
    missing = html_words(html.read_text()) - words
    # the HTML's generation time may be a second or so earlier than the PDF's
    assert len(missing) <= 2 and all(w.isdigit() for w in missing), missing
    for fact in ("12,000.00 EUR", "1,200.00 EUR", "FINAL", "the Client may initiate a contract review"):
        assert fact in " ".join(text.split()), fact
    pages = re.findall(r"Page (\d+) of (\d+)", text)
    count = int(pages[0][1])
    assert count >= 2 and [int(p) for p, _ in pages] == list(range(1, count + 1))
    stamps = re.findall(r"generated at (\d{4}-\d\d-\d\d \d\d:\d\d(?::\d\d)?(\.\d+)? [+-]\d\d:\d\d)", text)
    assert len(stamps) >= count and not any(fraction for _, fraction in stamps)


def test_report_all_writes_every_contract_statement(ledger_url: str, tmp_path: Path) -> None:
    out = tmp_path / "statements"
    result = report(ledger_url, "--all", "--period", "2026-10", "--format", "pdf", "--out", str(out))
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in out.iterdir())
    contracts = ("acme-hosting", "globex-support", "initech-helpdesk", "kaisha-api", "nimbus-functions")
    assert written == [f"{c}-2026-10.pdf" for c in contracts]
    assert result.stdout.split() == [str(out / name) for name in written]
    customers = ("Acme Corp", "Globex Inc", "Initech GmbH", "Kaisha KK", "Nimbus Retail GmbH")
    for name, customer in zip(written, customers, strict=True):
        assert customer in pdf_text(out / name)
    # February 2026: globex's contract starts on 15 March, so it has no statement that month
    result = report(ledger_url, "--all", "--period", "2026-02", "--out", str(out / "feb"))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (out / "feb").iterdir()) == [
        "acme-hosting-2026-02.md",
        "kaisha-api-2026-02.md",
        "nimbus-functions-2026-02.md",
    ]
    assert "skipped globex-support: 2026-02 is outside the contract's effective dates" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--all", "--period", "2026-10"), "--all needs --out DIR"),
        (("--all", "--contract", "acme-hosting", "--period", "2026-10", "--out", "x"), "drop --contract"),
        (("--period", "2026-10"), "give --contract ID, or --all --out DIR"),
    ],
)
def test_report_all_usage_errors(ledger_url: str, args: tuple, message: str) -> None:
    result = report(ledger_url, *args)
    assert result.returncode == 2 and message in result.stderr
