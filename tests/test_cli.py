"""The ``slamon`` command line (SPEC.md sections 5 and 9): ``validate`` and ``replay``.

Mostly in-process through ``monitor.cli.main``; a few runs as a real ``python -m monitor.cli``
subprocess check exit codes and that stdout is JSON Lines.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest

from monitor.cli import main

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "contracts"

# "beta" is defined with its clauses out of alphabetical order and sorts after "alpha",
# whose file sorts after beta's: the output order must come from ids, not from files.
BETA = """\
id: beta
customer: Beta GmbH
provider: CloudCo Ltd
timezone: UTC
currency: EUR
monthly_fee: "1000.00"
effective_from: 2026-01-01
clauses:
  - id: b-uptime
    kind: uptime
    service: api
    target_percent: 99.5
    credits:
      - below_percent: 99.5
        credit_percent: 5
    consecutive:
      periods: 2
      credit_percent: 10
      remedy: contract_review
  - id: a-response
    kind: response_time
    measure: responded
    within: 4h
    target_percent: 90
"""
ALPHA = """\
id: alpha
customer: Alpha KK
provider: CloudCo Ltd
timezone: UTC
currency: JPY
monthly_fee: 100000
effective_from: 2026-02-01
clauses:
  - id: web-uptime
    kind: uptime
    service: web
    target_percent: 99.9
