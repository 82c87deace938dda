"""The event decoder (SPEC.md section 3): valid events of each type, and every way to be invalid.

An invalid event raises InvalidEvent whose reason names the offending field.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from monitor.events import (
    InvalidEvent,
    MaintenanceEvent,
    StatusEvent,
    TicketEvent,
    decode_event,
    validate_event,
)

STATUS: dict[str, Any] = {
    "event_id": "s-1",
    "type": "status",
    "service": "api",
    "status": "down",
    "at": "2026-10-01T12:00:00Z",
}
MAINTENANCE: dict[str, Any] = {
    "event_id": "m-1",
    "type": "maintenance",
    "service": "api",
    "start": "2026-10-05T00:00:00Z",
    "end": "2026-10-05T02:00:00Z",
    "at": "2026-10-01T12:00:00Z",
}
TICKET: dict[str, Any] = {
    "event_id": "t-1",
    "type": "ticket",
    "ticket_id": "T-1",
    "contract": "acme-hosting",
    "action": "opened",
    "priority": "P1",
    "at": "2026-10-01T12:00:00Z",
}
NOON = datetime(2026, 10, 1, 12, tzinfo=UTC)


def encode(base: dict[str, Any], drop: str | None = None, **changes: Any) -> str:
    event = {k: v for k, v in base.items() if k != drop}
    event.update(changes)
    return json.dumps(event)


def reason_of(raw: str | bytes) -> str:
    with pytest.raises(InvalidEvent) as caught:
        decode_event(raw)
    error = caught.value
    assert isinstance(error, ValueError)
    assert str(error) == error.reason
    assert error.reason
    return error.reason


# --- valid events --------------------------------------------------------------------------


def test_status_event() -> None:
    event = decode_event(encode(STATUS))
    assert isinstance(event, StatusEvent)
    assert (event.event_id, event.type, event.service, event.status) == ("s-1", "status", "api", "down")
    assert event.at == NOON
    assert event.at.utcoffset() == timedelta(0)
    assert decode_event(encode(STATUS, status="up")).status == "up"  # type: ignore[union-attr]


def test_maintenance_event() -> None:
    event = decode_event(encode(MAINTENANCE))
    assert isinstance(event, MaintenanceEvent)
    assert (event.event_id, event.service) == ("m-1", "api")
    assert event.at == NOON
    assert event.start == datetime(2026, 10, 5, tzinfo=UTC)
    assert event.end == datetime(2026, 10, 5, 2, tzinfo=UTC)


@pytest.mark.parametrize("action", ["opened", "responded", "resolved"])
def test_ticket_event(action: str) -> None:
    event = decode_event(encode(TICKET, action=action))
    assert isinstance(event, TicketEvent)
    assert (event.event_id, event.ticket_id, event.contract) == ("t-1", "T-1", "acme-hosting")
    assert event.action == action
    assert event.priority == "P1"
    assert event.at == NOON


def test_ticket_priority_is_optional() -> None:
    event = decode_event(encode(TICKET, drop="priority"))
    assert isinstance(event, TicketEvent)
    assert event.priority is None


def test_bytes_and_extra_fields_are_accepted() -> None:
    """Producers may add context: unknown fields are ignored (documented in monitor/events.py)."""
    event = decode_event(encode(STATUS, region="eu-west-1", note={"by": "probe"}).encode())
    assert isinstance(event, StatusEvent)
    assert event.status == "down"
    assert not hasattr(event, "region")


@pytest.mark.parametrize(
    ("stamp", "offset"),
    [
        ("2026-10-01T17:30:00+05:30", timedelta(hours=5, minutes=30)),
        ("2026-10-01T09:00:00-03:00", timedelta(hours=-3)),
        ("2026-10-01T12:00:00+00:00", timedelta(0)),
        ("2026-10-01T12:00:00z", timedelta(0)),
    ],
)
def test_offsets_other_than_z_give_the_same_instant(stamp: str, offset: timedelta) -> None:
    event = decode_event(encode(STATUS, at=stamp))
    assert event.at == NOON
    assert event.at.utcoffset() == offset


def test_offsets_in_maintenance_start_and_end() -> None:
    event = decode_event(
        encode(MAINTENANCE, start="2026-10-05T05:30:00+05:30", end="2026-10-04T23:00:00-03:00")
    )
    assert isinstance(event, MaintenanceEvent)
    assert event.start == datetime(2026, 10, 5, tzinfo=UTC)
    assert event.end == datetime(2026, 10, 5, 2, tzinfo=UTC)


@pytest.mark.parametrize(
    ("stamp", "microsecond"),
    [
        ("2026-10-01T12:00:00.5Z", 500_000),
        ("2026-10-01T12:00:00.123Z", 123_000),
        ("2026-10-01T12:00:00.123456Z", 123_456),
        ("2026-10-01T17:30:00.000001+05:30", 1),
    ],
)
def test_fractional_seconds(stamp: str, microsecond: int) -> None:
    event = decode_event(encode(STATUS, at=stamp))
    assert event.at == NOON + timedelta(microseconds=microsecond)


def test_fractional_seconds_beyond_microseconds_are_accepted() -> None:
    event = decode_event(encode(STATUS, at="2026-10-01T12:00:00.123456789Z"))
    assert NOON + timedelta(microseconds=123_456) <= event.at < NOON + timedelta(microseconds=123_458)


def test_range_edges_are_valid() -> None:
    assert decode_event(encode(STATUS, at="1970-01-01T00:00:00Z")).at == datetime(1970, 1, 1, tzinfo=UTC)
    assert decode_event(encode(STATUS, at="9998-12-31T23:59:59Z")).at.year == 9998


def test_validate_event_takes_parsed_json() -> None:
    """The stream processor's path: the same rules over an already parsed value."""
    assert validate_event(json.loads(encode(TICKET))) == decode_event(encode(TICKET))
    with pytest.raises(InvalidEvent, match="'at'"):
        validate_event(json.loads(encode(STATUS, at="2026-10-01T12:00:00")))
    with pytest.raises(InvalidEvent, match="JSON object"):
        validate_event([STATUS])


