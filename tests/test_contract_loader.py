"""Contract files (SPEC.md section 2): the shipped samples, every kind of problem, and YAML safety.

Every problem must name the file and the exact field path; one bad file never hides another.
"""

from __future__ import annotations

import copy
import json
import os
import resource
import subprocess
import sys
from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.contract import OneOffWindow, RecurringWindow, ResponseTimeClause, UptimeClause
from monitor.loader import ContractProblem, load_contract_file, load_contracts

REPO = Path(__file__).resolve().parent.parent
SHIPPED = REPO / "contracts"

BASE: dict[str, Any] = {
    "id": "base",
    "customer": "Base Customer",
    "provider": "CloudCo Ltd",
    "timezone": "Europe/Berlin",
    "currency": "EUR",
    "monthly_fee": "100.00",
    "effective_from": "2026-01-01",
    "maintenance": {
        "windows": [
            {"rrule": "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0;BYSECOND=0", "duration": "2h"},
            {"start": "2026-10-10T22:00:00+02:00", "end": "2026-10-11T02:00:00+02:00"},
        ],
        "announced_min_notice": "48h",
    },
    "clauses": [
        {
            "id": "api-uptime",
            "kind": "uptime",
            "service": "api",
            "target_percent": 99.5,
            "credits": [{"below_percent": 99.5, "credit_percent": 10}],
            "consecutive": {"periods": 2, "credit_percent": 10, "remedy": "contract_review"},
        },
        {
            "id": "first-response",
            "kind": "response_time",
            "measure": "responded",
            "within": "24h",
            "priorities": ["P1", "P2"],
            "target_percent": 90,
        },
    ],
}