"""


def _status(event_id: str, status: str, at: str) -> str:
    return json.dumps({"event_id": event_id, "type": "status", "service": "api", "status": status, "at": at})


def _ticket(event_id: str, ticket: str, action: str, at: str) -> str:
    return json.dumps(
        {
            "event_id": event_id,
            "type": "ticket",
            "ticket_id": ticket,
            "contract": "beta",
            "action": action,
            "priority": "P2",
            "at": at,
        }
    )


# January: api down 10 h of 744 h, one ticket answered in 1 h (on time).
# February: api down 5 h of 672 h (second breach in a row), one of two tickets late.
# The last event (10 March) is the watermark: January and February are final, March is open.
EVENTS = [
    _ticket("t1", "T-1", "opened", "2026-01-05T00:00:00Z"),
    _ticket("t2", "T-1", "responded", "2026-01-05T01:00:00Z"),
    _status("d1", "down", "2026-01-10T00:00:00Z"),
    _status("u1", "up", "2026-01-10T10:00:00Z"),
    _ticket("t3", "T-2", "opened", "2026-02-01T00:00:00Z"),
    _ticket("t4", "T-3", "opened", "2026-02-01T00:30:00Z"),
    _ticket("t5", "T-3", "responded", "2026-02-01T01:00:00Z"),
    _ticket("t6", "T-2", "responded", "2026-02-01T05:00:00Z"),
    _status("d2", "down", "2026-02-10T00:00:00Z"),
    _status("u2", "up", "2026-02-10T05:00:00Z"),
    _status("u3", "up", "2026-03-10T00:00:00Z"),
]
WATERMARK = "2026-03-10T00:00:00Z"


def _clause(
    contract: str,
    clause: str,
    period: str,
    final: bool,
    attained: float,
    target: float,
    met: bool,
    breaches: int,
    credit: float,
    remedies: list[str],
) -> dict[str, Any]:
    return {
        "record": "clause",
        "contract": contract,
        "clause": clause,
        "period": period,
        "final": final,
        "attained_percent": attained,
        "target_percent": target,
        "met": met,
        "consecutive_breaches": breaches,
        "credit_percent": credit,
        "remedies": remedies,
        "chronic": False,  # SPEC.md section 12: no chronic rule, no amendments
        "terms": "base",
    }


def _contract(
    contract: str, period: str, final: bool, credit: float, amount: str, currency: str
) -> dict[str, Any]:
    return {
        "record": "contract",
        "contract": contract,
        "period": period,
        "final": final,
        "credit_percent": credit,
        "credit_amount": amount,
        "currency": currency,
        "adjustments": [],
        "terms": "base",
    }


JANUARY = float(Fraction(100) * (744 - 10) / 744)
FEBRUARY = float(Fraction(100) * (672 - 5) / 672)
EXPECTED = [
    _clause("alpha", "web-uptime", "2026-02", True, 100.0, 99.9, True, 0, 0.0, []),
    _clause("alpha", "web-uptime", "2026-03", False, 100.0, 99.9, True, 0, 0.0, []),
    _contract("alpha", "2026-02", True, 0.0, "0", "JPY"),
    _contract("alpha", "2026-03", False, 0.0, "0", "JPY"),
    _clause("beta", "a-response", "2026-01", True, 100.0, 90.0, True, 0, 0.0, []),
    _clause("beta", "a-response", "2026-02", True, 50.0, 90.0, False, 1, 0.0, []),
    _clause("beta", "a-response", "2026-03", False, 100.0, 90.0, True, 0, 0.0, []),
    _clause("beta", "b-uptime", "2026-01", True, JANUARY, 99.5, False, 1, 5.0, []),
    _clause("beta", "b-uptime", "2026-02", True, FEBRUARY, 99.5, False, 2, 15.0, ["contract_review"]),
    _clause("beta", "b-uptime", "2026-03", False, 100.0, 99.5, True, 0, 0.0, []),
    _contract("beta", "2026-01", True, 5.0, "50.00", "EUR"),
    _contract("beta", "2026-02", True, 15.0, "150.00", "EUR"),
    _contract("beta", "2026-03", False, 0.0, "0.00", "EUR"),
]
CLAUSE_KEYS = [
    "record",
    "contract",
    "clause",
    "period",
    "final",
    "attained_percent",
    "target_percent",
    "met",
    "consecutive_breaches",
    "credit_percent",
    "remedies",
    "chronic",
    "terms",
]
CONTRACT_KEYS = [
    "record",
    "contract",
    "period",
    "final",
    "credit_percent",
    "credit_amount",
    "currency",
    "adjustments",
    "terms",
]


@pytest.fixture
def contracts(tmp_path: Path) -> Path:
    directory = tmp_path / "contracts"
    directory.mkdir()
    (directory / "a-beta.yaml").write_text(BETA)
    (directory / "b-alpha.yaml").write_text(ALPHA)
    return directory


def write_events(tmp_path: Path, lines: list[str], name: str = "events.jsonl", newline: str = "\n") -> Path:
    path = tmp_path / name
    path.write_bytes(newline.join(lines).encode() + newline.encode())
    return path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def replay(
    capsys: pytest.CaptureFixture[str], contracts: Path, events: Path, *extra: str
) -> tuple[int, str, str]:
    return run(capsys, "replay", "--contracts", str(contracts), "--events", str(events), *extra)


def records_of(stdout: str) -> list[dict[str, Any]]:
    assert stdout.endswith("\n")
    return [json.loads(line) for line in stdout.splitlines()]


# --- validate --------------------------------------------------------------------------------


def test_validate_shipped_contracts(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "validate", str(SHIPPED))
    assert code == 0
    assert out.splitlines() == [
        "ok: acme-hosting (1 clause(s))",
        "ok: globex-support (3 clause(s))",
        "ok: initech-helpdesk (2 clause(s))",
        "ok: kaisha-api (1 clause(s))",
        "ok: nimbus-functions (1 clause(s))",
    ]
    assert err == ""


def test_validate_bad_directory_prints_every_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "good.yaml").write_text(ALPHA)
    (tmp_path / "bad-duration.yaml").write_text(BETA.replace("within: 4h", "within: 4 hours"))
    (tmp_path / "bad-several.yaml").write_text(
        BETA.replace("id: beta", "id: gamma")
        .replace("currency: EUR", "currency: EURO")
        .replace("kind: uptime", "kind: latency")
        .replace("customer: Beta GmbH\n", "customer: Beta GmbH\nnotes: unknown key\n")
    )
    (tmp_path / "broken.yaml").write_text("id: broken\nclauses: [\n")
    (tmp_path / "empty.yaml").write_text("")
    (tmp_path / "twin.yaml").write_text(ALPHA)

    code, out, err = run(capsys, "validate", str(tmp_path))

    assert code == 1
    lines = out.splitlines()
    expected = [
        ("bad-duration.yaml", "clauses[1].within: "),
        ("bad-several.yaml", "currency: "),
        ("bad-several.yaml", "clauses[0].kind: "),
        ("bad-several.yaml", "notes: "),
        ("broken.yaml", "invalid YAML"),
        ("empty.yaml", "a contract file must hold one YAML mapping"),
        ("twin.yaml", "id: duplicate contract id 'alpha'"),
    ]
    for name, rest in expected:
        prefix = f"{tmp_path / name}: {rest}"
        assert sum(line.startswith(prefix) for line in lines) == 1, (prefix, out)
    assert "ok: alpha (1 clause(s))" in lines
    assert not any("beta" in line or "gamma" in line for line in lines if line.startswith("ok:"))
    assert len(lines) == len(expected) + 1
    assert err.strip() == f"{len(expected)} problem(s) found"


def test_validate_missing_directory(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "validate", str(tmp_path / "nowhere"))
    assert code == 1
    assert out.splitlines() == [f"{tmp_path / 'nowhere'}: not a directory"]


# --- replay: the records ------------------------------------------------------------------------


def test_replay_prints_the_records_of_section_5(
    tmp_path: Path, contracts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = replay(capsys, contracts, write_events(tmp_path, EVENTS))
    assert code == 0
    records = records_of(out)
    assert records == EXPECTED
    assert err.splitlines() == ["events: applied 11"]


def test_replay_record_keys_order_and_types(
    tmp_path: Path, contracts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _, out, _ = replay(capsys, contracts, write_events(tmp_path, EVENTS))
    records = records_of(out)
    assert {r["record"] for r in records} == {"clause", "contract"}
    for record in records:
        assert isinstance(record["contract"], str)
        assert isinstance(record["period"], str)
        assert len(record["period"]) == 7
        assert record["period"][4] == "-"
        assert type(record["final"]) is bool
        assert type(record["credit_percent"]) is float
        if record["record"] == "clause":
            assert list(record) == CLAUSE_KEYS
            assert isinstance(record["clause"], str)
            assert type(record["attained_percent"]) is float
            assert type(record["target_percent"]) is float
            assert type(record["met"]) is bool
            assert type(record["consecutive_breaches"]) is int
            assert type(record["remedies"]) is list
            assert all(isinstance(remedy, str) for remedy in record["remedies"])
        else:
            assert list(record) == CONTRACT_KEYS
            assert type(record["credit_amount"]) is str
            assert type(record["currency"]) is str
    # the raw text carries floats as floats ("100.0", not "100") and the amount as a string
    first = out.splitlines()[0]
    assert '"attained_percent": 100.0,' in first
    assert '"target_percent": 99.9,' in first
    assert '"credit_percent": 0.0,' in first
    assert '"credit_amount": "0.00"' in out


def test_replay_sorts_clause_records_by_clause_then_period_then_contract_records(
    tmp_path: Path, contracts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Events in reverse order (all within the lateness of each other, so none is late)
    still give the documented order."""
    close_together = [
        _status("x1", "down", "2026-03-31T23:30:00Z"),
        _ticket("x2", "T-9", "opened", "2026-03-31T23:40:00Z"),
        _status("x3", "up", "2026-04-01T00:10:00Z"),
    ]
    code, out, _ = replay(capsys, contracts, write_events(tmp_path, close_together[::-1]))
    assert code == 0
    records = records_of(out)
    keys = [(r["contract"], r["record"] == "contract", r.get("clause", ""), r["period"]) for r in records]
    assert keys == sorted(keys)
    by_contract = [r["contract"] for r in records]
    assert by_contract == sorted(by_contract)
    beta = [r for r in records if r["contract"] == "beta"]
    kinds = [r["record"] for r in beta]
    assert kinds == ["clause"] * kinds.count("clause") + ["contract"] * kinds.count("contract")
    assert [r["clause"] for r in beta if r["record"] == "clause"][:4] == ["a-response"] * 4
    assert [r["period"] for r in beta if r["record"] == "contract"] == [
        "2026-01",
        "2026-02",
        "2026-03",
        "2026-04",
    ]


