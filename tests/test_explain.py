"""`slamon explain`: the derivation of SPEC.md section 14, every number traced to event ids,
from the events (a replay) and from the ledger. Hand-computed cases; the arithmetic is in the
comments."""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import orjson
import pytest

from monitor.contract import Contract
from monitor.demo_stream import sample_events
from monitor.engine import Engine
from monitor.events import decode_event
from monitor.explain import ExplainError, Explanation, explain_from_events, explain_from_ledger
from monitor.ledger.store import Ledger
from monitor.loader import load_contracts
from monitor.settings import DEFAULT_CONTRACTS
from tests.builders import (
    TICK_SERVICE,
    contract,
    maintenance,
    outage,
    plain_document,
    response,
    status,
    ticket,
    uptime,
)
from tests.conftest import REPO

UPTIME_CONTRACT = contract(
    uptime(
        target=99.6,
        min_outage="5m",
        credits=[{"below_percent": 99.6, "credit_percent": 5}, {"below_percent": 99, "credit_percent": 15}],
    ),
    maintenance={
        "windows": [
            {"rrule": "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0;BYSECOND=0", "duration": "2h"},
            {"start": "2026-10-11T01:00:00+02:00", "end": "2026-10-11T03:00:00+02:00"},
        ],
        "announced_min_notice": "48h",
    },
)
UPTIME_EVENTS = [  # in time order: an event over an hour older than the latest one is late
    status("2026-09-30T12:00:00Z", "up", event_id="tick-start"),
    status("2026-10-11T00:30:00Z", "down", event_id="down-2"),  # 02:30 CEST, inside both windows
    status("2026-10-11T03:00:00Z", "up", event_id="up-2"),
    status("2026-10-14T08:00:00Z", "down", event_id="down-1"),
    status("2026-10-14T10:30:00Z", "up", event_id="up-1"),
    status("2026-10-15T09:00:00Z", "down", event_id="down-3"),  # 2 minutes: under min_outage
    status("2026-10-15T09:02:00Z", "up", event_id="up-3"),
    maintenance("2026-10-20T10:00:00Z", "2026-10-20T11:00:00Z", "2026-10-17T10:00:00Z", event_id="maint-a1"),
    maintenance("2026-10-21T10:00:00Z", "2026-10-21T11:00:00Z", "2026-10-21T09:00:00Z", event_id="maint-a2"),
    status("2026-11-02T12:00:00Z", "up", event_id="tick-end"),  # October final: 31 Oct 23:00Z + 1 h
]


def steps(explanation: Explanation, heading: str) -> list[tuple[str, tuple[str, ...]]]:
    section = next(s for s in explanation.sections if s.heading == heading)
    return [(step.text, step.events) for step in section.steps]


def amount(explanation: Explanation) -> str:
    """The step of the month's money that prices the capped percent."""
    return next(text for text, _ in steps(explanation, "Credit owed") if text.startswith("Amount:"))


def named_ids(explanation: Explanation) -> set[str]:
    return {event for section in explanation.sections for step in section.steps for event in step.events}


