"""Request-based availability (SPEC.md section 11): hand-computed months, notices, bad input.

Each expected figure is derived by hand in the comment above it.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from typing import Any

import pytest
from hypothesis import event as hypothesis_event
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.engine import Engine, Outcome
from monitor.engine.snapshot import export_state, restore_state
from monitor.events import InvalidEvent, decode_event, decode_with_pydantic
from monitor.loader import load_contract_file
from monitor.statements.build import build_statement
from monitor.statements.render import render
from monitor.stream.partitions import Stream, partition_of
from monitor.stream.processor import PartitionProcessor
from tests.builders import availability, contract, feed, maintenance, moment, requests, run


def percent(value: Fraction) -> float:
    return float(value)


def utc(*clauses: dict, **overrides: Any):
    return contract(*clauses, timezone="UTC", effective_from="2026-11-01", **overrides)


# downtime_intervals ----------------------------------------------------------------------


def test_downtime_intervals_month_by_hand() -> None:
    clause = availability(error_rate_above_percent=5, min_requests=10, target=99.9)
    lines = [
        requests("2026-11-10T10:00:00+00:00", 100, 5),  # exactly 5%: not above 5%, up
        requests("2026-11-10T10:01:00+00:00", 100, 6),  # 6%: down
        requests("2026-11-10T10:02:00+00:00", 9, 9),  # 100% of 9 < min_requests 10: up
        requests("2026-11-10T10:03:00+00:00", 200, 11),  # 5.5%: down
        # one minute in two parts: 50/2 + 50/4 = 100/6, 6%: down (10:03-10:05 is one run)
        requests("2026-11-10T10:04:00+00:00", 50, 2, end="2026-11-10T10:04:30+00:00"),
        requests("2026-11-10T10:04:30+00:00", 50, 4, end="2026-11-10T10:05:00+00:00"),
        # announced maintenance 12:00:30-12:01:00 touches the interval 12:00 only: excluded
        maintenance("2026-11-10T12:00:30+00:00", "2026-11-10T12:01:00+00:00", "2026-11-01T00:00:00+00:00"),
        requests("2026-11-10T12:00:00+00:00", 100, 100),  # excluded, not down
        requests("2026-11-10T12:01:00+00:00", 100, 50),  # [12:01, 12:02) does not touch it: down
    ]
    rows = run(utc(clause, maintenance={"announced_min_notice": "48h"}), lines, "2026-12-01T01:00:00Z")
    # November: 30 days x 1440 = 43,200 one-minute intervals, 1 excluded: E = 43,199;
    # down: 10:01, 10:03, 10:04, 12:01 = 4 -> 100 x 43,195 / 43,199
    record = rows.clause("api-availability", "2026-11")
    assert record["attained_percent"] == percent(Fraction(100 * 43195, 43199))
    assert record["final"] is True
    assert record["met"] is True  # 99.9907... >= 99.9


def test_down_run_across_a_month_end_and_min_downtime() -> None:
    # Europe/Berlin: 31 Oct 2026 local midnight is 23:00Z (CET after 25 Oct). 5-minute intervals,
    # min_downtime 15m. October 2026 there has 745 hours (the DST end adds one) = 8,940
    # intervals; November 720 hours = 8,640.
    def clause(service: str) -> dict:
        return availability(f"{service}-av", interval="5m", min_downtime="15m", target=99, service=service)

    def down(service: str, *starts: str) -> list[str]:
        # every minute of each 5-minute interval: 10/10 failed
        lines = []
        for start in starts:
            first = moment(f"2026-10-31T{start}:00+00:00")
            for minute in range(5):
                at = (first + timedelta(minutes=minute)).isoformat()
                lines.append(requests(at, 10, 10, service=service))
        return lines

    lines = (
        down("api", "22:50", "22:55", "23:00", "23:05")  # 20 min >= 15: 2 in October, 2 in November
        + down("web", "22:55", "23:00")  # 10 min < 15: ignored in both months
        + down("db", "22:55", "23:00", "23:05")  # exactly 15 min: counts, 1 in October, 2 in November
    )
    rows = run(contract(clause("api"), clause("web"), clause("db")), lines, "2026-12-01T00:00:00Z")
    assert rows.clause("api-av", "2026-10")["attained_percent"] == percent(Fraction(100 * 8938, 8940))
    assert rows.clause("api-av", "2026-11")["attained_percent"] == percent(Fraction(100 * 8638, 8640))
    assert rows.clause("web-av", "2026-10")["attained_percent"] == 100.0
    assert rows.clause("web-av", "2026-11")["attained_percent"] == 100.0
    assert rows.clause("db-av", "2026-10")["attained_percent"] == percent(Fraction(100 * 8939, 8940))
    assert rows.clause("db-av", "2026-11")["attained_percent"] == percent(Fraction(100 * 8638, 8640))
    assert all(
        rows.clause(f"{s}-av", p)["final"] for s in ("api", "web", "db") for p in ("2026-10", "2026-11")
    )


def test_a_run_not_yet_known_to_count_keeps_its_month_provisional() -> None:
    # UTC, 5-minute intervals, min_downtime 30m, lateness 0. Down 31 Oct 23:50 to 1 Nov 00:05:
    # 15 minutes so far at the clock 00:05, still down: October is past its end + lateness
    # but cannot be final until the run is decided.
    clause = availability(interval="5m", min_downtime="30m", target=99)
    doc = {"timezone": "UTC", "effective_from": "2026-10-01"}
    lines = [requests(f"2026-10-31T23:{m:02d}:00+00:00", 10, 10) for m in range(50, 60)]
    lines += [requests(f"2026-11-01T00:0{m}:00+00:00", 10, 10) for m in range(5)]
    open_rows = run(contract(clause, **doc), lines, "2026-11-01T00:05:00Z", lateness=timedelta(0))
    october = open_rows.clause("api-availability", "2026-10")
    assert (october["final"], october["attained_percent"]) == (False, 100.0)
    # an up interval at 00:05 ends the run at 15 minutes: ignored, October final at 100
    ended = lines + [requests(f"2026-11-01T00:0{m}:00+00:00", 10, 0) for m in range(5, 10)]
    closed = run(contract(clause, **doc), ended, "2026-11-01T00:10:00Z", lateness=timedelta(0))
    october = closed.clause("api-availability", "2026-10")
    assert (october["final"], october["attained_percent"]) == (True, 100.0)


# mean_error_rate and request_ratio -----------------------------------------------------


def test_mean_error_rate_month_by_hand() -> None:
    clause = availability(method="mean_error_rate", interval="5m", min_requests=100, target=99)
    window = {"windows": [{"start": "2026-11-10T13:04:00Z", "end": "2026-11-10T13:20:00Z"}]}
    lines = [
        requests("2026-11-10T10:00:00+00:00", 1000, 10),
        requests("2026-11-10T10:01:00+00:00", 1000, 40),  # interval 10:00: 50/2000 = 1/40
        requests("2026-11-10T11:00:00+00:00", 50, 50),  # 50 < min_requests 100: rate 0
        requests("2026-11-10T12:03:00+00:00", 300, 100),  # interval 12:00: 1/3
        requests("2026-11-10T13:02:00+00:00", 300, 300),  # interval 13:00 touches 13:04-13:20: excluded
    ]
    rows = run(utc(clause, maintenance=window), lines, "2026-12-01T01:00:00Z")
    # 30 days x 288 = 8,640 intervals; 13:04-13:20 touches 13:00, 13:05, 13:10, 13:15: E = 8,636.
    # sum of rates 1/40 + 1/3 = 43/120; attained = 100 x (1 - (43/120) / 8,636)
    expected = 100 * (1 - Fraction(43, 120) / 8636)
    assert rows.clause("api-availability", "2026-11")["attained_percent"] == percent(expected)


def test_request_ratio_month_by_hand_with_at_risk_and_no_breach() -> None:
    clause = availability(method="request_ratio", target=99.9)
    lines = [
        requests("2026-11-10T10:00:00+00:00", 1000, 1),
        requests("2026-11-10T10:01:00+00:00", 3000, 2),
        requests("2026-11-10T13:00:00+00:00", 100, 10),
    ]
    rows = run(utc(clause), lines, "2026-12-01T01:00:00Z")
    # (4,100 - 13) / 4,100 good requests = 99.6829...% < 99.9: missed
    record = rows.clause("api-availability", "2026-11")
    assert record["attained_percent"] == percent(Fraction(100 * 4087, 4100))
    assert record["met"] is False
    ids = {notice["id"] for notice in rows.report.notices}
    # at risk below 99.9 + 25% x 0.1 = 99.925: after 10:00 it is 999/1000 = 99.9%
    assert ids == {
        "acme/api-availability/2026-11/sla.at_risk",
        "acme/api-availability/2026-11/sla.period_closed",
    }
    at_risk = next(n for n in rows.report.notices if n["type"] == "sla.at_risk")
    assert at_risk["facts"]["attained_percent_so_far"] == 99.9


def test_no_data_means_no_requests() -> None:
    # an empty November: every interval eligible and up; request_ratio has no requests
    methods = ["downtime_intervals", "mean_error_rate", "request_ratio"]
    clauses = [availability(m.replace("_", "-"), method=m) for m in methods]
    rows = run(utc(*clauses), [requests("2026-12-01T00:30:00+00:00", 1, 0)], "2026-12-01T01:00:00Z")
    figures = [rows.clause(m.replace("_", "-"), "2026-11")["attained_percent"] for m in methods]
    assert figures == [100.0, 100.0, 100.0]


# notices -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("down_minutes", "expected"),
    [
        # November, 43,200 intervals, target 99.9: budget 0.1% = 43.2 intervals;
        # at risk at 75% = 32.4, so from 33 down intervals; breached above 43.2, from 44
        (32, set()),
        (33, {"sla.at_risk"}),
        (44, {"sla.at_risk", "sla.breached"}),
    ],
)
def test_downtime_budget_notices(down_minutes: int, expected: set[str]) -> None:
    first = moment("2026-11-10T10:00:00+00:00")
    lines = [
        requests((first + timedelta(minutes=m)).isoformat(), 10, 10 if m < down_minutes else 0)
        for m in range(down_minutes + 1)
    ]
    rows = run(utc(availability(target=99.9)), lines, "2026-11-20T00:00:00Z")
    assert {n["type"] for n in rows.report.notices} == expected


def test_mean_error_rate_breach() -> None:
    # 5m intervals, target 99: budget 1% of 8,640 = 86.4 summed rates; 87 fully failed
    # intervals exceed it (and pass the 75% at-risk mark, 64.8, on the way)
    first = moment("2026-11-10T00:00:00+00:00")
    lines = [requests((first + timedelta(minutes=5 * i)).isoformat(), 10, 10) for i in range(87)]
    clause = availability(method="mean_error_rate", interval="5m", target=99)
    rows = run(utc(clause), lines, "2026-11-20T00:00:00Z")
    assert {n["type"] for n in rows.report.notices} == {"sla.at_risk", "sla.breached"}


# snapshots -------------------------------------------------------------------------------


def test_a_restored_engine_continues_where_it_stopped() -> None:
    clauses = [
        availability("d", interval="3m", min_downtime="6m"),
        availability("m", method="mean_error_rate", interval="15m"),
        availability("r", method="request_ratio", interval="1m"),
    ]
    c = utc(*clauses)
    first = moment("2026-11-30T22:00:00+00:00")
    lines = [
        requests((first + timedelta(minutes=m)).isoformat(), 7 + m % 13, (m * 7) % 5) for m in range(180)
    ]
    whole = Engine([c])
    feed(whole, lines)
    half = Engine([c])
    feed(half, lines[:100])
    restored = Engine([c])
    restore_state(restored, json.loads(json.dumps(export_state(half))))
    feed(restored, lines[100:])
    assert [r.to_record() for r in restored.results()] == [r.to_record() for r in whole.results()]


# bad events ------------------------------------------------------------------------------


def event(**changes: Any) -> str:
    document = json.loads(requests("2026-11-10T10:00:00+00:00", 100, 5))
    document.update(changes)
    return json.dumps({k: v for k, v in document.items() if v is not None})


@pytest.mark.parametrize(
    ("line", "reason"),
    [
        (event(failed=101), "field 'failed': 101 is more than total 100"),
        (
            event(
                start="2026-11-10T10:00:30+00:00", end="2026-11-10T10:01:10+00:00", at="2026-11-10T10:02:00Z"
            ),
            "field 'end': [start, end) must lie inside one minute aligned to the Unix epoch "
            "(this one crosses 2026-11-10T10:01:00Z)",
        ),
        (event(total=100.5), "field 'total': Input should be a valid integer"),
        (event(failed="5"), "field 'failed': Input should be a valid integer"),
        (event(total=1.0), "field 'total': Input should be a valid integer"),
        (event(failed=-1), "field 'failed': Input should be greater than or equal to 0"),
        (event(total=10**12 + 1), "field 'total': Input should be less than or equal to 1000000000000"),
        (event(at="2026-11-10T10:00:59+00:00"), "field 'at': the counts cannot be taken before 'end'"),
        (event(end="2026-11-10T10:00:00+00:00"), "field 'end': must be after 'start'"),
        (event(service=None), "missing field 'service'"),
    ],
)
def test_bad_requests_events_are_rejected_with_a_reason(line: str, reason: str) -> None:
    with pytest.raises(InvalidEvent) as error:
        decode_event(line)
    assert error.value.reason == reason


def test_a_whole_minute_ending_on_the_next_one_is_valid() -> None:
    decoded = decode_event(event(total=10**12, failed=10**12))
    assert (decoded.end - decoded.start) == timedelta(minutes=1)  # type: ignore[union-attr]


# contracts -------------------------------------------------------------------------------

BASE_CONTRACT = """
id: c
customer: C
provider: P
timezone: UTC
currency: EUR
monthly_fee: "100"
effective_from: 2026-01-01
clauses:
  - id: av
    kind: availability
    service: api
    target_percent: 99.9
