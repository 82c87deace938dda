"""`slamon explain` from the ledger names the same event ids as from the events (SPEC.md
section 14): the status events at each counted outage's edges, each counted ticket's events,
the requests events at each counted down run's edges. A hand-computed month on SQLite and
PostgreSQL, older ledgers and snapshots without the ids, and a property over generated streams."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from monitor.contract import Contract
from monitor.engine import Engine
from monitor.engine.snapshot import export_state, restore_state
from monitor.events import decode_event, event_json
from monitor.explain import Explanation, explain_from_events, explain_from_ledger
from monitor.ledger.store import Ledger
from tests import test_availability_properties as availability_streams
from tests import test_business_properties as business_streams
from tests import test_properties as engine_streams
from tests.builders import (
    TICK_SERVICE,
    availability,
    contract,
    requests,
    response,
    status,
    ticket,
    uptime,
)
from tests.databases import ledger_database

LATENESS = timedelta(hours=1)
EXAMPLES = int(os.environ.get("SLAMON_PROPERTY_EXAMPLES", "60")) // 2
PROPERTY = settings(
    max_examples=max(EXAMPLES, 10),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
)

# November 2026 in UTC: 30 days = 43200 minutes = 8640 intervals of 5 minutes
MONTH = contract(
    uptime(
        min_outage="5m",
        target=99.9,
        credits=[{"below_percent": 99.9, "credit_percent": 5}],
    ),
    response(within="1h", pausable=True, target=90, credits=[{"below_percent": 90, "credit_percent": 5}]),
    availability(
        interval="5m",
        error_rate_above_percent=5,
        min_requests=10,
        min_downtime="10m",
        target=99.99,
        credits=[{"below_percent": 99.99, "credit_percent": 5}],
    ),
    timezone="UTC",
    effective_from="2026-11-01",
    maintenance={"windows": [{"start": "2026-11-10T10:00:00Z", "end": "2026-11-10T11:00:00Z"}]},
)
MONTH_EVENTS = [  # in time order but for the pairs that arrive the other way round
    # T1: deadline 10:00Z + 1 h = 11:00Z, answered 11:30Z: missed
    ticket("T1", "opened", "2026-11-05T10:00:00Z", event_id="t1-open"),
    ticket("T1", "responded", "2026-11-05T11:30:00Z", event_id="t1-reply"),
    # T2: 20 min run until the pause at 10:20Z (the second pause changes nothing), 40 min left
    # after the resume at 12:00Z: deadline 12:40Z, answered 12:30Z: on time
    ticket("T2", "opened", "2026-11-06T10:00:00Z", event_id="t2-open"),
    ticket("T2", "paused", "2026-11-06T10:20:00Z", event_id="t2-pause"),
    ticket("T2", "paused", "2026-11-06T10:25:00Z", event_id="t2-pause-again"),
    ticket("T2", "resumed", "2026-11-06T12:00:00Z", event_id="t2-resume"),
    ticket("T2", "responded", "2026-11-06T12:30:00Z", event_id="t2-reply"),
    # T3: two answers at one instant: the first by id ("t3-reply-a") is its first response
    ticket("T3", "opened", "2026-11-07T10:00:00Z", event_id="t3-open"),
    ticket("T3", "responded", "2026-11-07T10:10:00Z", event_id="t3-reply-b"),
    ticket("T3", "responded", "2026-11-07T10:10:00Z", event_id="t3-reply-a"),
    # 09:30Z: two status events at one instant, the larger id ("api-b", down) decides: down
    # from 09:30Z to 11:30Z = 120 min, the window 10:00Z-11:00Z leaves 60 min counted
    status("2026-11-10T09:30:00Z", "down", event_id="api-b"),
    status("2026-11-10T09:30:00Z", "up", event_id="api-a"),
    status("2026-11-10T11:30:00Z", "up", event_id="api-up"),
    # 12 Nov 10:00Z-10:15Z: three intervals of 5 min above 5% failed (the first in two events):
    # 15 min >= min_downtime 10 min, counted; the interval 10:15Z is 2% failed: up
    requests("2026-11-12T10:02:00Z", 50, 10, event_id="r1b"),
    requests("2026-11-12T10:00:00Z", 50, 10, event_id="r1a"),
    requests("2026-11-12T10:05:00Z", 100, 6, event_id="r2"),
    requests("2026-11-12T10:10:00Z", 100, 50, event_id="r3"),
    requests("2026-11-12T10:15:00Z", 100, 2, event_id="r4"),
    status("2026-12-02T12:00:00Z", "up", service=TICK_SERVICE, event_id="tick"),  # November final
]
EXPECTED = {  # the ids each listed step rests on, hand-derived above
    "api-uptime": [("api-b", "api-up")],
    "support": [
        ("t1-open", "t1-reply"),
        ("t2-open", "t2-pause", "t2-resume", "t2-reply"),
        ("t3-open", "t3-reply-a"),
    ],
    "api-availability": [("r1a", "r1b", "r3")],
}
ATTAINED = {
    "api-uptime": Fraction(100 * (43140 - 60), 43140),  # eligible 43200 - 60 (the window)
    "support": Fraction(100 * 2, 3),  # T2 and T3 on time of 3
    "api-availability": Fraction(100 * (8628 - 3), 8628),  # 12 intervals in the window
}


def listed(explanation: Explanation) -> list[tuple[str, tuple[str, ...]]]:
    """The counted outages, tickets and down runs of an explanation, with their ids (a replay
    also lists what does not count: outages and runs ignored, tickets not counted or undecided)."""
    found = []
    for section in explanation.sections:
        for step in section.steps:
            text = step.text
            if (
                (section.heading == "Outages counted" and text.startswith("Outage from"))
                or (section.heading == "Tickets" and text.endswith(("on time.", "missed.")))
                or (section.heading == "Down runs" and text.endswith(": counted."))
            ):
                found.append((text, step.events))
    return found


def notes(explanation: Explanation) -> list[str]:
    return [step.text for s in explanation.sections for step in s.steps if "The ledger" in step.text]


def replayed(contracts: Sequence[Contract], lines: Sequence[str | bytes], lateness: timedelta) -> Engine:
    engine = Engine(contracts, lateness)
    for line in lines:
        engine.apply(decode_event(line))
    return engine


def written(url: str, terms: Contract, engine: Engine) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The contract's results and November's details, through a ledger at ``url``."""
    ledger = Ledger(url, [terms])
    try:
        ledger.record_details([d.to_record() for d in engine.clause_details()])
        ledger.write_results(r.to_record() for r in engine.results())
        return ledger.read_results(terms.id), ledger.read_details(terms.id, "2026-11")
    finally:
        ledger.close()


