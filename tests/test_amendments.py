"""The contract's life (SPEC.md section 12): amendments, chronic failure and credit rules.

Hand-computed: every expected figure is derived in the comment above it. Contracts are in UTC
so a month is a plain number of hours: January 744 h, February 672 h, March 744 h, April 720 h.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import orjson
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.contract import Contract
from monitor.engine import Engine
from monitor.engine.credits import contract_records
from monitor.engine.snapshot import export_state, restore_state
from monitor.loader import load_contract_file
from monitor.statements.build import build_statement
from monitor.statements.render import render
from tests.builders import outage, plain_document, run
from tests.reference import reference_records
from tests.test_properties import LATENESS, scenarios, within_lateness
from tests.test_properties import run as engine_results

TIER_10 = [{"below_percent": 99.5, "credit_percent": 10}]


def make(clauses: list[dict[str, Any]] | None = None, **overrides: Any) -> Contract:
    return Contract.model_validate(plain_document(clauses=clauses or [up()], **overrides))


def up(clause_id: str = "up", service: str = "api", **extra: Any) -> dict[str, Any]:
    return {
        "id": clause_id,
        "kind": "uptime",
        "service": service,
        "target_percent": 99.5,
        "credits": TIER_10,
        **extra,
    }


def day_down(month: str, service: str = "api", hours: int = 24) -> list[str]:
    """``hours`` of downtime from the 10th of ``month`` at 00:00 UTC."""
    start = f"{month}-10T00:00:00+00:00"
    end = f"{month}-{10 + hours // 24:02d}T{hours % 24:02d}:00:00+00:00"
    return outage(start, end, service)


# the annual cap, in a contract year that starts mid-month ------------------------------------


def test_the_annual_cap_is_reached_in_a_contract_year_that_starts_mid_month() -> None:
    contract = make(
        clauses=[up(credits=[{"below_percent": 99.5, "credit_percent": 25}])],
        effective_from="2026-01-15",
        credit_rules={"annual_cap_percent": 5},
    )
    months = ["2026-01", "2026-02", "2026-03", "2027-01", "2027-02"]
    # 2026-01 runs from the 15th: its outage is on the 20th, the others on the 10th
    events = outage("2026-01-20T00:00:00+00:00", "2026-01-21T00:00:00+00:00")
    events += [line for month in months[1:] for line in day_down(month)]
    result = run(contract, sorted(events), as_of="2027-03-01T02:00:00+00:00")
    # cap = 5 x 12 x 1000.00 / 100 = 600.00 per contract year.
    # every breached month: 24 h down in at most 744 h is below 99.5 -> 25% of 1000.00 = 250.00
    # year 0 = periods starting in [2026-01-15, 2027-01-15): 2026-01 (from the 15th) ... 2027-01
    # (it starts on 2027-01-01, before 2027-01-15), 13 periods; year 1 starts with 2027-02.
    owed = {p: result.contract(p)["credit_amount"] for p in months}
    adjustments = {p: result.contract(p)["adjustments"] for p in months}
    # 2026-01: 250.00 (250 of 600 used); 2026-02: 250.00 (500 used)
    assert owed["2026-01"] == owed["2026-02"] == "250.00"
    # 2026-03: min(250.00, 600 - 500) = 100.00, cut by the cap
    assert owed["2026-03"] == "100.00"
    assert adjustments["2026-03"] == ["annual_cap"]
    # 2027-01 is still year 0, which is used up: max(0, min(250, 600 - 600)) = 0
    assert owed["2027-01"] == "0.00"
    assert adjustments["2027-01"] == ["annual_cap"]
    # 2027-02 starts year 1: 250.00 of a fresh 600.00
    assert owed["2027-02"] == "250.00"
    assert adjustments["2027-02"] == adjustments["2026-01"] == []
    # the percent stays what the clauses and the monthly cap give: 25
    assert result.contract("2027-01")["credit_percent"] == 25.0
    # a month without credit in between is not adjusted
    assert result.contract("2026-06")["credit_amount"] == "0.00"
    assert result.contract("2026-06")["adjustments"] == []


# a minimum credit in JPY -------------------------------------------------------------------


def test_a_minimum_credit_in_jpy_applies_to_the_rounded_amount() -> None:
    contract = make(
        clauses=[
            up(
                credits=[
                    {"below_percent": 99.5, "credit_percent": 3},
                    {"below_percent": 99.9, "credit_percent": 2},
                ]
            )
        ],
        currency="JPY",
        monthly_fee="123457",
        credit_rules={"min_credit_amount": "3704"},
    )
    events = day_down("2026-01", hours=4) + day_down("2026-02", hours=1)
    result = run(contract, sorted(events), as_of="2026-03-01T02:00:00+00:00")
    # January: (744 - 4) / 744 = 99.462% < 99.5 -> 3%; 123457 x 3 / 100 = 3703.71 -> half-up to
    # the yen: 3704, not below the minimum 3704 -> owed 3704 (compared before rounding, it would be 0)
    assert result.clause("up", "2026-01")["credit_percent"] == 3.0
    assert result.contract("2026-01")["credit_amount"] == "3704"
    assert result.contract("2026-01")["adjustments"] == []
    # February: (672 - 1) / 672 = 99.851%: only below 99.9 -> 2%; 123457 x 2 / 100 = 2469.14 -> 2469,
    # below 3704 -> 0 owed
    assert result.clause("up", "2026-02")["credit_percent"] == 2.0
    assert result.contract("2026-02")["credit_amount"] == "0"
    assert result.contract("2026-02")["adjustments"] == ["min_credit"]
    assert result.contract("2026-02")["currency"] == "JPY"


# a chronic month ---------------------------------------------------------------------------


def test_a_chronic_month_adds_its_credit_and_remedy_even_when_met() -> None:
    chronic = {"missed": 2, "of_last": 3, "credit_percent": 5, "remedy": "termination_right"}
    contract = make(clauses=[up(chronic=chronic)])
    events = day_down("2026-01") + day_down("2026-02")
    result = run(contract, sorted(events), as_of="2026-05-01T02:00:00+00:00")
    rows = {p: result.clause("up", p) for p in ["2026-01", "2026-02", "2026-03", "2026-04"]}
    # January missed; window [Jan] has 1 miss < 2: not chronic; tier 10% -> 100.00
    assert (rows["2026-01"]["chronic"], rows["2026-01"]["credit_percent"]) == (False, 10.0)
    assert result.contract("2026-01")["credit_amount"] == "100.00"
    # February missed; window [Jan, Feb] (fewer at the start) has 2 misses: chronic; 10 + 5 = 15%
    assert (rows["2026-02"]["chronic"], rows["2026-02"]["credit_percent"]) == (True, 15.0)
    assert rows["2026-02"]["remedies"] == ["termination_right"]
    assert result.contract("2026-02")["credit_amount"] == "150.00"
    # March met, but window [Jan, Feb, Mar] still has 2 misses: chronic; 0 + 5 = 5% -> 50.00
    assert rows["2026-03"]["met"] is True
    assert (rows["2026-03"]["chronic"], rows["2026-03"]["credit_percent"]) == (True, 5.0)
    assert rows["2026-03"]["remedies"] == ["termination_right"]
    assert result.contract("2026-03")["credit_amount"] == "50.00"
    # April: window [Feb, Mar, Apr] has 1 miss: not chronic, nothing owed
    assert (rows["2026-04"]["chronic"], rows["2026-04"]["credit_percent"]) == (False, 0.0)
    assert rows["2026-04"]["remedies"] == []


# a clause removed and re-added by amendments ------------------------------------------------


def standing(record: dict[str, Any]) -> tuple[int, bool, float]:
    return record["consecutive_breaches"], record["chronic"], record["credit_percent"]


def test_a_clause_removed_and_re_added_by_amendments() -> None:
    consecutive = {"periods": 2, "credit_percent": 10, "remedy": "contract_review"}
    chronic = {"missed": 2, "of_last": 3, "credit_percent": 5, "remedy": "termination_right"}
    tracked = up(consecutive=consecutive, chronic=chronic)
    other = up("web", service="web")
    contract = make(
        clauses=[tracked, other],
        amendments=[
            {"effective_from": "2026-03-01", "title": "Amendment No. 1", "clauses": [other]},
            {"effective_from": "2026-04-01", "title": "Amendment No. 2", "clauses": [tracked, other]},
        ],
    )
    events = day_down("2026-01") + day_down("2026-02") + day_down("2026-03") + day_down("2026-04")
    result = run(contract, sorted(events), as_of="2026-05-01T02:00:00+00:00")
    # January: missed, 1 in a row, window [Jan] 1 miss: tier 10%
    january = result.clause("up", "2026-01")
    assert standing(january) == (1, False, 10.0)
    assert january["terms"] == "base"
    # February: 2 in a row (+10), window [Jan, Feb] 2 misses: chronic (+5): 10 + 10 + 5 = 25%
    february = result.clause("up", "2026-02")
    assert standing(february) == (2, True, 25.0)
    assert february["remedies"] == ["contract_review", "termination_right"]
    # March: Amendment No. 1 removed the clause: no record, though the service was down
    assert result.periods("up") == ["2026-01", "2026-02", "2026-04", "2026-05"]
    assert result.clause("web", "2026-03")["terms"] == "Amendment No. 1"
    assert result.contract("2026-03")["terms"] == "Amendment No. 1"
    # April: re-added. March ended the chain: 1 in a row, not 3, so no consecutive credit.
    # Window [Feb, Mar, Apr]: Mar counts as not missed -> 2 misses: chronic; 10 + 5 = 15%
    april = result.clause("up", "2026-04")
    assert (april["consecutive_breaches"], april["chronic"], april["credit_percent"]) == (1, True, 15.0)
    assert april["remedies"] == ["termination_right"]
    assert april["terms"] == result.contract("2026-04")["terms"] == "Amendment No. 2"
    # contract money: Feb 25% (up) + 0% (web, always up) = 250.00; Apr 15% = 150.00
    assert result.contract("2026-02")["credit_amount"] == "250.00"
    assert result.contract("2026-04")["credit_amount"] == "150.00"


# a fee amendment ---------------------------------------------------------------------------


def test_a_fee_amendment_prices_its_months_and_their_annual_cap() -> None:
    contract = make(
        credit_rules={"annual_cap_percent": 1},
        amendments=[{"effective_from": "2026-02-01", "title": "Fee increase", "monthly_fee": "2000.00"}],
    )
    events = day_down("2026-01") + day_down("2026-02")
    result = run(contract, sorted(events), as_of="2026-03-01T02:00:00+00:00")
    # January, base terms: 10% of 1000.00 = 100.00; cap 1 x 12 x 1000.00 / 100 = 120.00, 100 used
    assert result.contract("2026-01")["credit_amount"] == "100.00"
    assert result.contract("2026-01")["terms"] == "base"
    # February, the fee amendment: 10% of 2000.00 = 200.00; its cap 1 x 12 x 2000.00 / 100 = 240.00,
    # 240 - 100 = 140.00 left in the contract year -> 140.00, cut by the cap
    february = result.contract("2026-02")
    assert (february["credit_amount"], february["adjustments"]) == ("140.00", ["annual_cap"])
    assert february["terms"] == result.clause("up", "2026-02")["terms"] == "Fee increase"


# the ledger's contract records follow the same rules ------------------------------------------


def test_contract_records_from_clause_records_follow_the_terms_and_rules() -> None:
    contract = make(
        credit_rules={"annual_cap_percent": 1},
        amendments=[{"effective_from": "2026-02-01", "title": "Fee increase", "monthly_fee": "2000.00"}],
    )
    events = day_down("2026-01") + day_down("2026-02")
    replayed = run(contract, sorted(events), as_of="2026-03-01T02:00:00+00:00").report.records
    clause_rows = [r for r in replayed if r["record"] == "clause"]
    assert contract_records(contract, clause_rows) == [r for r in replayed if r["record"] == "contract"]


# properties --------------------------------------------------------------------------------


def _without_terms(records: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k != "terms"} for r in records]


@settings(max_examples=60)
@given(scenarios(), st.data())
def test_a_contract_without_the_new_keys_gives_todaysengine_results(scenario, data) -> None:
    """The brute force of sections 4-5 knows nothing of section 12: its figures, with the new
    fields at their neutral values (never chronic, no adjustments, the base terms)."""
    chosen, events = scenario
    arrival = within_lateness(data.draw, events) if data.draw(st.booleans()) else events
    assert engine_results(chosen, arrival) == reference_records(chosen, arrival, LATENESS)


def _runs_across(contract: Contract, month: str) -> bool:
    ends = contract.effective_to
    return contract.effective_from.isoformat() < month and (ends is None or ends.isoformat() > month)


def restated(contract: Contract, month: str) -> Contract:
    """The contract with an amendment from ``month`` that repeats its clauses and fee."""
    document = contract.model_dump(mode="json")
    amendment = {
        "effective_from": month,
        "title": "restated",
        "clauses": document["clauses"],
        "monthly_fee": document["monthly_fee"],
    }
    return Contract.model_validate(document | {"amendments": [amendment]})


@settings(max_examples=60)
@given(scenarios(), st.data())
def test_an_amendment_that_restates_the_terms_changes_nothing_but_their_name(scenario, data) -> None:
    """Splitting every contract's clauses into two sets of terms at any month must not change a
    figure: counts follow the clause id, the money the same rules."""
    chosen, events = scenario
    month = data.draw(st.sampled_from(["2026-03-01", "2026-04-01", "2026-05-01"]))
    amended = [restated(c, month) if _runs_across(c, month) else c for c in chosen]
    assert _without_terms(engine_results(amended, events)) == _without_terms(engine_results(chosen, events))


# bad amendments are refused with file and field --------------------------------------------


@pytest.mark.parametrize(
    ("amendment", "field", "words"),
    [
        ({"timezone": "UTC"}, "amendments[0].timezone", "cannot be amended"),
        ({"currency": "USD"}, "amendments[0].currency", "cannot be amended"),
        ({"id": "x"}, "amendments[0].id", "cannot be amended"),
        ({"customer": "x"}, "amendments[0].customer", "cannot be amended"),
        ({"effective_to": "2027-01-01"}, "amendments[0].effective_to", "cannot be amended"),
        (
            {"effective_from": "2026-03-02", "monthly_fee": 1},
            "amendments[0].effective_from",
            "1st of a month",
        ),
        (
            {"effective_from": "2026-01-01", "monthly_fee": 1},
            "amendments[0].effective_from",
            "after effective_from",
        ),
        ({"title": None, "monthly_fee": 1}, "amendments[0].title", "valid string"),
        ({}, "amendments[0]", "amends nothing"),
        ({"monthly_fee": None}, "amendments[0].monthly_fee", "must not be null"),
        ({"clauses": []}, "amendments[0].clauses", "at least 1"),
        (
            {"clauses": [{"id": "x", "kind": "uptime", "target_percent": 1}]},
            "amendments[0].clauses[0].service",
            "required",
        ),
        ({"calendars": None}, "amendments[0].calendars", "must not be null"),
        ({"nickname": "x"}, "amendments[0].nickname", "Extra inputs"),
    ],
)
def test_bad_amendments_are_refused_with_the_field(tmp_path, amendment, field, words) -> None:
    document = make().model_dump(mode="json") | {
        "amendments": [{"effective_from": "2026-03-01", "title": "A"} | amendment]
    }
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(document))
    contract, problems = load_contract_file(path)
    assert contract is None
    assert [(p.file, p.field) for p in problems] == [(str(path), field)]
    assert words in problems[0].message


@settings(max_examples=40)
@given(scenarios(), st.data())
def test_an_amended_engine_persists_and_restores_each_set_of_terms(scenario, data) -> None:
    """Stop anywhere, persist the state as JSON, restore it and go on: each amendment's clause
    states are saved under their own key."""
    chosen, events = scenario
    month = data.draw(st.sampled_from(["2026-03-01", "2026-04-01"]))
    amended = [restated(c, month) if _runs_across(c, month) else c for c in chosen]
    cut = data.draw(st.integers(0, len(events)))
    engine = Engine(amended, LATENESS)
    for event in events[:cut]:
        engine.apply(event)
    restored = Engine(amended, LATENESS)
    restore_state(restored, orjson.loads(orjson.dumps(export_state(engine))))
    for event in events[cut:]:
        restored.apply(event)
    assert [r.to_record() for r in restored.results()] == engine_results(amended, events)


# statements ---------------------------------------------------------------------------------


def test_a_statement_names_the_terms_in_force_and_each_adjustment() -> None:
    contract = make(
        credit_rules={"annual_cap_percent": 1},
        amendments=[{"effective_from": "2026-02-01", "title": "Fee increase", "monthly_fee": "2000.00"}],
    )
    events = day_down("2026-01") + day_down("2026-02")
    records = run(contract, sorted(events), as_of="2026-03-01T02:00:00+00:00").report.records
    generated = datetime(2026, 3, 2, tzinfo=UTC)
    february = build_statement(contract, "2026-02", records, {}, generated)
    # February is evaluated under the fee amendment: fee 2000.00, 10% -> 200.00 before the rules;
    # the cap 1% x 12 x 2000.00 = 240.00 leaves 240 - 100 (January) = 140.00
    assert february.terms == "Fee increase (in force from 2026-02-01)"
    assert february.monthly_fee == Decimal("2000.00")
    assert february.amount_before_rules == Decimal("200.00")
    assert february.adjustments == [
        "Annual cap: 1% of 12 monthly fees is 240.00 EUR for the contract year from 2026-01-01; "
        "140.00 EUR of it was left for this month"
    ]
    markdown = render(february, "md")
    assert "- **Terms in force:** Fee increase (in force from 2026-02-01)" in markdown
    assert "| Amount before the credit rules | 200.00 EUR |" in markdown
    assert "140.00 EUR of it was left for this month" in render(february, "html")
    january = build_statement(contract, "2026-01", records, {}, generated)
    # January: base terms, 100.00 owed, nothing adjusted
    assert (january.terms, january.amount_before_rules, january.adjustments) == (
        "the base terms of the contract",
        None,
        [],
    )