"""


@pytest.mark.parametrize(
    ("clause", "problem"),
    [
        (
            "method: downtime_intervals\n    interval: 1m",
            "clauses[0].error_rate_above_percent: required when",
        ),
        (
            "method: request_ratio\n    interval: 2m",
            "clauses[0].interval: interval must be 1m, 3m, 5m or 15m",
        ),
        ("method: mean_error_rate\n    interval: 5m\n    min_requests: 0", "clauses[0].min_requests:"),
        ("method: uptime_ratio\n    interval: 5m", "clauses[0].method:"),
    ],
)
def test_bad_availability_clauses_name_the_field(tmp_path, clause: str, problem: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(BASE_CONTRACT + "    " + clause + "\n")
    loaded, problems = load_contract_file(path)
    assert loaded is None
    assert any(problem in str(p) for p in problems), problems


# the quick decoder of requests events ---------------------------------------------------

timestamps = st.one_of(
    st.sampled_from(
        [
            "2026-11-10T10:00:00Z",
            "2026-11-10T10:00:00z",
            "2026-11-10t10:00:00Z",
            "2026-11-10 10:00:00Z",
            "2026-11-10T10:00:00.5Z",
            "2026-11-10T12:00:00+02:00",
            "2026-11-10T04:30:00-05:30",
            "2026-11-10T10:00:00-00:00",
            "2026-11-10T10:00:00+0000",
            "2026-11-10T10:00:00",
            "2026-02-30T10:00:00Z",
            "2026-11-10T24:00:00Z",
            "2026-11-10T10:00:60Z",
            "2026-11-10T10:00:00+25:00",
            "10000-11-10T10:00:00Z",
            "1969-12-31T23:59:00Z",
        ]
    ),
    st.datetimes(timezones=st.just(UTC)).map(lambda d: d.isoformat()),
)
counts = st.one_of(st.integers(-2, 10**12 + 2), st.sampled_from([1.0, 2.5, True, "5", None, 10**20]))


names = st.sampled_from(["e", "", "x" * 256, "x" * 257, "é" * 256, 5, None, ["e"]])


OFFSETS = [timedelta(0), timedelta(hours=2), timedelta(hours=-5, minutes=-30), timedelta(hours=14)]


def stamp_text(instant: datetime, offset: timedelta, shape: str) -> str:
    """``instant`` written in one of the shapes RFC 3339 (and pydantic) allow, or a wrong one."""
    text = instant.astimezone(timezone(offset)).isoformat()
    if shape == "Z" and offset == timedelta(0):
        return text.replace("+00:00", "Z")
    if shape == "space":
        return text.replace("T", " ")
    if shape == "fraction":
        return text[:19] + ".000000" + text[19:]
    if shape == "naive":
        return text[:19]
    return text


SHAPES = st.sampled_from(["Z", "Z", "offset", "offset", "offset", "space", "fraction", "naive"])


def mangled_line(
    draw: st.DrawFn, fields: dict[str, Any], wrong: dict[str, st.SearchStrategy[Any]]
) -> str | bytes:
    """``fields`` as a JSON line after up to two of them are made wrong (from ``wrong``, or a
    timestamp or count) or dropped, extra fields added, a key repeated, in any order, or
    another JSON value; as text or bytes."""
    changed = draw(st.sampled_from([0, 0, 0, 1, 2]))
    for name in draw(st.sets(st.sampled_from(sorted(fields)), min_size=changed, max_size=changed)):
        if draw(st.booleans()):
            del fields[name]
        else:
            fields[name] = draw(wrong.get(name, st.one_of(timestamps, counts)))
    pairs = list(fields.items()) + draw(st.lists(st.tuples(st.just("note"), counts), max_size=2))
    if pairs and draw(st.booleans()):  # a repeated key: JSON leaves it open, both keep the last one
        name = draw(st.sampled_from(pairs))[0]
        pairs.append((name, draw(st.sampled_from([fields.get(name), 0, "x", "2026-11-10T10:00:00Z"]))))
    pairs = draw(st.permutations(pairs))
    text = "{" + ",".join(f"{json.dumps(k)}:{json.dumps(v)}" for k, v in pairs) + "}"
    text = draw(st.sampled_from([text] * 12 + ["[" + text + "]", '"requests"', text[:-1], text + " "]))
    return text.encode() if draw(st.booleans()) else text


@st.composite
def requests_lines(draw: st.DrawFn) -> str | bytes:
    """Valid requests events in several shapes, then mangled (``mangled_line``)."""
    minute = draw(st.integers(0, 2 * 10**8)) * 60  # seconds since the epoch, to about year 2350
    start = datetime.fromtimestamp(minute + draw(st.sampled_from([0, 0, 0, 0, 30])), UTC)
    end = datetime.fromtimestamp(minute + draw(st.sampled_from([60, 60, 60, 59, 61])), UTC)
    at = end + timedelta(seconds=draw(st.sampled_from([0, 0, 0, 1, 3600, -1])))
    offsets = st.sampled_from(OFFSETS)
    total = draw(st.integers(0, 10**12))
    fields: dict[str, Any] = {
        "event_id": draw(st.sampled_from(["e", "x" * 256, "é" * 256, "x" * 257, ""])),
        "type": "requests",
        "service": "api",
        "start": stamp_text(start, draw(offsets), draw(SHAPES)),
        "end": stamp_text(end, draw(offsets), draw(SHAPES)),
        "total": total,
        "failed": draw(st.integers(0, total)),
        "at": stamp_text(at, draw(offsets), draw(SHAPES)),
    }
    wrong = {"event_id": names, "service": names, "type": st.sampled_from(["status", "Requests", 1])}
    return mangled_line(draw, fields, wrong)


@st.composite
def status_lines(draw: st.DrawFn) -> str | bytes:
    """Valid status events (heartbeats) in several shapes, then mangled (``mangled_line``)."""
    at = datetime.fromtimestamp(draw(st.integers(-(10**9), 12 * 10**9)), UTC)  # years 1938 to 2350
    fields: dict[str, Any] = {
        "event_id": draw(st.sampled_from(["e", "x" * 256, "é" * 256, "x" * 257, ""])),
        "type": "status",
        "service": draw(st.sampled_from(["api", "é" * 256, "x" * 257])),
        "status": draw(st.sampled_from(["up", "down"])),
        "at": stamp_text(at, draw(st.sampled_from(OFFSETS)), draw(SHAPES)),
    }
    wrong = {
        "event_id": names,
        "service": names,
        "type": st.sampled_from(["requests", "Status", 1]),
        "status": st.sampled_from(["Up", "", "down ", None, 1, ["up"]]),
    }
    return mangled_line(draw, fields, wrong)


def decoded_outcome(decode: Any, line: str | bytes) -> Any:
    try:
        event = decode(line)
    except InvalidEvent:
        return "invalid"
    moments = [(m, m.utcoffset()) for m in (event.start, event.end, event.at)]  # the same offsets too
    values = (event.start_us, event.end_us, event.at_us, event.total, event.failed)
    return (type(event), event.event_id, event.service, *moments, *values)


@settings(max_examples=300, deadline=None)
@given(timestamps, timestamps, timestamps, counts, counts, names)
def test_the_quick_decoder_agrees_with_pydantic(
    start: str, end: str, at: str, total: Any, failed: Any, event_id: Any
) -> None:
    line = json.dumps(
        {"event_id": event_id, "type": "requests", "service": "api", "start": start, "end": end,
         "total": total, "failed": failed, "at": at}
    )  # fmt: skip
    assert decoded_outcome(decode_event, line) == decoded_outcome(decode_with_pydantic, line)


@settings(max_examples=500, deadline=None)
@given(requests_lines())
def test_the_quick_decoder_agrees_with_pydantic_on_any_shape(line: str | bytes) -> None:
    """The quick path accepts a line only if pydantic accepts it, with the same values (and
    offsets); what it leaves to pydantic is refused or accepted there, with the reason."""
    quick = decoded_outcome(decode_event, line)
    assert quick == decoded_outcome(decode_with_pydantic, line)
    hypothesis_event(f"accepted: {quick != 'invalid'}")  # shown by --hypothesis-show-statistics


def status_outcome(decode: Any, line: str | bytes) -> Any:
    try:
        event = decode(line)
    except InvalidEvent:
        return "invalid"
    return type(event), event, event.at.utcoffset()  # equal fields, and the same offset too


@settings(max_examples=500, deadline=None)
@given(status_lines())
def test_the_quick_status_decoder_agrees_with_pydantic_on_any_shape(line: str | bytes) -> None:
    """Heartbeats: the quick path accepts a line only if pydantic accepts it, with an equal
    event (and offset); what it leaves to pydantic is refused or accepted there, with the reason."""
    quick = status_outcome(decode_event, line)
    assert quick == status_outcome(decode_with_pydantic, line)
    hypothesis_event(f"accepted: {quick != 'invalid'}")  # shown by --hypothesis-show-statistics


def test_the_quick_decoder_takes_a_repeated_key_as_pydantic_does() -> None:
    line = requests("2026-11-10T10:00:00+00:00", 100, 5)[:-1] + ', "failed": 7}'
    assert json.loads(line)["failed"] == 7  # the repeated key is in the line
    assert decoded_outcome(decode_event, line) == decoded_outcome(decode_with_pydantic, line)
    assert decode_event(line).failed == 7  # type: ignore[union-attr]


# statements ------------------------------------------------------------------------------


def test_the_statement_lists_down_runs_with_their_worst_error_rate_and_excluded_intervals() -> None:
    clause = availability(error_rate_above_percent=5, target=99.9)
    window = {"windows": [{"start": "2026-11-10T12:00:30Z", "end": "2026-11-10T12:01:00Z"}]}
    c = utc(clause, maintenance=window)
    lines = [
        requests("2026-11-10T10:00:00+00:00", 100, 6),  # 6%
        requests("2026-11-10T10:01:00+00:00", 100, 25),  # 25%: the run's worst
        requests("2026-11-10T10:02:00+00:00", 100, 0),
    ]
    engine = Engine([c])
    feed(engine, lines)
    clock = int(moment("2026-12-01T02:00:00+00:00").timestamp()) * 1_000_000
    engine.advance_to(clock)
    records = [r.to_record() for r in engine.results(clock)]
    details = {
        d.clause: {"final": d.final, "details": d.data}
        for d in engine.clause_details(clock)
        if d.period == "2026-11"
    }
    statement = build_statement(c, "2026-11", records, details, moment("2026-12-02T00:00:00+00:00"))
    (section,) = statement.clauses
    # one run 10:00-10:02, 2 minutes counted, worst 25%; the interval 12:00 excluded
    assert [
        (o.start.isoformat(), o.end.isoformat(), o.minutes, o.worst_error_percent) for o in section.outages
    ] == [("2026-11-10T10:00:00+00:00", "2026-11-10T10:02:00+00:00", 2, 25.0)]
    assert [(m.start.isoformat(), m.end.isoformat()) for m in section.maintenance] == [
        ("2026-11-10T12:00:00+00:00", "2026-11-10T12:01:00+00:00")
    ]
    text = render(statement, "md")
    assert "25.00%" in text
    assert "excluded intervals" in text


# the live driver's partition processor ----------------------------------------------------


def test_a_partition_processor_with_restarts_equals_replay() -> None:
    """Requests and maintenance through the processor of the service's partition, journalled
    and snapshotted into a store, restarted twice: the same clause records as replay."""
    clauses = [
        availability("d", interval="3m", min_downtime="6m", target=99.9),
        availability("m", method="mean_error_rate", interval="15m", target=99),
        availability("r", method="request_ratio", interval="1m", target=99.5),
    ]
    c = utc(*clauses, maintenance={"announced_min_notice": "48h"})
    first = moment("2026-11-30T20:00:00+00:00")
    lines = [
        maintenance("2026-11-30T21:10:00+00:00", "2026-11-30T21:20:00+00:00", "2026-11-20T00:00:00+00:00")
    ]
    for m in range(300):
        failed = 40 if 60 <= m < 75 or 200 <= m < 203 else m % 3
        lines.append(requests((first + timedelta(minutes=m)).isoformat(), 97 + m % 11, failed))
    lateness = timedelta(minutes=10)
    store: dict[str, Any] = {}

    def processor() -> PartitionProcessor:
        partition = partition_of("api", 2)
        sources = ("uptime", "maintenance", "requests")
        return PartitionProcessor(Stream.UPTIME, partition, 2, [c], lateness, store, 5, sources)

    live = processor()
    for number, line in enumerate(lines):
        source = "maintenance" if '"maintenance"' in line else "requests"
        assert live.handle(line, source).verdict.outcome is Outcome.APPLIED
        live.advance(int(moment(json.loads(line)["at"]).timestamp()) * 1_000_000, "uptime")
        if number % 3 == 0:
            live.flush()
        if number in (100, 222):
            live.flush()
            live = processor()  # a restart: snapshot plus journal
    live.flush()
    clock = moment("2026-12-01T03:00:00+00:00")
    live = processor()
    live.advance(int(clock.timestamp()) * 1_000_000)
    expected = run(c, lines, "2026-12-01T03:00:00Z", lateness=lateness)
    replayed = [r for r in expected.report.records if r["record"] == "clause"]
    assert (
        sorted((r.to_record() for r in live.clause_results()), key=lambda r: (r["clause"], r["period"]))
        == replayed
    )