def document(**top: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(top)
    return data


def write(directory: Path, name: str, content: dict[str, Any] | str) -> Path:
    path = directory / name
    text = content if isinstance(content, str) else yaml.safe_dump(content, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def problems_of(path: Path) -> list[ContractProblem]:
    contract, problems = load_contract_file(path)
    assert contract is None, f"{path.name} should not load"
    assert problems, "a refused file must say why"
    for problem in problems:
        assert problem.file == str(path)
    return problems


def only_problem(path: Path) -> ContractProblem:
    problems = problems_of(path)
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


# --- the shipped contracts -------------------------------------------------------------


def test_shipped_contracts_load_without_problems() -> None:
    loaded = load_contracts(SHIPPED)
    assert loaded.problems == []
    assert loaded.ok
    assert sorted(c.id for c in loaded.contracts) == [
        "acme-hosting",
        "globex-support",
        "initech-helpdesk",
        "kaisha-api",
        "nimbus-functions",
    ]


def test_base_document_of_these_tests_is_valid(tmp_path: Path) -> None:
    contract, problems = load_contract_file(write(tmp_path, "base.yaml", document()))
    assert problems == []
    assert contract is not None
    assert contract.id == "base"
    windows = contract.maintenance.windows
    assert isinstance(windows[0], RecurringWindow)
    assert windows[0].duration == timedelta(hours=2)
    assert isinstance(windows[1], OneOffWindow)
    assert contract.maintenance.announced_min_notice == timedelta(hours=48)
    assert isinstance(contract.clauses[0], UptimeClause)
    assert isinstance(contract.clauses[1], ResponseTimeClause)
    assert contract.clauses[1].within == timedelta(hours=24)


def test_sample_clause_of_the_spec_is_expressed_exactly() -> None:
    """ "99.5% each month, excluding scheduled maintenance; two consecutive misses: 10% credit
    or contract review" - an uptime clause, target 99.5, no tiers, consecutive {2, 10, review}."""
    contract, problems = load_contract_file(SHIPPED / "acme-hosting.yaml")
    assert problems == []
    assert contract is not None
    assert contract.id == "acme-hosting"
    assert len(contract.clauses) == 1
    clause = contract.clauses[0]
    assert isinstance(clause, UptimeClause)
    assert clause.kind == "uptime"
    assert clause.target_percent == Decimal("99.5")
    assert clause.credits == []
    assert clause.exclude_maintenance is True
    assert clause.min_outage == timedelta(0)
    assert clause.consecutive is not None
    assert clause.consecutive.periods == 2
    assert clause.consecutive.credit_percent == Decimal(10)
    assert clause.consecutive.remedy == "contract_review"
    assert contract.credit_cap_percent is None
    # "excluding scheduled maintenance" needs scheduled maintenance to exclude
    assert contract.maintenance.windows


# --- one problem, one exact field path ---------------------------------------------------


def _set(path: tuple[str | int, ...], value: Any) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        target[path[-1]] = value

    return mutate


def _drop(path: tuple[str | int, ...]) -> Callable[[dict[str, Any]], None]:
    def mutate(data: dict[str, Any]) -> None:
        target: Any = data
        for part in path[:-1]:
            target = target[part]
        del target[path[-1]]

    return mutate


ONE_PROBLEM_CASES = [
    # (case id, change, exact field path, words the message must hold)
    ("unknown-top-key", _set(("bogus",), 1), "bogus", "extra"),
    ("unknown-top-key-named-like-a-kind", _set(("uptime",), 99.5), "uptime", "extra"),
    ("unknown-clause-key", _set(("clauses", 0, "bogus"), 1), "clauses[0].bogus", "extra"),
    ("unknown-clause-key-named-like-a-kind", _set(("clauses", 1, "uptime"), 1), "clauses[1].uptime", "extra"),
    (
        "unknown-tier-key",
        _set(("clauses", 0, "credits", 0, "bogus"), 1),
        "clauses[0].credits[0].bogus",
        "extra",
    ),
    (
        "unknown-consecutive-key",
        _set(("clauses", 0, "consecutive", "months"), 2),
        "clauses[0].consecutive.months",
        "extra",
    ),
    (
        "unknown-recurring-window-key",
        _set(("maintenance", "windows", 0, "bogus"), 1),
        "maintenance.windows[0].bogus",
        "extra",
    ),
    (
        "unknown-one-off-window-key",
        _set(("maintenance", "windows", 1, "bogus"), 1),
        "maintenance.windows[1].bogus",
        "extra",
    ),
    (
        "recurring-window-with-start",
        _set(("maintenance", "windows", 0, "start"), "2026-10-10T22:00:00+02:00"),
        "maintenance.windows[0].start",
        "extra",
    ),
    ("unknown-maintenance-key", _set(("maintenance", "blackout"), "1d"), "maintenance.blackout", "extra"),
    (
        "percent-not-a-number",
        _set(("clauses", 0, "target_percent"), "high"),
        "clauses[0].target_percent",
        "decimal",
    ),
    ("percent-above-100", _set(("clauses", 0, "target_percent"), 100.5), "clauses[0].target_percent", "100"),
    ("percent-below-0", _set(("clauses", 1, "target_percent"), -1), "clauses[1].target_percent", "0"),
    (
        "percent-nan",
        _set(("clauses", 0, "target_percent"), float("nan")),
        "clauses[0].target_percent",
        "finite",
    ),
    (
        "tier-bound-above-100",
        _set(("clauses", 0, "credits", 0, "below_percent"), 101),
        "clauses[0].credits[0].below_percent",
        "100",
    ),
    (
        "tier-credit-below-0",
        _set(("clauses", 0, "credits", 0, "credit_percent"), -5),
        "clauses[0].credits[0].credit_percent",
        "0",
    ),
    ("cap-above-100", _set(("credit_cap_percent",), 150), "credit_cap_percent", "100"),
    ("fee-negative", _set(("monthly_fee",), "-1.00"), "monthly_fee", "0"),
    ("fee-not-a-number", _set(("monthly_fee",), "lots"), "monthly_fee", "decimal"),
    ("contract-id-pattern", _set(("id",), "Acme_Hosting"), "id", "pattern"),
    ("contract-id-leading-dash", _set(("id",), "-acme"), "id", "pattern"),
    ("clause-id-pattern", _set(("clauses", 1, "id"), "First Response"), "clauses[1].id", "pattern"),
    ("unknown-zone", _set(("timezone",), "Mars/Olympus_Mons"), "timezone", "Mars/Olympus_Mons"),
    ("unknown-currency", _set(("currency",), "XYZ"), "currency", "XYZ"),
    ("lower-case-currency", _set(("currency",), "eur"), "currency", "eur"),
    ("bad-within", _set(("clauses", 1, "within"), "2 hours"), "clauses[1].within", "2 hours"),
    ("zero-within", _set(("clauses", 1, "within"), "0s"), "clauses[1].within", "positive"),
    ("bad-min-outage", _set(("clauses", 0, "min_outage"), "5 minutes"), "clauses[0].min_outage", "5 minutes"),
    (
        "bad-window-duration",
        _set(("maintenance", "windows", 0, "duration"), "2 hours"),
        "maintenance.windows[0].duration",
        "2 hours",
    ),
    (
        "bad-notice",
        _set(("maintenance", "announced_min_notice"), "two days"),
        "maintenance.announced_min_notice",
        "two days",
    ),
    (
        "invalid-rrule",
        _set(("maintenance", "windows", 0, "rrule"), "FREQ=SOMETIMES;BYHOUR=2"),
        "maintenance.windows[0].rrule",
        "rrule",
    ),
    (
        "dtstart-in-rrule",
        _set(("maintenance", "windows", 0, "rrule"), "DTSTART:20260101T000000\nRRULE:FREQ=WEEKLY"),
        "maintenance.windows[0].rrule",
        "dtstart",
    ),
    (
        "one-off-end-before-start",
        _set(("maintenance", "windows", 1, "end"), "2026-10-10T21:00:00+02:00"),
        "maintenance.windows[1].end",
        "after start",
    ),
    (
        "one-off-end-equals-start",
        _set(("maintenance", "windows", 1, "end"), "2026-10-10T22:00:00+02:00"),
        "maintenance.windows[1].end",
        "after start",
    ),
    ("effective-to-equal", _set(("effective_to",), "2026-01-01"), "effective_to", "effective_from"),
    ("effective-to-before", _set(("effective_to",), "2025-12-01"), "effective_to", "effective_from"),
    ("effective-from-not-a-date", _set(("effective_from",), "soon"), "effective_from", "date"),
    ("duplicate-clause-id", _set(("clauses", 1, "id"), "api-uptime"), "clauses[1].id", "duplicate"),
    ("missing-customer", _drop(("customer",)), "customer", "required"),
    ("missing-clauses", _drop(("clauses",)), "clauses", "required"),
    ("no-clauses", _set(("clauses",), []), "clauses", "at least 1"),
    ("missing-service", _drop(("clauses", 0, "service")), "clauses[0].service", "required"),
    ("missing-within", _drop(("clauses", 1, "within")), "clauses[1].within", "required"),
    ("missing-measure", _drop(("clauses", 1, "measure")), "clauses[1].measure", "required"),
    (
        "missing-consecutive-periods",
        _drop(("clauses", 0, "consecutive", "periods")),
        "clauses[0].consecutive.periods",
        "required",
    ),
    (
        "missing-window-duration",
        _drop(("maintenance", "windows", 0, "duration")),
        "maintenance.windows[0].duration",
        "required",
    ),
    (
        "missing-one-off-end",
        _drop(("maintenance", "windows", 1, "end")),
        "maintenance.windows[1].end",
        "required",
    ),
    ("unknown-kind", _set(("clauses", 0, "kind"), "latency"), "clauses[0].kind", "latency"),
    ("missing-kind", _drop(("clauses", 1, "kind")), "clauses[1].kind", "required"),
    ("unknown-measure", _set(("clauses", 1, "measure"), "closed"), "clauses[1].measure", "responded"),
    (
        "unknown-remedy",
        _set(("clauses", 0, "consecutive", "remedy"), "sue"),
        "clauses[0].consecutive.remedy",
        "contract_review",
    ),
    (
        "zero-consecutive-periods",
        _set(("clauses", 0, "consecutive", "periods"), 0),
        "clauses[0].consecutive.periods",
        "1",
    ),
    (
        "exclude-maintenance-not-bool",
        _set(("clauses", 0, "exclude_maintenance"), "sometimes"),
        "clauses[0].exclude_maintenance",
        "bool",
    ),
    ("priorities-not-a-list", _set(("clauses", 1, "priorities"), 1), "clauses[1].priorities", "list"),
    ("clause-not-a-mapping", _set(("clauses", 1), "uptime"), "clauses[1]", "dict"),
    ("window-not-a-mapping", _set(("maintenance", "windows", 0), "weekly"), "maintenance.windows[0]", "dict"),
]


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [case[1:] for case in ONE_PROBLEM_CASES],
    ids=[case[0] for case in ONE_PROBLEM_CASES],
)
def test_each_problem_names_file_and_exact_field(
    tmp_path: Path, change: Callable[[dict[str, Any]], None], field: str, words: str
) -> None:
    data = document()
    change(data)
    path = write(tmp_path, "contract.yaml", data)
    problem = only_problem(path)
    assert problem.field == field, str(problem)
    assert words.lower() in problem.message.lower(), str(problem)
    assert str(problem) == f"{path}: {field}: {problem.message}"


def test_naive_one_off_window_names_both_timestamps(tmp_path: Path) -> None:
    data = document()
    data["maintenance"]["windows"][1] = {"start": "2026-10-10T22:00:00", "end": "2026-10-11T02:00:00"}
    problems = problems_of(write(tmp_path, "naive.yaml", data))
    assert [p.field for p in problems] == ["maintenance.windows[1].start", "maintenance.windows[1].end"]
    for problem in problems:
        assert "timezone" in problem.message.lower()


def test_naive_one_off_window_written_unquoted_in_yaml(tmp_path: Path) -> None:
    """YAML itself turns an unquoted timestamp into a (naive) datetime: still refused."""
    text = yaml.safe_dump(document(maintenance={"windows": []}), sort_keys=False)
    text = text.replace(
        "  windows: []\n",
        "  windows:\n  - start: 2026-10-10 22:00:00\n    end: 2026-10-11 02:00:00\n",
    )
    problems = problems_of(write(tmp_path, "naive.yaml", text))
    assert {p.field for p in problems} == {"maintenance.windows[0].start", "maintenance.windows[0].end"}


def test_effective_from_as_timestamp_is_refused(tmp_path: Path) -> None:
    text = yaml.safe_dump(document(), sort_keys=False).replace(
        "effective_from: '2026-01-01'", "effective_from: 2026-01-01T00:00:00"
    )
    assert "effective_from: 2026-01-01T00:00:00" in text
    problem = only_problem(write(tmp_path, "stamp.yaml", text))
    assert problem.field == "effective_from"
    assert "date" in problem.message


def test_several_missing_fields_are_all_named(tmp_path: Path) -> None:
    data = document()
    del data["customer"]
    del data["currency"]
    del data["clauses"][1]["within"]
    del data["clauses"][0]["target_percent"]
    problems = problems_of(write(tmp_path, "missing.yaml", data))
    assert sorted(p.field for p in problems) == sorted(
        ["customer", "currency", "clauses[1].within", "clauses[0].target_percent"]
    )
    assert all(p.message == "Field required" for p in problems)


def test_duplicate_clause_id_names_the_other_clause(tmp_path: Path) -> None:
    data = document()
    data["clauses"].append(copy.deepcopy(data["clauses"][1]))
    problem = only_problem(write(tmp_path, "dup.yaml", data))
    assert problem.field == "clauses[2].id"
    assert "'first-response'" in problem.message
    assert "clauses[1]" in problem.message


def test_valid_durations_in_both_forms(tmp_path: Path) -> None:
    data = document()
    data["clauses"][1]["within"] = "PT36H"
    data["clauses"][0]["min_outage"] = "90s"
    data["maintenance"]["announced_min_notice"] = "2d"
    contract, problems = load_contract_file(write(tmp_path, "durations.yaml", data))
    assert problems == []
    assert contract is not None
    assert contract.clauses[1].within == timedelta(hours=36)  # type: ignore[union-attr]
    assert contract.clauses[0].min_outage == timedelta(seconds=90)  # type: ignore[union-attr]
    assert contract.maintenance.announced_min_notice == timedelta(days=2)


def test_yaml_anchors_for_shared_tiers_still_load(tmp_path: Path) -> None:
    """The alias-bomb guard must not refuse an ordinary use of anchors."""
    text = yaml.safe_dump(document(), sort_keys=False)
    text = text.replace("  credits:\n", "  credits: &tiers\n", 1).replace(
        "  target_percent: 90\n", "  target_percent: 90\n  credits: *tiers\n"
    )
    assert "*tiers" in text
    contract, problems = load_contract_file(write(tmp_path, "anchors.yaml", text))
    assert problems == []
    assert contract is not None
    assert contract.clauses[1].credits == contract.clauses[0].credits
    assert len(contract.clauses[1].credits) == 1


# --- whole-file problems -------------------------------------------------------------------


def test_malformed_yaml_names_file_and_line(tmp_path: Path) -> None:
    lines = yaml.safe_dump(document(), sort_keys=False).splitlines()
    lines.insert(3, "  stray: indented")  # line 4 of the file
    path = write(tmp_path, "malformed.yaml", "\n".join(lines) + "\n")
    problem = only_problem(path)
    assert problem.field == ""
    assert "invalid YAML" in problem.message
    assert "line 4" in problem.message
    assert str(problem).startswith(f"{path}: invalid YAML")


def test_tab_indentation_names_the_line(tmp_path: Path) -> None:
    lines = yaml.safe_dump(document(), sort_keys=False).splitlines()
    lines[5] = "\t" + lines[5]  # line 6
    problem = only_problem(write(tmp_path, "tab.yaml", "\n".join(lines) + "\n"))
    assert "line 6" in problem.message


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("- id: acme\n- id: globex\n", "list"),
        ("", "empty"),
        ("# only a comment\n", "empty"),
        ("---\n", "empty"),
        ("just a sentence\n", "str"),
        ("42\n", "int"),
    ],
    ids=["list", "empty", "comment-only", "empty-document", "scalar", "number"],
)
def test_a_file_must_hold_one_mapping(tmp_path: Path, text: str, words: str) -> None:
    path = write(tmp_path, "shape.yaml", text)
    problem = only_problem(path)
    assert problem.field == ""
    assert "mapping" in problem.message
    assert words in problem.message