# --- invalid events -------------------------------------------------------------------------


INVALID_CASES = [
    # (case id, raw line, words the reason must hold)
    ("naive-at", encode(STATUS, at="2026-10-01T12:00:00"), ["'at'", "offset"]),
    ("naive-at-fractional", encode(STATUS, at="2026-10-01T12:00:00.250"), ["'at'", "offset"]),
    ("naive-maintenance-start", encode(MAINTENANCE, start="2026-10-05T00:00:00"), ["'start'", "offset"]),
    ("naive-maintenance-end", encode(MAINTENANCE, end="2026-10-05T02:00:00"), ["'end'", "offset"]),
    ("naive-ticket-at", encode(TICKET, at="2026-10-01T12:00:00"), ["'at'", "offset"]),
    ("date-only-at", encode(STATUS, at="2026-10-01"), ["'at'"]),
    ("epoch-number-at", encode(STATUS, at=1790000000), ["'at'", "RFC 3339"]),
    ("epoch-string-at", encode(STATUS, at="1790000000"), ["'at'", "RFC 3339"]),
    ("null-at", encode(STATUS, at=None), ["'at'"]),
    ("garbage-at", encode(STATUS, at="yesterday"), ["'at'"]),
    ("month-13", encode(STATUS, at="2026-13-01T00:00:00Z"), ["'at'", "month"]),
    ("offset-out-of-range", encode(STATUS, at="2026-10-01T00:00:00+24:00"), ["'at'"]),
    ("year-9999-at", encode(STATUS, at="9999-12-31T23:59:59Z"), ["'at'", "9999"]),
    ("year-9999-at-negative-offset", encode(STATUS, at="9999-12-31T23:00:00-05:00"), ["'at'", "9999"]),
    ("year-1969-at", encode(STATUS, at="1969-12-31T23:59:59Z"), ["'at'", "1969"]),
    ("year-1-at", encode(TICKET, at="0001-01-01T00:00:00Z"), ["'at'", "0001"]),
    (
        "year-9999-start",
        encode(MAINTENANCE, start="9999-01-01T00:00:00Z", end="9999-01-01T02:00:00Z"),
        ["'start'", "9999"],
    ),
    ("year-9999-end", encode(MAINTENANCE, end="9999-01-01T02:00:00Z"), ["'end'", "9999"]),
    ("unknown-type", encode(STATUS, type="heartbeat"), ["type", "'heartbeat'"]),
    ("numeric-type", encode(STATUS, type=3), ["type"]),
    ("missing-type", encode(STATUS, drop="type"), ["'type'", "missing"]),
    ("wrong-status", encode(STATUS, status="degraded"), ["'status'", "'up'", "'down'"]),
    ("upper-case-status", encode(STATUS, status="DOWN"), ["'status'"]),
    ("wrong-action", encode(TICKET, action="closed"), ["'action'", "'opened'"]),
    ("empty-event-id", encode(STATUS, event_id=""), ["'event_id'"]),
    ("numeric-event-id", encode(STATUS, event_id=17), ["'event_id'"]),
    ("null-event-id", encode(TICKET, event_id=None), ["'event_id'"]),
    ("overlong-event-id", encode(STATUS, event_id="x" * 1000), ["'event_id'"]),
    ("empty-service", encode(STATUS, service=""), ["'service'"]),
    ("numeric-priority", encode(TICKET, priority=1), ["'priority'"]),
    ("empty-contract", encode(TICKET, contract=""), ["'contract'"]),
    ("maintenance-end-equals-start", encode(MAINTENANCE, end=MAINTENANCE["start"]), ["'end'", "'start'"]),
    ("maintenance-end-before-start", encode(MAINTENANCE, end="2026-10-04T23:00:00Z"), ["'end'", "'start'"]),
    (
        "maintenance-end-before-start-by-offset",
        encode(MAINTENANCE, end="2026-10-05T04:00:00+05:00"),
        ["'end'", "'start'"],
    ),
    ("not-json", "{not json", ["JSON"]),
    ("truncated-json", encode(STATUS)[:-5], ["JSON"]),
    ("empty-line", "", ["JSON"]),
    ("whitespace-line", "   ", ["JSON"]),
    ("trailing-garbage", encode(STATUS) + " x", ["JSON"]),
    ("invalid-utf8", b'{"event_id": "\xff\xfe"}', ["JSON"]),
    ("json-array", json.dumps([STATUS]), ["JSON object"]),
    ("json-number", "42", ["JSON object"]),
    ("json-string", '"status"', ["JSON object"]),
    ("json-null", "null", ["JSON object"]),
    ("json-true", "true", ["JSON object"]),
    ("deeply-nested", "[" * 100_000 + "]" * 100_000, ["JSON"]),
]


@pytest.mark.parametrize(
    ("raw", "words"),
    [case[1:] for case in INVALID_CASES],
    ids=[case[0] for case in INVALID_CASES],
)
def test_invalid_event_reason_names_the_problem(raw: str | bytes, words: list[str]) -> None:
    reason = reason_of(raw)
    for word in words:
        assert word in reason, reason


REQUIRED = [
    (STATUS, ["event_id", "at", "service", "status"]),
    (MAINTENANCE, ["event_id", "at", "service", "start", "end"]),
    (TICKET, ["event_id", "at", "ticket_id", "contract", "action"]),
]


@pytest.mark.parametrize(
    ("base", "field"),
    [(base, field) for base, fields in REQUIRED for field in fields],
    ids=[f"{base['type']}-{field}" for base, fields in REQUIRED for field in fields],
)
def test_missing_field_is_named(base: dict[str, Any], field: str) -> None:
    assert reason_of(encode(base, drop=field)) == f"missing field {field!r}"


def test_several_problems_are_reported_together() -> None:
    reason = reason_of(json.dumps({"event_id": "s-9", "type": "status", "status": "sideways"}))
    for field in ("'service'", "'status'", "'at'"):
        assert field in reason, reason