def test_an_uptime_month_from_its_events() -> None:
    explanation = explain_from_events([UPTIME_CONTRACT], "acme", "api-uptime", "2026-10", UPTIME_EVENTS)
    assert [s.heading for s in explanation.sections] == [
        "Period",
        "Terms in force",
        "Excluded windows",
        "Outages counted",
        "Arithmetic",
        "Credit owed",
    ]
    period = " ".join(text for text, _ in steps(explanation, "Period"))
    # October in Berlin: 31 days and the hour summer time gives back = 745 h = 44700 min
    assert "from 2026-10-01 00:00:00+02:00 (2026-09-30 22:00:00Z)" in period
    assert "until 2026-11-01 00:00:00+01:00 (2026-10-31 23:00:00Z) (exclusive): 44700 minutes" in period
    windows = steps(explanation, "Excluded windows")
    # the rule's Sundays 4, 11, 18, 25 Oct (120 min each), the one-off window (index 1) on the 11th
    rule = [text for text, _ in windows if "of maintenance.windows[0]" in text]
    assert [text.split("occurrence ")[1][:10] for text in rule] == [
        "2026-10-04",
        "2026-10-11",
        "2026-10-18",
        "2026-10-25",
    ]
    assert any("one-off window maintenance.windows[1]" in text for text, _ in windows)
    announced = {events: text for text, events in windows if events}
    assert "announced 3 days ahead" in announced[("maint-a1",)]  # 72 h >= 48 h: excluded
    assert announced[("maint-a2",)].startswith("Not excluded")  # 1 h < 48 h
    # union: 4 x 120 + the one-off's hour before the 11th's window (01:00-02:00) + maint-a1's 60
    assert windows[-1][0] == "Excluded in total (overlaps once): 600 min."
    outages = {events: text for text, events in steps(explanation, "Outages counted")}
    assert "150 min; counted in 2026-10 outside excluded time: 150 min" in outages[("down-1", "up-1")]
    # 00:30Z-03:00Z is 150 min; the windows end 02:00Z (04:00 CEST): 60 min count
    assert "150 min; counted in 2026-10 outside excluded time: 60 min" in outages[("down-2", "up-2")]
    assert outages[("down-3", "up-3")].startswith("Ignored")
    arithmetic = [text for text, _ in steps(explanation, "Arithmetic")]
    # eligible 44700 - 600 = 44100; downtime 150 + 60 = 210; 100 x 43890 / 44100 = 2090/21
    assert arithmetic[0].startswith("Eligible time: 44700 − 600 = 44100 min; downtime 210 min.")
    assert "99.524% (exactly 2090/21)" in arithmetic[1] and arithmetic[1].endswith("missed.")
    assert "Tiers whose bound is missed: 99.6%; tier credit 5%." in arithmetic
    assert amount(explanation).startswith("Amount: 12,000.00 EUR × 5 / 100 = 600.00 EUR")
    assert named_ids(explanation) <= {json.loads(line)["event_id"] for line in UPTIME_EVENTS}


RESPONSE_CONTRACT = contract(
    response(
        "p1-response",
        within="1h",
        priorities=["P1"],
        target=90,
        credits=[{"below_percent": 90, "credit_percent": 5}],
    )
)
RESPONSE_EVENTS = [
    ticket("T1", "opened", "2026-10-05T10:00:00Z", event_id="t1-open"),
    ticket("T1", "responded", "2026-10-05T10:30:00Z", event_id="t1-reply"),
    ticket("T1", "responded", "2026-10-05T11:00:00Z", event_id="t1-again"),  # not its first
    ticket("T2", "opened", "2026-10-06T10:00:00Z", event_id="t2-open"),
    ticket("T2", "responded", "2026-10-06T11:30:00Z", event_id="t2-reply"),  # 90 min: late
    ticket("T3", "opened", "2026-10-07T10:00:00Z", event_id="t3-open"),  # never answered
    ticket("T4", "opened", "2026-10-08T10:00:00Z", priority="P3", event_id="t4-open"),
    ticket("T5", "opened", "2026-10-31T22:30:00Z", event_id="t5-open"),  # 23:30 CET: October
    ticket("T5", "responded", "2026-10-31T23:20:00Z", event_id="t5-reply"),  # in November, on time
    ticket("T6", "opened", "2026-11-03T10:00:00Z", event_id="t6-open"),  # the clock: October final
]


def test_a_response_month_from_its_events() -> None:
    explanation = explain_from_events([RESPONSE_CONTRACT], "acme", "p1-response", "2026-10", RESPONSE_EVENTS)
    tickets = {events: text for text, events in steps(explanation, "Tickets")}
    assert tickets[("t1-open", "t1-reply")].endswith(
        "responded 2026-10-05 12:30:00+02:00 (2026-10-05 10:30:00Z), on time."
    )
    assert "deadline 2026-10-06 13:00:00+02:00 (2026-10-06 11:00:00Z)" in tickets[("t2-open", "t2-reply")]
    assert tickets[("t2-open", "t2-reply")].endswith("missed.")
    assert tickets[("t3-open",)].endswith("not responded, missed.")
    assert tickets[("t4-open",)] == "Not counted: T4 has priority P3."
    assert tickets[("t5-open", "t5-reply")].endswith("on time.")
    assert ("Counted 4, on time 2, missed 2.", ()) in steps(explanation, "Tickets")
    arithmetic = [text for text, _ in steps(explanation, "Arithmetic")]
    # 100 x 2 / 4 = 50 < 90: missed, tier 5% -> 5% of 12,000.00 EUR = 600.00 EUR
    assert arithmetic[0] == "attained = 100 × 2 / 4."
    assert arithmetic[1].startswith("Attained 50.000% against the target 90%: missed")
    assert amount(explanation).startswith("Amount: 12,000.00 EUR × 5 / 100 = 600.00 EUR")