def test_two_documents_in_one_file_are_refused(tmp_path: Path) -> None:
    text = yaml.safe_dump(document(), sort_keys=False)
    problem = only_problem(write(tmp_path, "two.yaml", text + "---\n" + text))
    assert "invalid YAML" in problem.message
    assert "document" in problem.message


def test_file_that_is_not_utf8(tmp_path: Path) -> None:
    path = tmp_path / "latin1.yaml"
    path.write_bytes(yaml.safe_dump(document(customer="Soci\xe9t\xe9"), allow_unicode=True).encode("latin-1"))
    problem = only_problem(path)
    assert "cannot read" in problem.message


# --- YAML safety ---------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["whole-document", "inside-a-field"])
def test_python_object_tag_is_refused_not_executed(tmp_path: Path, where: str) -> None:
    marker = tmp_path / "executed"
    payload = f'!!python/object/apply:os.system ["touch {marker}"]'
    if where == "whole-document":
        text = payload + "\n"
    else:
        text = yaml.safe_dump(document(), sort_keys=False).replace(
            "customer: Base Customer", f"customer: {payload}"
        )
        assert payload in text
    problem = only_problem(write(tmp_path, "evil.yaml", text))
    assert not marker.exists(), "the YAML tag was executed"
    assert "invalid YAML" in problem.message
    assert "python/object/apply:os.system" in problem.message