@pytest.mark.parametrize("kind", ["sqlite", "postgresql"])
def test_the_ledger_names_the_ids_a_replay_names(kind: str, tmp_path: Path) -> None:
    engine = replayed([MONTH], MONTH_EVENTS, LATENESS)
    with ledger_database(kind, tmp_path) as url:
        records, details = written(url, MONTH, engine)
    for clause, ids in EXPECTED.items():
        from_events = explain_from_events([MONTH], "acme", clause, "2026-11", MONTH_EVENTS)
        from_ledger = explain_from_ledger(MONTH, clause, "2026-11", records, details[clause])
        assert [events for _, events in listed(from_events)] == ids, clause
        assert listed(from_ledger) == listed(from_events), clause
        assert notes(from_ledger) == [], clause
        attained = f"{float(ATTAINED[clause]):.3f}%"
        arithmetic = next(s for s in from_ledger.sections if s.heading == "Arithmetic")
        assert attained in arithmetic.steps[1].text, clause
    tickets = explain_from_ledger(MONTH, "support", "2026-11", records, details["support"])
    assert [text.rsplit(", ", 1)[-1] for text, _ in listed(tickets)] == ["missed.", "on time.", "on time."]
    assert "deadline 2026-11-06 12:40:00+00:00" in listed(tickets)[1][0]