def test_the_ledger_gives_the_same_arithmetic(tmp_path: Path) -> None:
    lines = UPTIME_EVENTS
    engine = Engine([UPTIME_CONTRACT], timedelta(hours=1))
    for line in lines:
        engine.apply(decode_event(line))
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", [UPTIME_CONTRACT])
    try:
        ledger.record_details([d.to_record() for d in engine.clause_details()])
        ledger.write_results(r.to_record() for r in engine.results())
        records = ledger.read_results("acme")
        details = ledger.read_details("acme", "2026-10")["api-uptime"]
    finally:
        ledger.close()
    from_ledger = explain_from_ledger(UPTIME_CONTRACT, "api-uptime", "2026-10", records, details)
    from_events = explain_from_events([UPTIME_CONTRACT], "acme", "api-uptime", "2026-10", lines)
    assert steps(from_ledger, "Arithmetic") == steps(from_events, "Arithmetic")
    assert steps(from_ledger, "Credit owed") == steps(from_events, "Credit owed")
    # the ledger keeps the announcements with their ids: the same windows, with their sources
    assert steps(from_ledger, "Excluded windows") == steps(from_events, "Excluded windows")
    assert {("maint-a1",), ("maint-a2",)} <= {events for _, events in steps(from_ledger, "Excluded windows")}
    # the two outages that count, with the ids at their edges (the ledger keeps no ignored ones)
    counted = [step for step in steps(from_events, "Outages counted") if not step[0].startswith("Ignored")]
    assert steps(from_ledger, "Outages counted") == counted
    assert [events for _, events in counted] == [("down-2", "up-2"), ("down-1", "up-1")]
    with pytest.raises(ExplainError, match="no details of api-uptime in 2026-10"):
        explain_from_ledger(UPTIME_CONTRACT, "api-uptime", "2026-10", records, None)


def test_every_clause_of_the_sample_stream_is_explained_as_the_engine_computed_it() -> None:
    # explain checks its derivation against the engine's result and raises if they differ
    contracts = load_contracts(DEFAULT_CONTRACTS).contracts
    lines = [orjson.dumps(e) for e in sample_events()]
    for c in contracts:
        for clause in c.clauses:
            explanation = explain_from_events(contracts, c.id, clause.id, "2026-10", lines)
            assert explanation.sections[-1].heading == "Credit owed"


def test_bad_requests_are_named() -> None:
    with pytest.raises(ExplainError, match="has no clause 'nope'"):
        explain_from_events([UPTIME_CONTRACT], "acme", "nope", "2026-10", UPTIME_EVENTS)
    with pytest.raises(ExplainError, match="unknown contract 'other'"):
        explain_from_events([UPTIME_CONTRACT], "other", "api-uptime", "2026-10", UPTIME_EVENTS)
    with pytest.raises(ExplainError, match="2025-12 is outside the dates"):
        explain_from_events([UPTIME_CONTRACT], "acme", "api-uptime", "2025-12", UPTIME_EVENTS)
    with pytest.raises(ExplainError, match="no result for api-uptime of acme in 2026-12"):
        explain_from_events([UPTIME_CONTRACT], "acme", "api-uptime", "2026-12", UPTIME_EVENTS)


def slamon(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor.cli", *args], capture_output=True, text=True, cwd=REPO, timeout=120
    )


