"""Hostile input: whatever bytes or YAML arrive, the event decoder and the contract loader
either accept them or refuse them with a clear reason, and never crash or run code."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.events import InvalidEvent, decode_event
from monitor.loader import load_contracts

JSON_SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=40)
)
JSON_VALUES = st.recursive(
    JSON_SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=30,
)
TIMESTAMPS = st.sampled_from(
    [
        "2026-10-01T00:00:00Z",
        "9999-12-31T23:59:59Z",
        "0001-01-01T00:00:00+00:00",
        "2026-10-01T00:00:00",
        "2026-13-45T99:99:99Z",
        "1e309",
        "",
        "2026-10-01T00:00:00+25:00",
    ]
)
FIELDS = {
    "event_id": st.text(max_size=20) | st.integers(),
    "type": st.sampled_from(["status", "maintenance", "ticket", "", "STATUS", "other"]),
    "service": st.text(max_size=20),
    "status": st.sampled_from(["up", "down", "sideways"]) | st.text(max_size=5),
    "at": TIMESTAMPS,
    "start": TIMESTAMPS,
    "end": TIMESTAMPS,
    "ticket_id": st.text(max_size=10),
    "contract": st.text(max_size=10),
    "action": st.sampled_from(["opened", "responded", "resolved", "closed"]),
    "priority": st.text(max_size=5) | st.none(),
}
EVENT_LIKE = st.fixed_dictionaries({}, optional={**FIELDS, "extra": JSON_VALUES})


def refused_or_accepted(raw: bytes | str) -> None:
    try:
        decode_event(raw)
    except InvalidEvent as error:
        assert error.reason and isinstance(error.reason, str)


@given(st.binary(max_size=300))
def test_any_bytes(raw: bytes) -> None:
    refused_or_accepted(raw)


@given(JSON_VALUES)
def test_any_json_value(value: object) -> None:
    refused_or_accepted(json.dumps(value))


@given(EVENT_LIKE)
@settings(max_examples=300)
def test_anything_shaped_like_an_event(document: dict) -> None:
    refused_or_accepted(json.dumps(document))


def test_deep_nesting_huge_strings_and_years_out_of_range() -> None:
    for raw in (
        "[" * 100_000 + "]" * 100_000,
        '{"a":' * 50_000 + "1" + "}" * 50_000,
        json.dumps({"event_id": "x" * 5_000_000, "type": "status", "service": "api", "status": "up"}),
        json.dumps(
            {
                "event_id": "e",
                "type": "status",
                "service": "api",
                "status": "up",
                "at": "9999-12-31T23:59:59Z",
            }
        ),
        json.dumps({"event_id": "e", "type": "status", "service": "\u202e\ud7ff" * 1000, "status": "up"}),
        '{"event_id": "e", "type": "status", "service": "api", "status": "up", "at": 1e999}',
        "\ufeff{}",
    ):
        refused_or_accepted(raw)


VALID = (Path(__file__).resolve().parent.parent / "contracts" / "acme-hosting.yaml").read_text()
HOSTILE_YAML = [
    "!!python/object/apply:os.system ['touch /tmp/slamon-pwned']",
    "id: !!python/object/new:subprocess.Popen [['touch', '/tmp/slamon-pwned']]",
    "a: &a ['x','x','x','x','x','x','x','x','x']\n"
    + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)},*{chr(97 + i)}]\n"
        for i in range(9)
    ),
    "id: !custom-tag value",
    "? [complex, key]\n: value",
    "id: " + "9" * 5000,
    "- just\n- a\n- list",
    "\x00\x01\x02",
    "{" * 10_000,
    VALID.replace("99.5", "1e999"),
    VALID.replace("EUR", "€€€"),
    VALID + "\nid: duplicate-key\n",
]


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=400))
def test_any_text_as_a_contract_file(tmp_path_factory, text: str) -> None:  # type: ignore[no-untyped-def]
    directory = tmp_path_factory.mktemp("contracts")
    (directory / "fuzz.yaml").write_text(text, encoding="utf-8")
    loaded = load_contracts(directory)
    for problem in loaded.problems:
        assert problem.file.endswith("fuzz.yaml") and problem.message


@settings(max_examples=200, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(JSON_VALUES)
def test_any_yaml_document_as_a_contract(tmp_path_factory, document: object) -> None:  # type: ignore[no-untyped-def]
    directory = tmp_path_factory.mktemp("contracts")
    (directory / "fuzz.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
    loaded = load_contracts(directory)
    assert loaded.problems or loaded.contracts


def test_hostile_yaml_is_refused_and_runs_nothing(tmp_path: Path) -> None:
    pwned = Path("/tmp/slamon-pwned")
    pwned.unlink(missing_ok=True)
    for index, text in enumerate(HOSTILE_YAML):
        (tmp_path / f"hostile-{index:02d}.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "good.yaml").write_text(VALID, encoding="utf-8")
    loaded = load_contracts(tmp_path)
    assert [c.id for c in loaded.contracts] == ["acme-hosting"]  # the good file still loads
    refused = {problem.file.rsplit("/", 1)[-1] for problem in loaded.problems}
    assert refused == {f"hostile-{index:02d}.yaml" for index in range(len(HOSTILE_YAML))}
    assert not pwned.exists()
