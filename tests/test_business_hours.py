"""Hand-computed cases of SPEC.md section 10: support hours, holidays, pauses, settlement.

Each case opens two tickets on the same timeline: one answered exactly at the deadline
worked out in the comment (on time), one a microsecond later (missed). The missed one's
detail line carries the engine's deadline and the counted time at its response, so a
deadline one microsecond off fails the case.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from monitor.contract import Contract
from monitor.engine import Engine
from monitor.engine.business_hours import CalendarHours
from monitor.engine.snapshot import export_state, restore_state
from monitor.events import decode_event
from monitor.timeutil import to_us

M = 60 * 10**6  # one minute in microseconds
H = 60 * M
LATENESS = timedelta(hours=1)
# mon-fri with a lunch break, Saturday mornings, Berlin public holidays and two extra days
SUPPORT = {
    "hours": {"mon-fri": ["08:00-12:00", "13:00-17:30"], "sat": "09:00-13:00"},
    "holidays": {"country": "DE", "subdivision": "BE", "dates": ["2026-12-24", "2026-12-31"]},
}
WEEKDAYS = {"hours": {"mon-fri": ["08:00-12:00", "13:00-17:30"]}, "holidays": {"country": "DE"}}


def contract(calendar: dict[str, Any] | None, zone: str = "Europe/Berlin", **clause: Any) -> Contract:
    rule: dict[str, Any] = {
        "id": "p1",
        "kind": "response_time",
        "measure": "responded",
        "within": "4h",
        "target_percent": 95,
        **clause,
    }
    document: dict[str, Any] = {
        "id": "c",
        "customer": "Customer",
        "provider": "Provider",
        "timezone": zone,
        "currency": "EUR",
        "monthly_fee": "1000.00",
        "effective_from": "2026-01-01",
        "clauses": [rule],
    }
    if calendar is not None:
        document["calendars"] = {"support": calendar}
        rule.setdefault("calendar", "support")
    return Contract.model_validate(document)


def ticket(ticket_id: str, action: str, at: str, suffix: str = "") -> str:
    return (
        f'{{"event_id":"{ticket_id}-{action}-{at}{suffix}","type":"ticket","ticket_id":"{ticket_id}",'
        f'"contract":"c","action":"{action}","priority":"P1","at":"{at}"}}'
    )


def us(text: str) -> int:
    return to_us(datetime.fromisoformat(text))


def run(chosen: Contract, lines: list[str], as_of: str) -> Engine:
    engine = Engine([chosen], LATENESS)
    for line in lines:
        engine.apply(decode_event(line))
    engine.advance(datetime.fromisoformat(as_of))
    return engine


def clause_record(engine: Engine, period: str) -> dict[str, Any]:
    return next(r.to_record() for r in engine.results() if getattr(r, "clause", None) and r.period == period)


def details(engine: Engine, period: str) -> dict[str, Any]:
    return next(d.data for d in engine.clause_details(periods=3) if d.period == period)


def pair(opened: str, deadline: str, between: list[tuple[str, str]] = ()) -> list[str]:  # type: ignore[assignment]
    """Two tickets opened together, with the same pauses; A answers at the deadline, B 1 µs later."""
    timed = []
    for name, answer in (("A", deadline), ("B", _plus_1us(deadline))):
        for action, at in [("opened", opened), *between, ("responded", answer)]:
            timed.append((datetime.fromisoformat(at), ticket(name, action, at)))
    return [line for _, line in sorted(timed)]  # in time order, as a feed sends them


def _plus_1us(text: str) -> str:
    return (datetime.fromisoformat(text) + timedelta(microseconds=1)).isoformat()


def assert_deadline(engine: Engine, period: str, deadline: str, counted_at_response: int) -> None:
    """A on time, B missed; B's line says the deadline and the counted time at its response."""
    record = clause_record(engine, period)
    assert record["attained_percent"] == 50.0  # 1 of 2 on time
    [line] = details(engine, period)["missed"]
    assert line[0] == "B"
    assert line[4] == us(deadline)
    assert line[5] == counted_at_response


# --- calendars ------------------------------------------------------------------------------


