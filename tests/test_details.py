"""The detail behind the figures (for statements): outages, maintenance excluded, missed tickets."""

from __future__ import annotations

from datetime import datetime, timedelta

import orjson

from monitor.engine import Engine
from monitor.engine.snapshot import export_state, restore_state
from monitor.events import decode_event
from monitor.timeutil import to_us
from tests.builders import M, contract, maintenance, outage, response, status, ticket, uptime


def at(text: str) -> int:
    return to_us(datetime.fromisoformat(text))


def utc(*clauses: dict, **overrides):  # type: ignore[no-untyped-def]
    return contract(*clauses, timezone="UTC", effective_from="2026-10-01", **overrides)


def run(contract_, lines: list[str], clock: str, lateness: timedelta = timedelta(hours=1)) -> dict:
    engine = Engine([contract_], lateness)
    for line in lines:
        engine.apply(decode_event(line))
    engine.advance(datetime.fromisoformat(clock))
    return {(d.clause, d.period): d for d in engine.clause_details()}


def test_an_outage_across_the_month_boundary_is_listed_in_both_months() -> None:
    lines = outage("2026-10-31T23:00:00+00:00", "2026-11-01T01:00:00+00:00")
    details = run(utc(uptime()), lines, "2026-11-10T00:00:00+00:00")
    october = details[("api-uptime", "2026-10")].data["outages"]
    november = details[("api-uptime", "2026-11")].data["outages"]
    start, end = at("2026-10-31T23:00:00+00:00"), at("2026-11-01T01:00:00+00:00")
    assert october == [[start, end, 60 * M, False]]
    assert november == [[start, end, 60 * M, False]]
    assert details[("api-uptime", "2026-10")].final


def test_maintenance_is_excluded_from_the_counted_minutes_and_listed() -> None:
    """Down 01:00-05:00 on a Sunday with a 02:00-04:00 weekly window: 120 of 240 min count."""
    window = {"windows": [{"rrule": "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2", "duration": "2h"}]}
    lines = outage("2026-10-04T01:00:00+00:00", "2026-10-04T05:00:00+00:00")
    details = run(utc(uptime(), maintenance=window), lines, "2026-10-08T00:00:00+00:00")
    data = details[("api-uptime", "2026-10")].data
    assert data["outages"][0][2] == 120 * M
    assert [at("2026-10-04T02:00:00+00:00"), at("2026-10-04T04:00:00+00:00"), "scheduled"] in data[
        "maintenance"
    ]


def test_announced_maintenance_is_listed_as_announced() -> None:
    lines = [
        maintenance("2026-10-10T00:00:00+00:00", "2026-10-10T03:00:00+00:00", "2026-10-01T00:00:00+00:00"),
        status("2026-10-12T00:00:00+00:00", "up"),
    ]
    overrides = {"maintenance": {"announced_min_notice": "48h"}}
    details = run(utc(uptime(), **overrides), lines, "2026-10-12T00:00:00+00:00")
    assert details[("api-uptime", "2026-10")].data["maintenance"] == [
        [at("2026-10-10T00:00:00+00:00"), at("2026-10-10T03:00:00+00:00"), "announced"]
    ]


def test_a_span_shorter_than_min_outage_is_not_listed_and_an_open_one_is_marked() -> None:
    lines = [
        *outage("2026-10-02T00:00:00+00:00", "2026-10-02T00:04:00+00:00"),
        status("2026-10-03T00:00:00+00:00", "down"),
    ]
    details = run(utc(uptime(min_outage="5m")), lines, "2026-10-03T02:00:00+00:00")
    assert details[("api-uptime", "2026-10")].data["outages"] == [
        [at("2026-10-03T00:00:00+00:00"), at("2026-10-03T02:00:00+00:00"), 120 * M, True]
    ]


def test_missed_tickets_are_listed_with_their_first_response() -> None:
    lines = [
        ticket("T1", "opened", "2026-10-05T00:00:00+00:00"),
        ticket("T2", "opened", "2026-10-05T00:00:00+00:00"),
        ticket("T2", "responded", "2026-10-05T00:30:00+00:00"),
        ticket("T1", "responded", "2026-10-05T02:00:00+00:00"),  # late: within 1h
        ticket("T3", "opened", "2026-10-20T00:00:00+00:00", priority="P2"),  # never answered
    ]
    details = run(utc(response(within="1h")), lines, "2026-11-02T00:00:00+00:00")
    data = details[("support", "2026-10")].data
    # each line: id, priority, opened, first response, deadline (opened + 1h), counted time
    # at the first response (no calendar or pauses: the elapsed 2h; none without a response)
    assert data["missed"] == [
        [
            "T1",
            "P1",
            at("2026-10-05T00:00:00+00:00"),
            at("2026-10-05T02:00:00+00:00"),
            at("2026-10-05T01:00:00+00:00"),
            120 * M,
        ],
        ["T3", "P2", at("2026-10-20T00:00:00+00:00"), None, at("2026-10-20T01:00:00+00:00"), None],
    ]
    assert (data["counted"], data["on_time"]) == (3, 1)


def test_details_survive_a_snapshot() -> None:
    lines = [
        *outage("2026-10-02T00:00:00+00:00", "2026-10-02T01:00:00+00:00"),
        status("2026-10-09T00:00:00+00:00", "up"),  # folds the outage into the settled history
    ]
    engine = Engine([utc(uptime())], timedelta(hours=1))
    for line in lines:
        engine.apply(decode_event(line))
    restored = Engine([utc(uptime())], timedelta(hours=1))
    restore_state(restored, orjson.loads(orjson.dumps(export_state(engine))))
    assert [d.data for d in restored.clause_details()] == [d.data for d in engine.clause_details()]
    assert engine.clause_details()[0].data["outages"][0][2] == 60 * M