def test_an_older_ledger_says_which_ids_it_lacks_and_why() -> None:
    engine = replayed([MONTH], MONTH_EVENTS, LATENESS)
    records = [r.to_record() for r in engine.results()]
    details = {d.clause: d.to_record() for d in engine.clause_details() if d.period == "2026-11"}
    for record, key in (
        (details["api-uptime"], "outage_events"),
        (details["support"], "tickets"),
        (details["api-availability"], "down_run_events"),
    ):
        del record["details"][key]  # as written before the ids were kept
    uptime_ = explain_from_ledger(MONTH, "api-uptime", "2026-11", records, details["api-uptime"])
    assert [events for _, events in listed(uptime_)] == [()]
    assert notes(uptime_) == [
        "The ledger has no ids of the status events at the edges of the outage(s) from "
        "2026-11-10 09:30:00+00:00 (2026-11-10 09:30:00Z): the ledger was written before they "
        "were kept. `slamon explain --events FILE` names them."
    ]
    support = explain_from_ledger(MONTH, "support", "2026-11", records, details["support"])
    assert notes(support)[0].startswith("The ledger was written before the counted tickets")
    runs = explain_from_ledger(MONTH, "api-availability", "2026-11", records, details["api-availability"])
    assert "edges of the run(s) from 2026-11-12 10:00:00+00:00" in notes(runs)[0]
    assert "written before they were kept" in notes(runs)[0]