def test_the_command_explains_from_a_file_and_from_a_ledger(tmp_path: Path) -> None:
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"".join(orjson.dumps(e) + b"\n" for e in sample_events()))
    flags = ("--contract", "acme-hosting", "--clause", "api-uptime", "--period", "2026-10")
    contracts = ("--contracts", str(DEFAULT_CONTRACTS))
    result = slamon("explain", *flags, *contracts, "--events", str(events), "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    outages = next(s for s in document["sections"] if s["heading"] == "Outages counted")
    # the sample's api outages of October: 14 Oct 08:00Z-10:30Z and 27 Oct 19:00Z-21:00Z
    assert [step["events"] for step in outages["steps"]] == [
        ["api-20261014T080000", "api-20261014T103000"],
        ["api-20261027T190000", "api-20261027T210000"],
    ]
    text = slamon("explain", *flags, *contracts, "--events", str(events)).stdout
    assert "events: api-20261014T080000, api-20261014T103000" in text
    missing = tmp_path / "none.db"
    result = slamon("explain", *flags, *contracts, "--database", f"sqlite:///{missing}")
    assert result.returncode == 2 and "no ledger at" in result.stderr and not missing.exists()
    result = slamon(
        "explain", *flags[:2], "--clause", "nope", "--period", "2026-10", *contracts, "--events", str(events)
    )
    assert result.returncode == 2 and "has no clause 'nope'" in result.stderr


def test_a_clock_before_the_month_has_nothing_to_explain() -> None:
    early = datetime(2026, 10, 1, tzinfo=UTC)
    with pytest.raises(ExplainError, match="no result"):
        explain_from_events([RESPONSE_CONTRACT], "acme", "p1-response", "2026-11", RESPONSE_EVENTS[:2], early)
    assert Fraction(2090, 21) == Fraction(4389000, 44100)  # the uptime case's reduction


def test_an_amended_month_is_explained_under_the_terms_then_in_force() -> None:
    # "Fee increase" from 1 Oct 2026: 12,000.00 -> 20,000.00 EUR. The uptime case misses its
    # 99.6% target in October (2090/21 %), tier 5%: 5% of 20,000.00 = 1,000.00 EUR.
    document = UPTIME_CONTRACT.model_dump(mode="json", exclude_none=True)
    document["amendments"] = [
        {"effective_from": "2026-10-01", "title": "Fee increase", "monthly_fee": "20000.00"}
    ]
    amended = type(UPTIME_CONTRACT).model_validate(document)
    explanation = explain_from_events([amended], "acme", "api-uptime", "2026-10", UPTIME_EVENTS)
    terms = [text for text, _ in steps(explanation, "Terms in force")]
    assert "In force in 2026-10: the amendment 'Fee increase'." in terms
    assert "Monthly fee 20,000.00 EUR." in terms
    assert amount(explanation).startswith("Amount: 20,000.00 EUR × 5 / 100 = 1,000.00 EUR")


def test_a_chronic_clause_shows_the_months_that_make_it_chronic() -> None:
    # missed in 2 of the last 3 months adds 7%: September (5 h down of 720 h: 99.31% < 99.6)
    # and October (2090/21 % < 99.6) -> October: tier 5% + 7% = 12% of 12,000.00 = 1,440.00 EUR
    document = UPTIME_CONTRACT.model_dump(mode="json", exclude_none=True)
    document["clauses"][0]["chronic"] = {"missed": 2, "of_last": 3, "credit_percent": 7}
    chronic = type(UPTIME_CONTRACT).model_validate(document)
    september = [
        status("2026-09-10T00:00:00Z", "down", event_id="sep-down"),
        status("2026-09-10T05:00:00Z", "up", event_id="sep-up"),
    ]
    events = [*september, *UPTIME_EVENTS]  # in time order
    explanation = explain_from_events([chronic], "acme", "api-uptime", "2026-10", events)
    arithmetic = [text for text, _ in steps(explanation, "Arithmetic")]
    assert "Chronic: missed in 2 of the last 3 months (2026-09, 2026-10): adds 7%." in arithmetic
    assert "Clause credit: 12% of the monthly fee." in arithmetic
    assert amount(explanation).startswith("Amount: 12,000.00 EUR × 12 / 100 = 1,440.00 EUR")


# the month's money under the credit rules (SPEC.md section 12) ------------------------------


def credit_steps(explanation: Explanation) -> list[str]:
    return [text for text, _ in steps(explanation, "Credit owed")]


def replayed(terms: Contract, lines: list[str]) -> Engine:
    engine = Engine([terms], timedelta(hours=1))
    for line in lines:
        engine.apply(decode_event(line))
    return engine


def from_ledger(
    tmp_path: Path, terms: Contract, lines: list[str], clause_id: str, period: str
) -> Explanation:
    """Explain from a ledger written the live worker's way: clause records and details only;
    the ledger computes the contract records itself (``record_clause_results``)."""
    engine = replayed(terms, lines)
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", [terms])
    try:
        ledger.record_details([d.to_record() for d in engine.clause_details()])
        ledger.record_clause_results(
            [r.to_record() for r in engine.results() if r.to_record()["record"] == "clause"]
        )
        records = ledger.read_results(terms.id)
        details = ledger.read_details(terms.id, period)[clause_id]
    finally:
        ledger.close()
    return explain_from_ledger(terms, clause_id, period, records, details)


MIN_CREDIT_CONTRACT = Contract.model_validate(
    plain_document(  # UTC, from 2026-01-01
        monthly_fee="1234.50",
        credit_cap_percent=3,
        credit_rules={"min_credit_amount": "50.00", "annual_cap_percent": 10},
        clauses=[
            uptime("up", "api", 99.5, credits=[{"below_percent": 99.5, "credit_percent": 2}]),
            uptime("web-up", "web", 99.5, credits=[{"below_percent": 99.5, "credit_percent": 1.5}]),
        ],
    )
)
MIN_CREDIT_EVENTS = [  # in time order
    *outage("2026-02-10T00:00:00+00:00", "2026-02-11T00:00:00+00:00", "api"),
    *outage("2026-02-12T00:00:00+00:00", "2026-02-13T00:00:00+00:00", "web"),
    status("2026-03-01T02:00:00+00:00", "up", TICK_SERVICE, "tick"),  # February final
]
MIN_CREDIT_STEPS = [
    # February 672 h; each service down 24 h: 100 x 648 / 672 = 96.43% < 99.5 -> both tiers
    "Contract credit before the cap: 2% (up) + 1.5% (web-up) = 3.5%.",
    "Capped at 3% (credit_cap_percent).",
    # 1234.50 x 3 / 100 = 37.035 -> half-up to the cent: 37.04
    "Amount: 1,234.50 EUR × 3 / 100 = 37.04 EUR (exactly 37.035 EUR, half-up to 2 decimals).",
    # 37.04 < 50.00: nothing is owed
    "Minimum credit 50.00 EUR: 37.04 EUR is below it, so 0.00 EUR is owed (min_credit).",
    "The contract year from 2026-01-01 until 2027-01-01 (exclusive; year 1 of the contract) holds "
    "the periods starting in it: 2026-02 starts on 2026-02-01.",
    # 10 x 12 x 1234.50 / 100 = 1481.40
    "Annual cap: 10 × 12 × 1,234.50 EUR / 100 = 1,481.40 EUR (half-up to 2 decimals).",
    "Owed in the earlier months of that contract year: none (0.00 EUR).",  # January: no outage
    "Left of the cap: 1,481.40 EUR − 0.00 EUR = 1,481.40 EUR.",
    "Owed: max(0, min(0.00 EUR, 1,481.40 EUR)) = 0.00 EUR: within the cap.",
    "Credit owed for 2026-02: 0.00 EUR; adjustments: min_credit.",
]


def test_a_month_below_the_minimum_credit_owes_nothing(tmp_path: Path) -> None:
    lines = MIN_CREDIT_EVENTS
    from_events = explain_from_events([MIN_CREDIT_CONTRACT], "acme", "up", "2026-02", lines)
    assert credit_steps(from_events) == MIN_CREDIT_STEPS
    terms = [text for text, _ in steps(from_events, "Terms in force")]
    assert (
        "Credit rules: minimum credit 50.00 EUR; annual cap 10% of 12 monthly fees per contract year."
        in terms
    )
    # the other clause's explanation ends in the same money
    other = explain_from_events([MIN_CREDIT_CONTRACT], "acme", "web-up", "2026-02", lines)
    assert credit_steps(other) == MIN_CREDIT_STEPS
    ledger = from_ledger(tmp_path, MIN_CREDIT_CONTRACT, lines, "up", "2026-02")
    assert credit_steps(ledger) == MIN_CREDIT_STEPS


# a contract year from 20 July: July 2026 starts on the 1st, so it is still in the first year
ANNUAL_CAP_CONTRACT = Contract.model_validate(
    plain_document(
        effective_from="2025-07-20",
        credit_rules={"annual_cap_percent": 4},
        clauses=[uptime("up", "api", 99.5, credits=[{"below_percent": 99.5, "credit_percent": 15}])],
    )
)
ANNUAL_CAP_EVENTS = [  # a day down on the 10th of four months, in time order
    *(
        line
        for month in ("2025-08", "2025-09", "2025-10", "2026-07")
        for line in outage(f"{month}-10T00:00:00+00:00", f"{month}-11T00:00:00+00:00")
    ),
    status("2026-08-01T02:00:00+00:00", "up", TICK_SERVICE, "tick"),  # July final
]
ANNUAL_CAP_STEPS = [
    # July 744 h, 24 h down: 100 x 720 / 744 = 96.77% < 99.5 -> 15%
    "Contract credit before the cap: 15% (up) = 15%.",
    "No credit cap: the percent stays as summed.",
    "Amount: 1,000.00 EUR × 15 / 100 = 150.00 EUR (exact: nothing to round).",
    "No minimum credit in force.",
    # periods starting in [2025-07-20, 2026-07-20): 2025-07 (from the 20th) to 2026-07
    "The contract year from 2025-07-20 until 2026-07-20 (exclusive; year 1 of the contract) holds "
    "the periods starting in it: 2026-07 starts on 2026-07-01.",
    # 4 x 12 x 1000.00 / 100 = 480.00
    "Annual cap: 4 × 12 × 1,000.00 EUR / 100 = 480.00 EUR (half-up to 2 decimals).",
    # August (744 h), September (720 h), October (744 h, UTC), each 24 h down: all below 99.5%
    # -> 15% of 1000.00 = 150.00 each, none capped: 150 + 150 + 150 = 450
    "Owed in the earlier months of that contract year: "
    "150.00 EUR (2025-08) + 150.00 EUR (2025-09) + 150.00 EUR (2025-10) = 450.00 EUR.",
    "Left of the cap: 480.00 EUR − 450.00 EUR = 30.00 EUR.",
    # min(150, 30) = 30
    "Owed: max(0, min(150.00 EUR, 30.00 EUR)) = 30.00 EUR: the annual cap cuts it (annual_cap).",
    "Credit owed for 2026-07: 30.00 EUR; adjustments: annual_cap.",
]


def test_the_annual_cap_cuts_the_last_month_of_a_contract_year_that_starts_mid_month(tmp_path: Path) -> None:
    lines = ANNUAL_CAP_EVENTS
    from_events = explain_from_events([ANNUAL_CAP_CONTRACT], "acme", "up", "2026-07", lines)
    assert credit_steps(from_events) == ANNUAL_CAP_STEPS
    ledger = from_ledger(tmp_path, ANNUAL_CAP_CONTRACT, lines, "up", "2026-07")
    assert credit_steps(ledger) == ANNUAL_CAP_STEPS


def test_a_recorded_amount_the_rules_do_not_give_is_refused() -> None:
    # the ledger's contract record says 150.00 owed in July: the cap leaves only 30.00 (above)
    engine = replayed(ANNUAL_CAP_CONTRACT, ANNUAL_CAP_EVENTS)
    records = [r.to_record() for r in engine.results()]
    details = next(d.to_record() for d in engine.clause_details() if d.to_record()["period"] == "2026-07")
    july = next(r for r in records if r["record"] == "contract" and r["period"] == "2026-07")
    july.update(credit_amount="150.00", adjustments=[])
    with pytest.raises(ExplainError, match=r"the credit owed .* disagrees with the recorded result"):
        explain_from_ledger(ANNUAL_CAP_CONTRACT, "up", "2026-07", records, details)