def test_a_deadline_across_a_weekend_and_public_holidays() -> None:
    # Easter 2026 in Germany: Good Friday 3 Apr, Easter Monday 6 Apr (both closed).
    # Opened Thu 2 Apr 16:00 CEST. Counted: Thu 16:00-17:30 = 1h30; Fri holiday; Sat, Sun
    # closed (no Saturday hours here); Mon holiday; Tue 7 Apr 08:00 + the 2h30 left = 10:30 CEST.
    chosen = contract(WEEKDAYS)
    engine = run(chosen, pair("2026-04-02T16:00:00+02:00", "2026-04-07T10:30:00+02:00"), "2026-05-01T00:00Z")
    # B answers 1 µs after the deadline: 4h of counted time (it is 1 µs into open time)
    assert_deadline(engine, "2026-04", "2026-04-07T10:30:00+02:00", 4 * H + 1)


def test_the_calendar_holidays_of_the_month_are_in_the_details() -> None:
    chosen = contract(SUPPORT)
    engine = run(chosen, [ticket("A", "opened", "2026-12-01T09:00:00+01:00")], "2026-12-31T12:00:00+01:00")
    # Berlin 2026-12: Christmas Day (Fri 25), Second Day of Christmas (Sat 26), and the
    # contract's own 24 and 31 December
    assert [day for day, _ in details(engine, "2026-12")["holidays"]] == [
        "2026-12-24",
        "2026-12-25",
        "2026-12-26",
        "2026-12-31",
    ]


def test_lunch_breaks_do_not_count() -> None:
    # Opened Mon 5 Oct 10:00 CEST, 4h: 10:00-12:00 = 2h, lunch 12:00-13:00 closed,
    # 13:00 + 2h = 15:00 CEST (4h30 elapsed)
    engine = run(
        contract(SUPPORT), pair("2026-10-05T10:00:00+02:00", "2026-10-05T15:00:00+02:00"), "2026-12-01T00:00Z"
    )
    assert_deadline(engine, "2026-10", "2026-10-05T15:00:00+02:00", 4 * H + 1)


def test_a_ticket_opened_outside_hours_starts_counting_at_the_next_opening() -> None:
    # Opened Sun 4 Oct 20:00 CEST (closed): counting starts Mon 08:00; 4h -> Mon 12:00.
    # An answer during lunch (12:30) is late: the deadline is the *earliest* instant the
    # counted time reaches 4h; at 12:30 it is still exactly 4h.
    lines = [
        ticket("A", "opened", "2026-10-04T20:00:00+02:00"),
        ticket("B", "opened", "2026-10-04T20:00:00+02:00"),
        ticket("A", "responded", "2026-10-05T12:00:00+02:00"),
        ticket("B", "responded", "2026-10-05T12:30:00+02:00"),
    ]
    engine = run(contract(SUPPORT), lines, "2026-12-01T00:00Z")
    assert_deadline(engine, "2026-10", "2026-10-05T12:00:00+02:00", 4 * H)


def test_saturday_hours_and_24_00_end() -> None:
    # sat 09:00-13:00 and sun 20:00-24:00. Opened Sat 10 Oct 12:00 CEST: Sat 12:00-13:00 = 1h,
    # Sun 20:00-24:00 = 4h would pass 4h at Sun 23:00 CEST (21:00Z).
    calendar = {"hours": {"sat": "09:00-13:00", "sun": "20:00-24:00"}}
    engine = run(
        contract(calendar),
        pair("2026-10-10T12:00:00+02:00", "2026-10-11T23:00:00+02:00"),
        "2026-12-01T00:00Z",
    )
    assert_deadline(engine, "2026-10", "2026-10-11T23:00:00+02:00", 4 * H + 1)


# --- pauses ---------------------------------------------------------------------------------


def assert_paused_deadline(
    calendar: dict[str, Any] | None, opened: str, pauses: list[tuple[str, str]], deadline: str, **clause: Any
) -> None:
    """The pair of tickets with these pauses on a pausable clause: A on time, B missed at ``deadline``."""
    engine = run(
        contract(calendar, **{"pausable": True, **clause}),
        pair(opened, deadline, pauses),
        "2026-12-01T00:00Z",
    )
    assert_deadline(engine, "2026-10", deadline, 4 * H + 1)


