"""Properties of support hours, holidays and pauses (SPEC.md section 10): the engine agrees
with a minute-by-minute brute force, and arrival order, duplicates and splitting the stream
(snapshot, JSON, restore) do not change results, details or notices."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime, timedelta

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.contract import Contract
from monitor.engine import Engine
from monitor.engine.calendar import ContractCalendar
from monitor.engine.response import MISSED_HISTORY_US
from monitor.engine.snapshot import export_state, restore_state
from monitor.events import Event, TicketEvent
from tests.business_reference import business_missed, business_response_figures
from tests.reference import counted_events, reference_records, us
from tests.test_properties import run

BASE = datetime(2026, 3, 1, tzinfo=UTC)  # streams cross the March DST changes (NY 8th, Berlin 29th)
SPAN_MINUTES = 38 * 24 * 60  # and the end of March
LATENESS = timedelta(hours=1)
EXAMPLES = int(os.environ.get("SLAMON_PROPERTY_EXAMPLES", "150")) // 2
PROFILE = settings(
    max_examples=max(EXAMPLES, 10), deadline=None, suppress_health_check=[HealthCheck.too_slow]
)

CALENDARS = [
    {"hours": {"mon-fri": ["08:00-12:00", "13:00-17:30"], "sat": "09:00-13:00"}},
    # night hours across the DST changes; on Sundays a range starting in the spring gap (02:30)
    {"hours": {"mon-sat": ["00:00-03:00", "22:00-24:00"], "sun": ["02:30-05:00", "20:00-24:00"]}},
    {"hours": {"tue-thu": "10:00-11:00", "fri": ["07:00-09:00", "09:00-09:30"]}},
    {"hours": {"mon-sun": "00:00-24:00"}},
]
HOLIDAYS = [
    {},
    {"country": "DE", "subdivision": "BE", "dates": [date(2026, 3, 10)]},
    {"country": "US", "subdivision": "NY"},
    {"dates": [date(2026, 3, 2), date(2026, 3, 31)]},
]


@st.composite
def contracts(draw) -> Contract:
    hours = draw(st.sampled_from(CALENDARS))
    calendar = {"hours": hours["hours"], "holidays": draw(st.sampled_from(HOLIDAYS))}
    clause = {
        "id": "response",
        "kind": "response_time",
        "measure": draw(st.sampled_from(["responded", "resolved"])),
        "within": draw(st.sampled_from(["15m", "1h", "3h"])),
        "priorities": draw(st.sampled_from([None, ["P1"]])),
        "target_percent": draw(st.sampled_from([0, 50, 90, 100])),
        "credits": [{"below_percent": 90, "credit_percent": 5}],
        "pausable": draw(st.booleans()),
        "settle_after": draw(st.sampled_from(["0s", "1d", "3d"])),
    }
    if draw(st.booleans()):
        clause["calendar"] = "support"
    start = date(2026, 2, 1) + timedelta(days=draw(st.integers(0, 40)))
    document = {
        "id": "c",
        "customer": "Customer",
        "provider": "Provider",
        "timezone": draw(st.sampled_from(["Europe/Berlin", "America/New_York"])),
        "currency": "EUR",
        "monthly_fee": "1000.00",
        "effective_from": start,
        "effective_to": draw(st.sampled_from([None, start + timedelta(days=45)])),
        "calendars": {"support": calendar},
        "clauses": [clause],
    }
    return Contract.model_validate(document)


@st.composite
def ticket_streams(draw) -> list[Event]:
    """Ticket events in time order, on whole minutes, each with a unique id: a few tickets,
    each with pauses, resumes and answers soon after its opening, so deadlines decide."""
    timed: list[tuple[int, str, str, str]] = []
    for number in range(draw(st.integers(0, 6))):
        opened = draw(st.integers(0, SPAN_MINUTES))
        priority = draw(st.sampled_from(["P1", "P1", "P2"]))
        timed.append((opened, f"t{number}", "opened", priority))
        follow_ups = draw(
            st.lists(
                st.tuples(
                    st.one_of(st.integers(-30, 600), st.integers(0, 4 * 24 * 60)),
                    st.sampled_from(["paused", "resumed", "responded", "resolved", "opened"]),
                ),
                max_size=6,
            )
        )
        timed += [(max(opened + delay, 0), f"t{number}", action, priority) for delay, action in follow_ups]
    events: list[Event] = []
    for index, (minute, ticket_id, action, priority) in enumerate(sorted(timed)):
        events.append(
            TicketEvent(
                event_id=f"e{index:03d}",
                type="ticket",
                ticket_id=ticket_id,
                contract="c",
                action=action,
                priority=priority,
                at=BASE + timedelta(minutes=minute),
            )
        )
    return events


def within_lateness(draw, events: list[Event]) -> list[Event]:
    """A permutation in which no event arrives later than the lateness bound allows."""
    jitter = [draw(st.integers(0, 59)) for _ in events]
    order = sorted(range(len(events)), key=lambda i: (events[i].at + timedelta(minutes=jitter[i]), i))
    return [events[i] for i in order]


def as_of(draw, events: list[Event]) -> datetime | None:
    late = draw(
        st.sampled_from([None, timedelta(0), timedelta(hours=5), timedelta(days=2), timedelta(days=40)])
    )
    if late is None or not events:
        return None
    return max(e.at for e in events) + late


@PROFILE
@given(contracts(), ticket_streams(), st.data())
def test_engine_agrees_with_the_minute_by_minute_reference(chosen, events, data):
    arrival = within_lateness(data.draw, events) if data.draw(st.booleans()) else events
    clock = as_of(data.draw, events)
    expected = reference_records([chosen], arrival, LATENESS, clock, responses=business_response_figures)
    engine = Engine([chosen], LATENESS)
    for event in arrival:
        engine.apply(event)
    if clock is not None:
        engine.advance(clock)
    assert [r.to_record() for r in engine.results()] == expected
    # each missed ticket's deadline and counted time at its first measure, to the microsecond
    kept, watermark = counted_events(arrival, LATENESS)
    if watermark is None:
        return
    at = us(clock) if clock is not None else watermark
    found = sorted(
        (d.period, line[0], line[4], line[5])
        for d in engine.clause_details(periods=12)
        for line in d.data["missed"]
    )
    lateness_us = LATENESS // timedelta(microseconds=1)
    # statements keep the missed tickets of the last MISSED_HISTORY_US before the settled point
    oldest = ContractCalendar(chosen).key_of(at - lateness_us - MISSED_HISTORY_US) or ""
    expected_missed = business_missed(chosen, chosen.clauses[0], kept, at, lateness_us)
    assert [line for line in found if line[0] >= oldest] == [
        line for line in expected_missed if line[0] >= oldest
    ]


@PROFILE
@given(contracts(), ticket_streams(), st.data())
def test_arrival_order_within_lateness_does_not_matter(chosen, events, data):
    clock = as_of(data.draw, events)
    assert run([chosen], within_lateness(data.draw, events), clock) == run([chosen], events, clock)


@PROFILE
@given(contracts(), ticket_streams(), st.data())
def test_duplicates_do_not_matter(chosen, events, data):
    with_duplicates = list(events)
    for index in data.draw(st.lists(st.integers(0, max(len(events) - 1, 0)), max_size=8)) if events else []:
        original = with_duplicates.index(events[index])
        with_duplicates.insert(data.draw(st.integers(original + 1, len(with_duplicates))), events[index])
    clock = as_of(data.draw, events)
    assert run([chosen], with_duplicates, clock) == run([chosen], events, clock)


def details_and_notices(engine: Engine) -> tuple[list[dict], set[str]]:
    return [d.to_record() for d in engine.clause_details(periods=3)], {n.id for n in engine.take_notices()}


@PROFILE
@given(contracts(), ticket_streams(), st.data())
def test_splitting_the_stream_does_not_matter(chosen, events, data):
    """Stop anywhere, persist the state as JSON, restore it and go on: same results, details
    (missed, undecided, holidays) and notices as one engine that saw everything."""
    cut = data.draw(st.integers(0, len(events)))
    clock = as_of(data.draw, events)
    first = Engine([chosen], LATENESS)
    said: set[str] = set()
    for event in events[:cut]:
        first.apply(event)
    said |= {n.id for n in first.take_notices()}
    restored = Engine([chosen], LATENESS)
    restore_state(restored, orjson.loads(orjson.dumps(export_state(first))))
    for event in events[cut:]:
        restored.apply(event)
    whole = Engine([chosen], LATENESS)
    for event in events:
        whole.apply(event)
    if clock is not None:
        restored.advance(clock)
        whole.advance(clock)
    assert [r.to_record() for r in restored.results()] == [r.to_record() for r in whole.results()]
    details, later = details_and_notices(restored)
    expected_details, expected_notices = details_and_notices(whole)
    assert details == expected_details
    assert said | later == expected_notices