def _alias_bomb(levels: int = 9, width: int = 9) -> str:
    """The classic "billion laughs": ``width ** levels`` strings from a few lines."""
    lines = ["x-0: &l0 [" + ", ".join(['"lol"'] * width) + "]"]
    for level in range(1, levels):
        lines.append(f"x-{level}: &l{level} [" + ", ".join([f"*l{level - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


LOAD_IN_A_BOUNDED_PROCESS = """
import json, sys
from pathlib import Path
from monitor.loader import load_contract_file
contract, problems = load_contract_file(Path(sys.argv[1]))
print(json.dumps({"loaded": contract is not None, "problems": [str(p) for p in problems]}))
"""


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    two_gib = 2 * 1024**3
    resource.setrlimit(resource.RLIMIT_AS, (two_gib, two_gib))


@pytest.mark.parametrize("where", ["extra-keys", "in-a-duration", "in-a-list-field", "self-reference"])
def test_alias_bomb_is_refused_in_bounded_time_and_memory(tmp_path: Path, where: str) -> None:
    """Loaded in a child with 2 GiB of address space and 60 s: unguarded, a bomb in a field
    whose error message repeats its input takes minutes and gigabytes."""
    base_text = yaml.safe_dump(document(), sort_keys=False)
    if where == "extra-keys":
        text = _alias_bomb() + base_text
    elif where == "in-a-duration":
        text = _alias_bomb() + base_text.replace("within: 24h", "within: *l8")
    elif where == "in-a-list-field":
        text = _alias_bomb() + base_text.replace("  priorities:\n  - P1\n  - P2\n", "  priorities: *l8\n")
        assert "priorities: *l8" in text
    else:
        text = base_text + "x-loop: &loop [*loop, *loop]\n"
    path = write(tmp_path, "bomb.yaml", text)
    child = subprocess.run(
        [sys.executable, "-c", LOAD_IN_A_BOUNDED_PROCESS, str(path)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=60,
        preexec_fn=_limit_memory,
    )
    assert child.returncode == 0, child.stderr[-2000:]
    outcome = json.loads(child.stdout)
    assert outcome["loaded"] is False
    assert len(outcome["problems"]) == 1
    assert outcome["problems"][0].startswith(f"{path}: ")
    assert "too large" in outcome["problems"][0]


# --- a directory: every problem, every good contract ------------------------------------------


def test_bad_files_never_hide_each_other_or_the_good_ones(tmp_path: Path) -> None:
    good_one = document(id="good-one")
    good_two = document(id="good-two", timezone="Asia/Tokyo", currency="JPY", monthly_fee=120000)
    write(tmp_path, "00-good-one.yaml", good_one)
    write(tmp_path, "zz-good-two.yml", good_two)

    unknown_key = document(id="bad-key")
    unknown_key["clauses"][0]["bogus"] = True
    bad_duration = document(id="bad-duration")
    bad_duration["clauses"][1]["within"] = "2 hours"
    bad_window = document(id="bad-window")
    bad_window["maintenance"]["windows"][0]["rrule"] = "FREQ=SOMETIMES"
    bad_window["maintenance"]["windows"][1]["end"] = "2026-10-10T21:00:00+02:00"
    several = document(id="Bad Id", timezone="Nowhere/City", currency="ABC")
    several["clauses"][0]["kind"] = "latency"
    several["clauses"][1]["target_percent"] = 120
    write(tmp_path, "10-unknown-key.yaml", unknown_key)
    write(tmp_path, "20-bad-duration.yaml", bad_duration)
    write(tmp_path, "30-bad-window.yaml", bad_window)
    write(tmp_path, "40-several.yaml", several)
    write(tmp_path, "50-malformed.yaml", "id: broken\ncustomer: [unclosed\n")
    write(tmp_path, "60-list.yaml", "- not\n- a mapping\n")
    write(tmp_path, "70-empty.yml", "")
    write(tmp_path, "80-duplicate-of-good-one.yaml", document(id="good-one"))
    write(tmp_path, "notes.txt", "not a contract: ignored")
    (tmp_path / "archive.yaml.d").mkdir()

    loaded = load_contracts(tmp_path)

    assert sorted(c.id for c in loaded.contracts) == ["good-one", "good-two"]
    assert not loaded.ok
    found = sorted((Path(p.file).name, p.field) for p in loaded.problems)
    assert found == sorted(
        [
            ("10-unknown-key.yaml", "clauses[0].bogus"),
            ("20-bad-duration.yaml", "clauses[1].within"),
            ("30-bad-window.yaml", "maintenance.windows[0].rrule"),
            ("30-bad-window.yaml", "maintenance.windows[1].end"),
            ("40-several.yaml", "id"),
            ("40-several.yaml", "timezone"),
            ("40-several.yaml", "currency"),
            ("40-several.yaml", "clauses[0].kind"),
            ("40-several.yaml", "clauses[1].target_percent"),
            ("50-malformed.yaml", ""),
            ("60-list.yaml", ""),
            ("70-empty.yml", ""),
            ("80-duplicate-of-good-one.yaml", "id"),
        ]
    )
    for problem in loaded.problems:
        assert Path(problem.file).parent == tmp_path
    duplicate = next(p for p in loaded.problems if p.file.endswith("80-duplicate-of-good-one.yaml"))
    assert "good-one" in duplicate.message
    assert "00-good-one.yaml" in duplicate.message


def test_duplicate_contract_id_across_two_files(tmp_path: Path) -> None:
    first = write(tmp_path, "a.yaml", document(id="acme", customer="First"))
    second = write(tmp_path, "b.yaml", document(id="acme", customer="Second"))
    loaded = load_contracts(tmp_path)
    assert [c.customer for c in loaded.contracts] == ["First"]
    assert len(loaded.problems) == 1
    problem = loaded.problems[0]
    assert problem.file == str(second)
    assert problem.field == "id"
    assert "'acme'" in problem.message
    assert str(first) in problem.message


def test_empty_directory_and_missing_directory(tmp_path: Path) -> None:
    empty = load_contracts(tmp_path)
    assert empty.contracts == []
    assert [(p.file, p.field) for p in empty.problems] == [(str(tmp_path), "")]
    assert "no contract files" in empty.problems[0].message

    missing = load_contracts(tmp_path / "nowhere")
    assert missing.contracts == []
    assert [(p.file, p.field) for p in missing.problems] == [(str(tmp_path / "nowhere"), "")]
    assert "not a directory" in missing.problems[0].message


def test_a_key_given_twice_is_refused_with_its_line(tmp_path: Path) -> None:
    text = (SHIPPED / "acme-hosting.yaml").read_text()
    (tmp_path / "twice.yaml").write_text(text + "customer: Someone Else\n")
    loaded = load_contracts(tmp_path)
    assert loaded.contracts == []
    [problem] = loaded.problems
    assert problem.file.endswith("twice.yaml")
    assert "duplicate key 'customer'" in problem.message
    assert f"line {len(text.splitlines()) + 1}" in problem.message