def test_replay_as_of_later_than_the_watermark(
    tmp_path: Path, contracts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = replay(
        capsys, contracts, write_events(tmp_path, EVENTS), "--as-of", "2026-04-01T02:00:00Z"
    )
    assert code == 0
    records = {(r["contract"], r.get("clause"), r["period"]): r for r in records_of(out)}
    # April has started before the clock: it has records, open
    assert records[("beta", "b-uptime", "2026-04")]["final"] is False
    assert records[("beta", None, "2026-04")]["final"] is False
    # March uptime: final once the clock passes its end + 1 h lateness
    assert records[("beta", "b-uptime", "2026-03")]["final"] is True
    assert records[("alpha", "web-uptime", "2026-03")]["final"] is True
    # March response time: final only after end + within (4 h) + lateness
    assert records[("beta", "a-response", "2026-03")]["final"] is False
    assert records[("beta", None, "2026-03")]["final"] is False
    assert ("beta", "b-uptime", "2026-05") not in records


def test_replay_as_of_in_another_offset_is_the_same_instant(
    tmp_path: Path, contracts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = write_events(tmp_path, EVENTS)
    _, utc, _ = replay(capsys, contracts, events, "--as-of", "2026-04-01T02:00:00Z")
    _, tokyo, _ = replay(capsys, contracts, events, "--as-of", "2026-04-01T11:00:00+09:00")
    _, at_watermark, _ = replay(capsys, contracts, events, "--as-of", WATERMARK)
    assert utc == tokyo
    assert utc != at_watermark
    assert records_of(at_watermark) == EXPECTED


# --- replay: bad input ---------------------------------------------------------------------------


def test_invalid_lines_are_counted_and_reported_never_fatal(
    tmp_path: Path, contracts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    lines = list(EVENTS)
    lines.insert(2, "{not json")  # line 3
    lines.insert(4, _status("naive", "down", "2026-01-10T01:00:00"))  # line 5
    lines.insert(
        6, _ticket("stranger", "T-7", "opened", "2026-01-10T02:00:00Z").replace('"beta"', '"nobody"')
    )
    lines.insert(8, '["an", "array"]')  # line 9
    lines.append(EVENTS[-1])  # a duplicate
    lines.append(_status("old", "down", "2026-03-01T00:00:00Z"))  # late: far behind the watermark
    code, out, err = replay(capsys, contracts, write_events(tmp_path, lines))
    assert code == 0
    assert records_of(out) == EXPECTED
    reported = err.splitlines()
    assert reported[0].startswith("invalid event on line 3: not valid JSON")
    assert reported[1].startswith("invalid event on line 5: field 'at'")
    assert reported[2] == "invalid event on line 7: unknown contract 'nobody'"
    assert reported[3] == "invalid event on line 9: an event must be a JSON object"
    assert reported[4] == "event on line 17 not counted: late"  # 11 events, 4 inserted, a duplicate
    assert reported[5:] == ["events: applied 11, duplicate 1, invalid 4, late 1"]
    assert "Traceback" not in err


def test_blank_lines_are_ignored(tmp_path: Path, contracts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    clean = write_events(tmp_path, EVENTS, "clean.jsonl")
    spaced = write_events(tmp_path, ["", *EVENTS[:3], "", "   ", "\t", *EVENTS[3:], ""], "spaced.jsonl")
    crlf = write_events(tmp_path, EVENTS, "crlf.jsonl", newline="\r\n")
    _, expected_out, expected_err = replay(capsys, contracts, clean)
    for events in (spaced, crlf):
        code, out, err = replay(capsys, contracts, events)
        assert code == 0
        assert out == expected_out
        assert err == expected_err == "events: applied 11\n"


def test_a_byte_order_mark_does_not_cost_the_first_event(
    tmp_path: Path, contracts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # a UTF-8 BOM (Windows editors write one) is not part of the first line (RFC 8259 lets
    # parsers ignore it); elsewhere in the file it stays what it is: an invalid line
    clean = write_events(tmp_path, EVENTS, "clean.jsonl")
    marked = tmp_path / "marked.jsonl"
    marked.write_bytes(b"\xef\xbb\xbf" + clean.read_bytes())
    _, expected_out, expected_err = replay(capsys, contracts, clean)
    assert replay(capsys, contracts, marked) == (0, expected_out, expected_err)
    inside = tmp_path / "inside.jsonl"
    inside.write_bytes(clean.read_bytes() + b"\xef\xbb\xbf" + EVENTS[0].encode() + b"\n")
    code, _, err = replay(capsys, contracts, inside)
    assert code == 0
    assert f"invalid event on line {len(EVENTS) + 1}" in err


def test_many_invalid_lines_are_summarised(
    tmp_path: Path, contracts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = replay(capsys, contracts, write_events(tmp_path, [*EVENTS, *["nope"] * 25]))
    assert code == 0
    assert records_of(out) == EXPECTED
    reported = err.splitlines()
    shown = [line for line in reported if line.startswith("invalid event on line")]
    assert len(shown) == 20
    assert shown[0].startswith("invalid event on line 12: ")
    assert shown[-1].startswith("invalid event on line 31: ")
    assert "... and 5 more invalid line(s)" in reported
    assert reported[-1] == "events: applied 11, invalid 25"


def test_empty_events_file(tmp_path: Path, contracts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = replay(capsys, contracts, write_events(tmp_path, []))
    assert code == 0
    assert out == ""
    assert err == "events: none\n"


def test_as_of_without_offset_is_a_usage_error(
    tmp_path: Path, contracts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    events = write_events(tmp_path, EVENTS)
    for value, words in [("2026-04-01T00:00:00", "UTC offset"), ("next tuesday", "RFC 3339")]:
        with pytest.raises(SystemExit) as stopped:
            main(["replay", "--contracts", str(contracts), "--events", str(events), "--as-of", value])
        assert stopped.value.code == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        assert "--as-of" in captured.err
        assert words in captured.err
        assert "Traceback" not in captured.err


def test_as_of_earlier_than_the_watermark_is_an_error(
    tmp_path: Path, contracts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = replay(
        capsys, contracts, write_events(tmp_path, EVENTS), "--as-of", "2026-03-09T23:59:59Z"
    )
    assert code != 0
    assert out == ""
    assert "slamon: error: --as-of 2026-03-09T23:59:59+00:00 is earlier than" in err
    assert WATERMARK in err
    assert "Traceback" not in err


def test_missing_events_file(tmp_path: Path, contracts: Path, capsys: pytest.CaptureFixture[str]) -> None:
    missing = tmp_path / "missing.jsonl"
    code, out, err = replay(capsys, contracts, missing)
    assert code != 0
    assert out == ""
    assert err == f"slamon: error: cannot read events file {missing}: No such file or directory\n"

    code, _, err = replay(capsys, contracts, tmp_path)
    assert code != 0
    assert f"cannot read events file {tmp_path}" in err


def test_replay_without_any_valid_contract(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = replay(capsys, tmp_path / "nowhere", write_events(tmp_path, EVENTS))
    assert code != 0
    assert out == ""
    assert f"contract problem: {tmp_path / 'nowhere'}: not a directory" in err
    assert "slamon: error: no valid contract to evaluate" in err


def test_replay_reports_a_bad_contract_and_evaluates_the_good_ones(
    tmp_path: Path, contracts: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (contracts / "c-bad.yaml").write_text(ALPHA.replace("id: alpha", "id: gamma").replace("99.9", "199.9"))
    _, out, err = replay(capsys, contracts, write_events(tmp_path, EVENTS))
    assert records_of(out) == EXPECTED
    assert f"contract problem: {contracts / 'c-bad.yaml'}: clauses[0].target_percent: " in err


# --- as a real process ---------------------------------------------------------------------------


def slamon(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *argv],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_subprocess_exit_codes_and_json_lines(tmp_path: Path, contracts: Path) -> None:
    events = write_events(tmp_path, ["", *EVENTS, "{broken"])

    done = slamon("replay", "--contracts", str(contracts), "--events", str(events))
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines
    parsed = [json.loads(line) for line in lines]
    assert all(isinstance(record, dict) for record in parsed)
    assert parsed == EXPECTED
    assert "invalid event on line 13: not valid JSON" in done.stderr

    assert slamon("validate", str(SHIPPED)).returncode == 0
    (contracts / "c-bad.yaml").write_text("id: Bad\n")
    bad = slamon("validate", str(contracts))
    assert bad.returncode == 1
    assert f"{contracts / 'c-bad.yaml'}: id: " in bad.stdout


def test_subprocess_errors_have_no_traceback(tmp_path: Path, contracts: Path) -> None:
    events = write_events(tmp_path, EVENTS)
    base = ["replay", "--contracts", str(contracts), "--events"]

    earlier = slamon(*base, str(events), "--as-of", "2026-03-09T23:30:00Z")
    naive = slamon(*base, str(events), "--as-of", "2026-04-01T00:00:00")
    missing = slamon(*base, str(tmp_path / "missing.jsonl"))
    for done in (earlier, naive, missing):
        assert done.returncode == 2, done.stderr
        assert done.stdout == ""
        assert "Traceback" not in done.stderr
        assert "error" in done.stderr
    assert "earlier than the events' watermark" in earlier.stderr
    assert "usage: slamon replay" in naive.stderr
    assert "cannot read events file" in missing.stderr