def test_a_pause_over_closing_time() -> None:
    # Opened Tue 6 Oct 15:00 CEST, paused 16:30, resumed Wed 10:00.
    # Counted: 15:00-16:30 = 1h30; paused through closing (17:30) and Wed 08:00-10:00;
    # from Wed 10:00 the 2h30 left: 10:00-12:00 = 2h, lunch, 13:00-13:30 -> Wed 13:30 CEST.
    # (Without the pause: 15:00-17:30 = 2h30, Wed 08:00-09:30.)
    pauses = [("paused", "2026-10-06T16:30:00+02:00"), ("resumed", "2026-10-07T10:00:00+02:00")]
    assert_paused_deadline(SUPPORT, "2026-10-06T15:00:00+02:00", pauses, "2026-10-07T13:30:00+02:00")


def test_pauses_are_ignored_by_a_clause_that_is_not_pausable() -> None:
    # Same events; not pausable, so the deadline is Wed 09:30 CEST (see above).
    pauses = [("paused", "2026-10-06T16:30:00+02:00"), ("resumed", "2026-10-07T10:00:00+02:00")]
    assert_paused_deadline(
        SUPPORT, "2026-10-06T15:00:00+02:00", pauses, "2026-10-07T09:30:00+02:00", pausable=False
    )


def test_a_second_paused_changes_nothing() -> None:
    # Opened Tue 6 Oct 09:00, paused 10:00, paused again 11:00 (already paused: nothing),
    # resumed 14:00. Counted 09:00-10:00 = 1h; from 14:00 the 3h left -> 17:00 CEST.
    # (Taking the second `paused` for a resume would count 11:00-12:00 and end at 15:00.)
    pauses = [
        ("paused", "2026-10-06T10:00:00+02:00"),
        ("paused", "2026-10-06T11:00:00+02:00"),
        ("resumed", "2026-10-06T14:00:00+02:00"),
    ]
    assert_paused_deadline(SUPPORT, "2026-10-06T09:00:00+02:00", pauses, "2026-10-06T17:00:00+02:00")


def test_a_resumed_without_a_pause_changes_nothing() -> None:
    # Opened Tue 6 Oct 09:00; a `paused` before the opening (08:00, ignored); resumed 09:30
    # while running (nothing); paused 10:00, resumed 11:00.
    # Counted 09:00-10:00 = 1h, 11:00-12:00 = 1h, 13:00-15:00 = 2h -> 15:00 CEST.
    pauses = [
        ("paused", "2026-10-06T08:00:00+02:00"),
        ("resumed", "2026-10-06T09:30:00+02:00"),
        ("paused", "2026-10-06T10:00:00+02:00"),
        ("resumed", "2026-10-06T11:00:00+02:00"),
    ]
    assert_paused_deadline(SUPPORT, "2026-10-06T09:00:00+02:00", pauses, "2026-10-06T15:00:00+02:00")


def test_pauses_without_a_calendar_stop_elapsed_time() -> None:
    # No calendar: opened 6 Oct 10:00Z, paused 11:00Z to 13:00Z -> 4h counted at 16:00Z.
    pauses = [("paused", "2026-10-06T11:00:00Z"), ("resumed", "2026-10-06T13:00:00Z")]
    assert_paused_deadline(None, "2026-10-06T10:00:00Z", pauses, "2026-10-06T16:00:00Z")


# --- DST ------------------------------------------------------------------------------------


def test_a_deadline_over_the_dst_nights_in_berlin() -> None:
    night = {"hours": {"mon-sun": "00:00-06:00"}}
    # 25 Oct 2026, clocks go back 03:00 CEST -> 02:00 CET: 00:00-06:00 local is 22:00Z (24 Oct)
    # to 05:00Z, 7h of open time. Opened 00:00 local, 6h30 -> 04:30Z = 05:30 CET.
    engine = run(
        contract(night, within="PT6H30M"),
        pair("2026-10-25T00:00:00+02:00", "2026-10-25T05:30:00+01:00"),
        "2026-12-01T00:00Z",
    )
    assert_deadline(engine, "2026-10", "2026-10-25T05:30:00+01:00", 6 * H + 30 * M + 1)
    # 29 Mar 2026, clocks go forward 02:00 CET -> 03:00 CEST: 00:00-06:00 local is 23:00Z
    # (28 Mar) to 04:00Z, 5h. Opened 00:00 local, 5h30: 5h on Sunday, then Monday 00:00 CEST
    # (22:00Z) + 30m = 00:30 CEST.
    engine = run(
        contract(night, within="PT5H30M"),
        pair("2026-03-29T00:00:00+01:00", "2026-03-30T00:30:00+02:00"),
        "2026-05-01T00:00Z",
    )
    assert_deadline(engine, "2026-03", "2026-03-30T00:30:00+02:00", 5 * H + 30 * M + 1)


