"""Contract files with business calendars (SPEC.md section 10): what loads, and what is refused
with the file, the field path and the problem."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from monitor.loader import load_contract_file
from monitor.wording import clause_words
from tests.test_contract_loader import BASE, only_problem, write

CALENDAR: dict[str, Any] = {
    "hours": {"mon-fri": ["08:00-12:00", "13:00-17:30"], "sat": "09:00-13:00"},
    "holidays": {"country": "DE", "subdivision": "BE", "dates": ["2026-12-24"]},
}


def with_calendar(definition: dict[str, Any] | None = None, **clause: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data["calendars"] = {"support-hours": definition if definition is not None else copy.deepcopy(CALENDAR)}
    data["clauses"][1].update({"calendar": "support-hours", "pausable": True, **clause})
    return data


def test_a_calendar_clause_loads_with_its_defaults(tmp_path: Path) -> None:
    contract, problems = load_contract_file(write(tmp_path, "c.yaml", with_calendar()))
    assert problems == [] and contract is not None
    clause = contract.clauses[1]
    assert (clause.calendar, clause.pausable, clause.settle_after.days) == ("support-hours", True, 30)
    week = contract.calendars["support-hours"].week()
    assert week[0] == ((8 * 60, 12 * 60), (13 * 60, 17 * 60 + 30)) and week[5] == ((9 * 60, 13 * 60),)
    assert week[6] == ()  # unlisted: closed


def test_dates_alone_and_a_24_00_end_are_fine(tmp_path: Path) -> None:
    calendar = {"hours": {"sun": ["20:00-24:00"]}, "holidays": {"dates": ["2026-12-27"]}}
    _, problems = load_contract_file(write(tmp_path, "c.yaml", with_calendar(calendar)))
    assert problems == []


@pytest.mark.parametrize(
    ("calendar", "field", "message"),
    [
        (
            {"hours": {"mon": ["08:00-12:00", "11:30-13:00"]}},
            "calendars.support-hours.hours.mon",
            "ranges overlap: 08:00-12:00, 11:30-13:00",
        ),
        (
            {"hours": {"mon-fri": "08:00-12:00", "wed": "13:00-14:00"}},
            "calendars.support-hours.hours.wed",
            "named twice",
        ),
        (
            {"hours": {"mon": "12:00-08:00"}},
            "calendars.support-hours.hours.mon",
            "start must be before the end",
        ),
        ({"hours": {"mon": "08:00-24:30"}}, "calendars.support-hours.hours.mon", "invalid range"),
        ({"hours": {"mon": ["08:00-09:00", "8-9"]}}, "calendars.support-hours.hours.mon[1]", "invalid range"),
        ({"hours": {"fri-mon": "08:00-09:00"}}, "calendars.support-hours.hours.fri-mon", "week order"),
        ({"hours": {"monday": "08:00-09:00"}}, "calendars.support-hours.hours.monday", "unknown day"),
        ({"hours": {}}, "calendars.support-hours.hours", "never open"),
        ({"hours": {"mon": []}}, "calendars.support-hours.hours", "never open"),
        (
            {"hours": {"mon": "08:00-09:00"}, "holidays": {"country": "XX"}},
            "calendars.support-hours.holidays.country",
            "unknown country 'XX'",
        ),
        (
            {"hours": {"mon": "08:00-09:00"}, "holidays": {"country": "DE", "subdivision": "ZZ"}},
            "calendars.support-hours.holidays.subdivision",
            "unknown subdivision 'ZZ' of DE",
        ),
        (
            {"hours": {"mon": "08:00-09:00"}, "holidays": {"subdivision": "BE"}},
            "calendars.support-hours.holidays.subdivision",
            "needs a country",
        ),
        (
            {"hours": {"mon": "08:00-09:00"}, "holidays": {"region": "BE"}},
            "calendars.support-hours.holidays.region",
            "Extra inputs are not permitted",
        ),
    ],
)
def test_bad_calendars_are_refused_naming_the_field(
    tmp_path: Path, calendar: dict[str, Any], field: str, message: str
) -> None:
    problem = only_problem(write(tmp_path, "c.yaml", with_calendar(calendar)))
    assert problem.field == field
    assert message in problem.message


def test_a_clause_naming_an_unknown_calendar_is_refused(tmp_path: Path) -> None:
    problem = only_problem(write(tmp_path, "c.yaml", with_calendar(calendar="office-hours")))
    assert problem.field == "clauses[1].calendar"
    assert "unknown calendar 'office-hours'" in problem.message and "support-hours" in problem.message


def test_settle_after_must_be_a_duration(tmp_path: Path) -> None:
    problem = only_problem(write(tmp_path, "c.yaml", with_calendar(settle_after=30)))
    assert problem.field == "clauses[1].settle_after"


def test_the_clause_in_words_says_business_hours_and_pauses(tmp_path: Path) -> None:
    contract, _ = load_contract_file(write(tmp_path, "c.yaml", with_calendar()))
    assert contract is not None
    text = clause_words(contract, contract.clauses[1])
    assert "within 1 day of the support hours of the calendar 'support-hours' (closed days excluded)" in text
    assert "not counting the time a ticket is paused (waiting on the Client)" in text


def test_an_amendment_may_replace_the_calendars_and_its_clauses_must_name_one_in_force(
    tmp_path: Path,
) -> None:
    document = with_calendar()
    new_hours = {"hours": {"mon-sat": "07:00-19:00"}}
    document["amendments"] = [
        {"effective_from": "2026-03-01", "title": "A2", "calendars": {"extended": new_hours}}
    ]
    # the base clause names support-hours, which the amendment's calendars no longer have
    problem = only_problem(write(tmp_path, "c.yaml", document))
    assert problem.field == "amendments[0].calendars"
    assert "unknown calendar 'support-hours'" in problem.message and "extended" in problem.message
    clauses = copy.deepcopy(document["clauses"])
    clauses[1]["calendar"] = "extended"
    document["amendments"][0]["clauses"] = clauses
    contract, problems = load_contract_file(write(tmp_path, "c.yaml", document))
    assert problems == [] and contract is not None
    assert contract.amendments[0].calendars is not None