def without_ids(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A snapshot as a worker wrote it before the ids were kept."""
    for timeline in snapshot["timelines"].values():
        del timeline["down_since_event"]
    for clause in snapshot["clauses"].values():
        for ticket_data in clause.get("tickets", {}).values():
            del ticket_data[2:]  # [opened, first measure] (no pauses yet at the cut)
        clause.pop("decided", None)
        if "outages" in clause:
            clause["outages"] = {
                key: [line[:3] for line in lines] for key, lines in clause["outages"].items()
            }
        if "run" in clause:
            del clause["run"][6:]
            clause["runs"] = {key: [line[:5] for line in lines] for key, lines in clause["runs"].items()}
    snapshot["requests"] = {
        service: [line[:3] for line in log] for service, log in snapshot["requests"].items()
    }
    return snapshot


def test_a_worker_restored_from_an_older_snapshot_says_which_ids_it_lacks() -> None:
    # cut before r3: the clock is 12 Nov 10:06Z, so the outage of the 10th and the tickets are
    # settled (folded into lines), the minutes of the run's first interval are still in the log
    cut = next(i for i, line in enumerate(MONTH_EVENTS) if '"r3"' in line)
    first = replayed([MONTH], MONTH_EVENTS[:cut], LATENESS)
    snapshot = without_ids(orjson.loads(orjson.dumps(export_state(first))))
    restored = Engine([MONTH], LATENESS)
    restore_state(restored, snapshot)
    for line in MONTH_EVENTS[cut:]:
        restored.apply(decode_event(line))
    records = [r.to_record() for r in restored.results()]
    details = {d.clause: d.to_record() for d in restored.clause_details() if d.period == "2026-11"}
    whole = replayed([MONTH], MONTH_EVENTS, LATENESS)
    assert records == [r.to_record() for r in whole.results()]  # the figures do not change
    runs = explain_from_ledger(MONTH, "api-availability", "2026-11", records, details["api-availability"])
    # the run's first interval was in the log when the snapshot was taken: its ids are lost
    assert [events for _, events in listed(runs)] == [("r3",)]
    assert "the run began before the worker restored a snapshot" in notes(runs)[0]
    outages = explain_from_ledger(MONTH, "api-uptime", "2026-11", records, details["api-uptime"])
    assert [events for _, events in listed(outages)] == [()]
    assert "the outage began before the worker restored a snapshot" in notes(outages)[0]
    support = explain_from_ledger(MONTH, "support", "2026-11", records, details["support"])
    # the tickets settled before the snapshot are counted but not listed
    assert listed(support) == []
    assert notes(support) == [
        "The ledger has no ids of 3 counted tickets: they were counted before the worker restored "
        "a snapshot written before the ids were kept. `slamon explain --events FILE` lists every ticket."
    ]


# the property: on generated streams, the ledger lists what a replay lists -----------------


def agree(
    contracts: Sequence[Contract], lines: Sequence[str], lateness: timedelta, as_of: datetime | None
) -> None:
    """Every clause of every period with a result: the counted outages, tickets and down runs
    explained from the details are the replay's at the same clock, ids and all. The details are
    kept as the ledger keeps what a worker writes: written after each event, as JSON, a
    provisional version replaced by the next one, the first final one standing
    (``Ledger.record_details``); the replay is of the events up to that write."""
    engine = Engine(contracts, lateness)
    details: dict[tuple[str, str, str], tuple[Any, int, datetime | None]] = {}

    def write(prefix: int, clock: datetime | None) -> None:
        for d in engine.clause_details(periods=24):
            key = (d.contract, d.clause, d.period)
            if key not in details or not details[key][0]["final"]:
                details[key] = (orjson.loads(orjson.dumps(d.to_record())), prefix, clock)

    for count, line in enumerate(lines, 1):
        engine.apply(decode_event(line))
        write(count, None)
    if as_of is not None:
        engine.advance(as_of)
        write(len(lines), as_of)
    records = [r.to_record() for r in engine.results()]
    by_id = {c.id: c for c in contracts}
    for record in records:
        if record["record"] != "clause":
            continue
        key = (record["contract"], record["clause"], record["period"])
        stored, prefix, clock = details[key]
        mine = [r for r in records if r["contract"] == record["contract"]]
        from_ledger = explain_from_ledger(by_id[key[0]], key[1], key[2], mine, stored)
        from_events = explain_from_events(contracts, *key, lines[:prefix], clock, lateness)
        assert listed(from_ledger) == listed(from_events), key
        assert notes(from_ledger) == [], key


def lines_of(events: Sequence[Any]) -> list[str]:
    return [event_json(event) for event in events]


@PROPERTY
@given(engine_streams.scenarios(), st.data())
def test_uptime_and_tickets_from_the_ledger_are_the_replays(scenario: Any, data: Any) -> None:
    chosen, events = scenario
    arrival = engine_streams.within_lateness(data.draw, events)
    agree(chosen, lines_of(arrival), engine_streams.LATENESS, None)


@PROPERTY
@given(business_streams.contracts(), business_streams.ticket_streams(), st.data())
def test_paused_tickets_from_the_ledger_are_the_replays(chosen: Contract, events: Any, data: Any) -> None:
    clock = business_streams.as_of(data.draw, events)
    arrival = business_streams.within_lateness(data.draw, events)
    agree([chosen], lines_of(arrival), business_streams.LATENESS, clock)


@PROPERTY
@given(availability_streams.scenarios(), st.randoms(use_true_random=False), st.sampled_from([0, 7, 60]))
def test_down_runs_from_the_ledger_are_the_replays(scenario: Any, rng: Any, lateness_minutes: int) -> None:
    lines = availability_streams.events(scenario, rng, split=True, delay=False)
    rng.shuffle(lines)  # with a short lateness some arrive late: not counted, by either
    clock = datetime.fromtimestamp(
        (availability_streams.BASE_US + scenario.clock * availability_streams.MINUTE) / 1_000_000, UTC
    )
    agree([availability_streams.contract(scenario)], lines, timedelta(minutes=lateness_minutes), clock)