def test_a_deadline_over_the_dst_nights_in_new_york() -> None:
    # 8 Mar 2026, 02:00 EST -> 03:00 EDT. "02:30" does not exist that day: fold=0 takes the
    # offset before the jump (EST), 02:30 EST = 07:30Z; 05:00 EDT = 09:00Z: 1h30 open.
    # Opened Sat 7 Mar 12:00 EST, 2h: 1h30 on Sunday 8 Mar, then Sun 15 Mar 02:30 EDT
    # (06:30Z) + 30m = 07:00Z.
    gap = {"hours": {"sun": "02:30-05:00"}}
    engine = run(
        contract(gap, zone="America/New_York", within="2h"),
        pair("2026-03-07T12:00:00-05:00", "2026-03-15T07:00:00Z"),
        "2026-05-01T00:00Z",
    )
    assert_deadline(engine, "2026-03", "2026-03-15T07:00:00Z", 2 * H + 1)
    # 1 Nov 2026, 02:00 EDT -> 01:00 EST. "01:30" happens twice: fold=0 takes the first (EDT),
    # 01:30 EDT = 05:30Z; "02:00" is 02:00 EST = 07:00Z: the range is 1h30 long.
    # Opened Sat 31 Oct 12:00 EDT, 1h: 05:30Z + 1h = 06:30Z, which is 01:30 EST (the second 01:30).
    overlap = {"hours": {"sun": "01:30-02:00"}}
    engine = run(
        contract(overlap, zone="America/New_York", within="1h"),
        pair("2026-10-31T12:00:00-04:00", "2026-11-01T06:30:00Z"),
        "2026-12-15T00:00Z",
    )
    assert_deadline(engine, "2026-10", "2026-11-01T06:30:00Z", 1 * H + 1)


def test_open_hours_resolve_ranges_with_fold_0() -> None:
    # the range of the New York test above, on its day: 02:30 EST (07:30Z) to 05:00 EDT (09:00Z)
    chosen = contract({"hours": {"sun": "02:30-05:00"}}, zone="America/New_York")
    hours = CalendarHours(chosen.calendars["support"], chosen.zone)
    day_start, day_end = us("2026-03-08T00:00:00-05:00"), us("2026-03-09T00:00:00-04:00")
    assert hours.intervals(day_start, day_end) == [(us("2026-03-08T07:30:00Z"), us("2026-03-08T09:00:00Z"))]


# --- settlement -----------------------------------------------------------------------------


def test_a_ticket_paused_at_settlement_is_not_counted() -> None:
    # No calendar, pausable, within 4h, settle_after 10d, lateness 1h. Berlin: October ends
    # 1 Nov 00:00 CET = 31 Oct 23:00Z. D = end + 4h = 1 Nov 03:00Z; settles at
    # max(D, end + 10d) = 10 Nov 23:00Z; final once the watermark is 11 Nov 00:00Z.
    # T1: opened 30 Oct 10:00Z, paused 11:00Z (1h counted) and never resumed: undecided.
    # T2: opened 5 Oct 10:00Z, answered 11:00Z: on time.
    chosen = contract(None, pausable=True, settle_after="10d")
    lines = [
        ticket("T1", "opened", "2026-10-30T10:00:00Z"),
        ticket("T1", "paused", "2026-10-30T11:00:00Z"),
        ticket("T2", "opened", "2026-10-05T10:00:00Z"),
        ticket("T2", "responded", "2026-10-05T11:00:00Z"),
    ]
    before = run(chosen, lines, "2026-11-10T23:59:59Z")  # settled point 10 Nov 22:59:59Z
    assert clause_record(before, "2026-10")["final"] is False  # past D, but T1 is undecided
    assert clause_record(before, "2026-10")["attained_percent"] == 100.0  # T2 only so far
    settled = run(chosen, lines, "2026-11-11T00:00:00Z")
    record = clause_record(settled, "2026-10")
    assert (record["final"], record["attained_percent"]) == (True, 100.0)  # 1 of 1: T1 not counted
    assert details(settled, "2026-10")["undecided"] == [["T1", "P1", us("2026-10-30T10:00:00Z"), 1 * H]]
    # resumed after settlement and then past its deadline: the final month does not change
    later = [*lines, ticket("T1", "resumed", "2026-11-12T00:00:00Z")]
    after = run(chosen, later, "2026-11-20T00:00:00Z")
    assert clause_record(after, "2026-10") == record
    assert details(after, "2026-10")["undecided"] == [["T1", "P1", us("2026-10-30T10:00:00Z"), 1 * H]]


