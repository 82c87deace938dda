"""Properties of the engine: order, duplicates and splitting do not matter; it agrees with a brute force."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.contract import Contract
from monitor.engine import Engine
from monitor.engine.snapshot import export_state, restore_state
from monitor.events import Event, MaintenanceEvent, TicketEvent, status_event
from tests.reference import reference_records

ZONES = ["Europe/Berlin", "America/New_York", "Asia/Tokyo", "Australia/Lord_Howe", "America/Santiago", "UTC"]
CURRENCIES = ["EUR", "USD", "JPY", "BHD"]
BASE = datetime(2026, 2, 20, tzinfo=UTC)  # streams cover the March and April DST changes
SPAN_MINUTES = 70 * 24 * 60
LATENESS = timedelta(hours=1)

settings.register_profile(
    "engine",
    max_examples=int(os.environ.get("SLAMON_PROPERTY_EXAMPLES", "150")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("engine")

percent = st.sampled_from([90, 95, 99, 99.5, 99.9, 99.95, 100, 0, 97.25])


@st.composite
def contracts(draw) -> Contract:
    tiers = draw(
        st.lists(
            st.fixed_dictionaries(
                {"below_percent": percent, "credit_percent": st.sampled_from([5, 7.5, 10, 25])}
            ),
            max_size=3,
        )
    )
    windows = draw(
        st.lists(
            st.one_of(
                st.builds(
                    lambda day, hour, minutes: {
                        "rrule": f"FREQ=WEEKLY;BYDAY={day};BYHOUR={hour};BYMINUTE=30;BYSECOND=0",
                        "duration": f"{minutes}m",
                    },
                    st.sampled_from(["SU", "SA", "MO"]),
                    st.integers(0, 23),
                    st.integers(1, 180),
                ),
                st.builds(
                    lambda start, minutes: {
                        "start": BASE + timedelta(minutes=start),
                        "end": BASE + timedelta(minutes=start + minutes),
                    },
                    st.integers(0, SPAN_MINUTES),
                    st.integers(1, 600),
                ),
            ),
            max_size=2,
        )
    )
    maintenance: dict = {"windows": windows}
    if draw(st.booleans()):
        maintenance["announced_min_notice"] = draw(st.sampled_from(["0s", "1h", "48h"]))
    consecutive = draw(
        st.one_of(
            st.none(),
            st.fixed_dictionaries(
                {
                    "periods": st.integers(1, 3),
                    "credit_percent": st.sampled_from([0, 10]),
                    "remedy": st.sampled_from(["contract_review", "termination_right", "none"]),
                }
            ),
        )
    )
    clauses = [
        {
            "id": "uptime",
            "kind": "uptime",
            "service": draw(st.sampled_from(["api", "web"])),
            "target_percent": draw(percent),
            "exclude_maintenance": draw(st.booleans()),
            "min_outage": draw(st.sampled_from(["0s", "90s", "30m"])),
            "credits": tiers,
            "consecutive": consecutive,
        },
        {
            "id": "response",
            "kind": "response_time",
            "measure": draw(st.sampled_from(["responded", "resolved"])),
            "within": draw(st.sampled_from(["30m", "4h", "1d"])),
            "priorities": draw(st.sampled_from([None, ["P1"], ["P1", "P2"]])),
            "target_percent": draw(percent),
            "credits": tiers[:1],
        },
    ]
    start = date(2026, 1, 1) + timedelta(days=draw(st.integers(0, 80)))
    document = {
        "id": "c" + draw(st.sampled_from(["a", "b"])),
        "customer": "Customer",
        "provider": "Provider",
        "timezone": draw(st.sampled_from(ZONES)),
        "currency": draw(st.sampled_from(CURRENCIES)),
        "monthly_fee": draw(st.sampled_from(["1234567", "12000.00", "999.99", "0.5"])),
        "effective_from": start,
        "effective_to": draw(st.sampled_from([None, start + timedelta(days=45)])),
        "credit_cap_percent": draw(st.sampled_from([None, 10, 30])),
        "maintenance": maintenance,
        "clauses": clauses,
    }
    return Contract.model_validate(document)


def _at(minute: int, second: int = 0) -> datetime:
    return BASE + timedelta(minutes=minute, seconds=second)


@st.composite
def event_streams(draw, contract_ids: list[str]) -> list[Event]:
    """Events in time order, each with a unique id (arrival order is chosen by the tests)."""
    count = draw(st.integers(0, 40))
    minutes = sorted(draw(st.lists(st.integers(0, SPAN_MINUTES), min_size=count, max_size=count)))
    events: list[Event] = []
    for index, minute in enumerate(minutes):
        kind = draw(st.sampled_from(["status", "status", "status", "maintenance", "ticket"]))
        at = _at(minute, draw(st.sampled_from([0, 0, 30])))
        event_id = f"e{index:03d}"
        if kind == "status":
            events.append(
                status_event(
                    event_id=event_id,
                    service=draw(st.sampled_from(["api", "web"])),
                    status=draw(st.sampled_from(["up", "down"])),
                    at=at,
                )
            )
        elif kind == "maintenance":
            lead = timedelta(minutes=draw(st.sampled_from([0, 30, 120, 3000])))
            length = timedelta(minutes=draw(st.integers(1, 300)))
            events.append(
                MaintenanceEvent(
                    event_id=event_id,
                    type="maintenance",
                    service=draw(st.sampled_from(["api", "web"])),
                    start=at + lead,
                    end=at + lead + length,
                    at=at,
                )
            )
        else:
            events.append(
                TicketEvent(
                    event_id=event_id,
                    type="ticket",
                    ticket_id=f"t{draw(st.integers(0, 6))}",
                    contract=draw(st.sampled_from(contract_ids)),
                    action=draw(st.sampled_from(["opened", "opened", "responded", "resolved"])),
                    priority=draw(st.sampled_from(["P1", "P2", "P3"])),
                    at=at,
                )
            )
    return events


@st.composite
def scenarios(draw):
    first = draw(contracts())
    chosen = [first]
    if draw(st.booleans()):
        second = draw(contracts())
        if second.id != first.id:
            chosen.append(second)
    events = draw(event_streams([c.id for c in chosen]))
    return chosen, events


def run(contracts_: list[Contract], events: list[Event], clock: datetime | None = None) -> list[dict]:
    engine = Engine(contracts_, LATENESS)
    for event in events:
        engine.apply(event)
    if clock is not None:
        engine.advance(clock)
    return [r.to_record() for r in engine.results()]


def within_lateness(draw, events: list[Event]) -> list[Event]:
    """A permutation in which no event arrives later than the lateness bound allows."""
    jitter = [draw(st.integers(0, 29 * 60)) for _ in events]
    order = sorted(range(len(events)), key=lambda i: (events[i].at + timedelta(seconds=jitter[i]), i))
    return [events[i] for i in order]


@given(scenarios(), st.data())
def test_arrival_order_within_lateness_does_not_matter(scenario, data):
    chosen, events = scenario
    shuffled = data.draw(
        st.builds(lambda: None).flatmap(lambda _: st.just(within_lateness(data.draw, events)))
    )
    assert run(chosen, shuffled) == run(chosen, events)


@given(scenarios(), st.data())
def test_duplicates_do_not_matter(scenario, data):
    chosen, events = scenario
    copies = data.draw(st.lists(st.integers(0, max(len(events) - 1, 0)), max_size=10)) if events else []
    with_duplicates = list(events)
    for index in copies:
        original = with_duplicates.index(events[index])
        position = data.draw(st.integers(original + 1, len(with_duplicates)))
        with_duplicates.insert(position, events[index])  # a redelivery, after the first delivery
    assert run(chosen, with_duplicates) == run(chosen, events)


@given(scenarios(), st.data())
def test_splitting_the_stream_does_not_matter(scenario, data):
    """Stop anywhere, look at the results, persist the state as JSON, restore it and go on."""
    chosen, events = scenario
    cut = data.draw(st.integers(0, len(events)))
    engine = Engine(chosen, LATENESS)
    for event in events[:cut]:
        engine.apply(event)
    engine.results()
    restored = Engine(chosen, LATENESS)
    restore_state(restored, orjson.loads(orjson.dumps(export_state(engine))))
    for event in events[cut:]:
        restored.apply(event)
    assert [r.to_record() for r in restored.results()] == run(chosen, events)


@given(scenarios(), st.data())
def test_engine_agrees_with_brute_force(scenario, data):
    chosen, events = scenario
    arrival = within_lateness(data.draw, events) if data.draw(st.booleans()) else events
    late_clock = data.draw(st.sampled_from([None, timedelta(0), timedelta(minutes=20), timedelta(days=40)]))
    as_of = None
    if late_clock is not None and events:
        as_of = max(e.at for e in events) + late_clock
    assert run(chosen, arrival, as_of) == reference_records(chosen, arrival, LATENESS, as_of)


@given(scenarios(), st.data())
def test_late_events_are_ignored_like_the_reference(scenario, data):
    """Arbitrary disorder: events beyond the lateness bound are dropped by both alike."""
    chosen, events = scenario
    shuffled = data.draw(st.permutations(events))
    assert run(chosen, shuffled) == reference_records(chosen, shuffled, LATENESS)


def notice_ids(engine: Engine, events: list[Event], clock: datetime | None = None) -> set[str]:
    ids = set()
    for event in events:
        engine.apply(event)
        ids.update(n.id for n in engine.take_notices())
    if clock is not None:
        engine.advance(clock)
    return ids | {n.id for n in engine.take_notices()}


@given(scenarios(), st.data())
def test_notices_do_not_depend_on_arrival_order_or_duplicates(scenario, data):
    chosen, events = scenario
    shuffled = within_lateness(data.draw, events)
    shuffled += data.draw(st.lists(st.sampled_from(events), max_size=5)) if events else []
    clock = max((e.at for e in events), default=None)
    clock = clock + timedelta(days=40) if clock is not None else None
    expected = notice_ids(Engine(chosen, LATENESS), events, clock)
    assert notice_ids(Engine(chosen, LATENESS), shuffled, clock) == expected


@given(scenarios(), st.data())
def test_a_restored_engine_says_nothing_twice(scenario, data):
    chosen, events = scenario
    cut = data.draw(st.integers(0, len(events)))
    first = Engine(chosen, LATENESS)
    said = notice_ids(first, events[:cut])
    restored = Engine(chosen, LATENESS)
    restore_state(restored, orjson.loads(orjson.dumps(export_state(first))))
    later = notice_ids(restored, events[cut:])
    assert not said & later
    assert said | later == notice_ids(Engine(chosen, LATENESS), events)


@given(scenarios(), st.data())
def test_uptime_notices_do_not_depend_on_how_the_clock_moves(scenario, data):
    """The live worker's clock moves in steps of its own (partitions read at different paces,
    idle ones jumping to the wall clock), not with every event as in replay: an uptime period
    is at risk, breached and closed all the same. (Response-time at risk is a dip below
    target + margin seen at the clock's stops, so it is left out here.)"""
    chosen, events = scenario
    if not events:
        return
    end = max(e.at for e in events) + timedelta(days=40)
    replay = Engine(chosen, LATENESS)
    expected = notice_ids(replay, events, end)
    live = Engine(chosen, LATENESS, clocked_by_events=False)
    said: set[str] = set()
    for event in events:
        live.apply(event)
        if data.draw(st.integers(0, 9)) == 0:  # now and then, the clock catches up
            live.advance(event.at)
        said.update(n.id for n in live.take_notices())
    live.advance(end)
    said.update(n.id for n in live.take_notices())
    uptime = {f"{c.id}/{clause.id}/" for c in chosen for clause in c.clauses if clause.kind == "uptime"}

    def uptime_or_closing(ids: set[str]) -> set[str]:
        return {i for i in ids if i.endswith("period_closed") or any(i.startswith(u) for u in uptime)}

    assert uptime_or_closing(said) == uptime_or_closing(expected)