def test_a_period_is_final_once_past_d_with_every_ticket_decided() -> None:
    # Same clause; T1 paused 11:00Z, resumed 31 Oct 10:00Z: 3h left -> deadline 13:00Z, and
    # answered 31 Oct 12:00Z: on time. D = 1 Nov 03:00Z: final at watermark 04:00Z, not before.
    chosen = contract(None, pausable=True, settle_after="10d")
    lines = [
        ticket("T1", "opened", "2026-10-30T10:00:00Z"),
        ticket("T1", "paused", "2026-10-30T11:00:00Z"),
        ticket("T1", "resumed", "2026-10-31T10:00:00Z"),
        ticket("T1", "responded", "2026-10-31T12:00:00Z"),
    ]
    assert clause_record(run(chosen, lines, "2026-11-01T03:59:59Z"), "2026-10")["final"] is False
    record = clause_record(run(chosen, lines, "2026-11-01T04:00:00Z"), "2026-10")
    assert (record["final"], record["attained_percent"]) == (True, 100.0)


def test_a_calendar_period_is_final_after_its_business_deadline() -> None:
    # Weekday calendar, 4h, Berlin. October 2026 ends Sat 31 Oct 24:00 = Sun 1 Nov 00:00 CET.
    # D: an unpaused ticket opened then counts from Mon 2 Nov 08:00 CET -> 12:00 CET = 11:00Z.
    # No pauses, so every ticket is decided by D: final at watermark 12:00Z (lateness 1h).
    chosen = contract(WEEKDAYS)
    lines = [ticket("T1", "opened", "2026-10-30T17:00:00+01:00")]  # Fri 17:00 CET: 30m Fri, 3h30 Mon
    assert clause_record(run(chosen, lines, "2026-11-02T11:59:59Z"), "2026-10")["final"] is False
    record = clause_record(run(chosen, lines, "2026-11-02T12:00:00Z"), "2026-10")
    # T1's deadline Mon 08:00 + 3h30 = 11:30 CET, unanswered: missed
    assert (record["final"], record["attained_percent"]) == (True, 0.0)


def test_the_live_view_counts_paused_tickets() -> None:
    # T1 paused at 11:00Z and not resumed, T2 paused and resumed: one ticket paused now
    chosen = contract(None, pausable=True)
    lines = [
        ticket("T1", "opened", "2026-10-06T10:00:00Z"),
        ticket("T2", "opened", "2026-10-06T10:00:00Z"),
        ticket("T1", "paused", "2026-10-06T11:00:00Z"),
        ticket("T2", "paused", "2026-10-06T11:00:00Z"),
        ticket("T2", "resumed", "2026-10-06T11:30:00Z"),
    ]
    [status] = run(chosen, lines, "2026-10-06T12:00:00Z").clause_status()
    assert status.paused_tickets == 1
    [plain] = run(contract(None), lines, "2026-10-06T12:00:00Z").clause_status()
    assert plain.paused_tickets is None  # not pausable: no gauge


def test_a_snapshot_from_before_deadlines_were_kept_still_restores() -> None:
    # a version-2 snapshot's missed line had 4 fields; restored, it gains the elapsed-time
    # deadline (opened + 1h) and the counted time at the response (2h elapsed)
    chosen = contract(None, within="1h")
    engine = Engine([chosen], LATENESS)
    data = export_state(engine)
    opened, answered = us("2026-10-05T00:00:00Z"), us("2026-10-05T02:00:00Z")
    data["clauses"]["c/p1"] = {
        "tickets": {"T9": [[opened, "e1", "P1"], None]},
        "counts": {"2026-10": [1, 0]},
        "settled_ids": {"T1": opened},
        "missed": {"2026-10": [["T1", "P1", opened, answered]]},
    }
    restore_state(engine, data)
    state = engine._responses["c"][0]
    assert state.missed["2026-10"] == [("T1", "P1", opened, answered, opened + 1 * H, 2 * H)]
    assert state.tickets["T9"].opened == (opened, "e1", "P1") and state.tickets["T9"].pauses is None
