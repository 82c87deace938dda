"""Input events of SPEC.md section 3 and their decoder.

Extra fields are ignored so producers can add context; a missing or malformed field,
an unknown ``type`` or a timestamp without a UTC offset makes the event invalid.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

import msgspec
import orjson
from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    TypeAdapter,
)
from pydantic import ValidationError as _ValidationError

from monitor.loader import field_path
from monitor.timeutil import format_instant, to_us

Text = Annotated[str, StringConstraints(min_length=1, max_length=256)]
MIN_YEAR, MAX_YEAR = 1970, 9998
_DATE_TIME_SEPARATORS = ("T", "t", " ")


def _rfc3339_text(value: object) -> object:
    """Only RFC 3339 text (or a datetime built in Python): pydantic alone would also take
    a number, or a string of digits, as seconds since the epoch. Kept cheap (hot path): the
    shape ``YYYY-MM-DDT`` here, the rest is pydantic's parser."""
    if type(value) is str and value[4:5] == "-" and value[10:11] in _DATE_TIME_SEPARATORS:
        return value
    if isinstance(value, datetime):
        return value
    raise ValueError("must be an RFC 3339 timestamp with an offset, like 2026-10-01T00:00:00Z")


Timestamp = Annotated[AwareDatetime, BeforeValidator(_rfc3339_text)]


class _Event(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)

    event_id: Text
    at: Timestamp


class _StatusFields(_Event):
    """What a status event must hold; decoded into ``StatusEvent``."""

    type: Literal["status"]
    service: Text
    status: Literal["up", "down"]


class StatusEvent(msgspec.Struct, gc=False):
    """``service`` was up or down at ``at`` (SPEC.md section 3), with ``at`` in µs too. A
    plain record like ``RequestsEvent`` (build it with ``status_event``; do not change it):
    heartbeats are a sixth of a replay's lines, and building a pydantic model from fields
    already checked cost more than the rest of their path."""

    event_id: str
    service: str
    status: Literal["up", "down"]
    at: datetime
    at_us: int
    type: Literal["status"] = "status"


def status_event(event_id: str, service: str, status: Literal["up", "down"], at: datetime) -> StatusEvent:
    return StatusEvent(event_id, service, status, at, to_us(at))


class MaintenanceEvent(_Event):
    """``at`` is when the maintenance was announced; ``[start, end)`` is the maintenance."""

    type: Literal["maintenance"]
    service: Text
    start: Timestamp
    end: Timestamp


class TicketEvent(_Event):
    type: Literal["ticket"]
    ticket_id: Text
    contract: Text
    action: Literal["opened", "responded", "resolved", "paused", "resumed"]
    priority: Text | None = None


MAX_REQUESTS = 10**12
RequestCount = Annotated[StrictInt, Field(ge=0, le=MAX_REQUESTS)]
MINUTE_US = 60_000_000


class _RequestsFields(_Event):
    """What a requests event must hold; decoded into ``RequestsEvent``."""

    type: Literal["requests"]
    service: Text
    start: Timestamp
    end: Timestamp
    total: RequestCount
    failed: RequestCount


class RequestsEvent(msgspec.Struct, gc=False):
    """Requests of ``service`` that finished in ``[start, end)``, inside one epoch-aligned
    minute; ``at`` is when the counts were taken (SPEC.md section 11). A plain record with
    its instants in µs too: one arrives per service and minute, so decoding it is the hot
    path of a replay (build it with ``requests_event``; do not change it). A msgspec struct
    rather than a dataclass: built in C, and not tracked by the garbage collector (it holds
    no containers)."""

    event_id: str
    service: str
    start: datetime
    end: datetime
    total: int
    failed: int
    at: datetime
    start_us: int
    end_us: int
    at_us: int
    type: Literal["requests"] = "requests"


def event_json(event: Event) -> str:
    """The fields the engine reads, as a JSON event ``decode_event`` reads back the same."""
    if isinstance(event, RequestsEvent):
        document = {
            "event_id": event.event_id,
            "type": "requests",
            "service": event.service,
            "start": event.start.isoformat(),
            "end": event.end.isoformat(),
            "total": event.total,
            "failed": event.failed,
            "at": event.at.isoformat(),
        }
        return orjson.dumps(document).decode()
    if isinstance(event, StatusEvent):  # as pydantic writes it, as before it was a plain record
        fields = _StatusFields(
            event_id=event.event_id, type="status", service=event.service, status=event.status, at=event.at
        )
        return fields.model_dump_json()
    return event.model_dump_json()


def requests_event(
    event_id: str, service: str, start: datetime, end: datetime, total: int, failed: int, at: datetime
) -> RequestsEvent:
    return RequestsEvent(
        event_id, service, start, end, total, failed, at, to_us(start), to_us(end), to_us(at)
    )


Event = StatusEvent | MaintenanceEvent | TicketEvent | RequestsEvent
_EVENT = TypeAdapter(
    Annotated[_StatusFields | MaintenanceEvent | TicketEvent | _RequestsFields, Field(discriminator="type")]
)
TOPIC_OF_TYPE = {
    "status": "uptime",
    "maintenance": "maintenance",
    "ticket": "tickets",
    "requests": "requests",
}


class InvalidEvent(ValueError):
    """An event that does not parse or validate; ``reason`` says what is wrong."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _describe(error: _ValidationError) -> str:
    parts = []
    for item in error.errors(include_url=False)[:3]:
        location = field_path(item["loc"][1:] if item["type"] != "union_tag_invalid" else item["loc"])
        kind = item["type"]
        if kind == "union_tag_invalid":
            shown = repr(item.get("input", {}).get("type"))  # the producer's text: may be huge
            message = "unknown event type " + (shown if len(shown) <= 60 else shown[:59] + "…")
        elif kind == "union_tag_not_found":
            message = "missing field 'type'"
        elif kind == "missing":
            message = f"missing field {location!r}"
        elif kind == "timezone_aware":
            message = f"field {location!r}: timestamp must carry a UTC offset"
        elif kind == "json_invalid":
            message = "not valid JSON: " + str(item.get("ctx", {}).get("error", item["msg"]))
        elif kind in ("model_type", "model_attributes_type", "dict_type"):
            message = "an event must be a JSON object"
        else:
            text = item["msg"].removeprefix("Value error, ")
            message = f"field {location!r}: {text}" if location else text
        parts.append(message)
    return "; ".join(parts)


def _check_range(name: str, moment: datetime) -> None:
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        raise InvalidEvent(
            f"field {name!r}: timestamp {moment.isoformat()} is outside years {MIN_YEAR}..{MAX_YEAR}"
        )


def _check(event: Event) -> None:
    """Checks pydantic does not make: years in range (in the event's own offset), end after start."""
    _check_range("at", event.at)
    if event.type == "maintenance" or event.type == "requests":
        _check_range("start", event.start)
        _check_range("end", event.end)
        if event.end <= event.start:
            raise InvalidEvent("field 'end': must be after 'start'")
        if event.type == "requests":
            _check_requests(event)


def _check_requests(event: RequestsEvent) -> None:
    """One epoch-aligned minute, ``failed <= total``, counts taken at or after ``end``."""
    start, end = event.start_us, event.end_us
    if end > start - start % MINUTE_US + MINUTE_US:
        raise InvalidEvent(
            "field 'end': [start, end) must lie inside one minute aligned to the Unix epoch "
            f"(this one crosses {format_instant(start - start % MINUTE_US + MINUTE_US)})"
        )
    if event.failed > event.total:
        raise InvalidEvent(f"field 'failed': {event.failed} is more than total {event.total}")
    if event.at_us < event.end_us:
        raise InvalidEvent("field 'at': the counts cannot be taken before 'end'")


# The usual shape of status and requests events, read without pydantic: exactly the fields
# the event type has (no others), whole-second timestamps with "T" and "Z" or "+HH:MM".
# msgspec reads such a line straight into a typed record; anything else (an extra field, a
# number where text belongs, another timestamp shape, ...) goes through pydantic, which
# accepts more and explains refusals. What this path accepts, pydantic accepts with the same
# values (the tests compare the two).
_PLAIN_TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:Z|[+-]\d\d:\d\d)")
_UsualText = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]
_UsualCount = Annotated[int, msgspec.Meta(ge=0, le=MAX_REQUESTS)]


class _UsualRequests(msgspec.Struct, tag_field="type", tag="requests", forbid_unknown_fields=True):
    event_id: _UsualText
    service: _UsualText
    start: str
    end: str
    total: _UsualCount
    failed: _UsualCount
    at: str


class _UsualStatus(msgspec.Struct, tag_field="type", tag="status", forbid_unknown_fields=True):
    event_id: _UsualText
    service: _UsualText
    status: Literal["up", "down"]
    at: str


_USUAL = msgspec.json.Decoder(_UsualRequests | _UsualStatus)


_PLAIN_MOMENTS_KEPT = 4096
_plain_moments: dict[str, tuple[datetime, int]] = {}  # text -> (moment, µs): stamps repeat a lot


def _plain_moment(text: str) -> tuple[datetime, int] | None:
    """A timestamp in the usual shape with its year in range, or None (pydantic decides);
    kept in ``_plain_moments``."""
    if _PLAIN_TIMESTAMP.fullmatch(text) is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    if not MIN_YEAR <= moment.year <= MAX_YEAR:
        return None
    if len(_plain_moments) >= _PLAIN_MOMENTS_KEPT:
        _plain_moments.clear()
    known = _plain_moments[text] = (moment, to_us(moment))
    return known


def _usual_requests(usual: _UsualRequests) -> RequestsEvent | None:
    """The requests event, or None when pydantic should decide (and explain what is wrong):
    this path only accepts, it never refuses."""
    known = _plain_moments
    start = known.get(usual.start) or _plain_moment(usual.start)  # mostly seen before
    end = known.get(usual.end) or _plain_moment(usual.end)
    at = known.get(usual.at) or _plain_moment(usual.at)
    if start is None or end is None or at is None or usual.failed > usual.total:
        return None
    start_us, end_us, at_us = start[1], end[1], at[1]
    if not start_us < end_us <= start_us - start_us % MINUTE_US + MINUTE_US or at_us < end_us:
        return None  # the checks of ``_check_requests``, refused with their reason by the full path
    event_id, service, total, failed = usual.event_id, usual.service, usual.total, usual.failed
    return RequestsEvent(event_id, service, start[0], end[0], total, failed, at[0], start_us, end_us, at_us)


def _usual_status(usual: _UsualStatus) -> StatusEvent | None:
    """The status event, or None when pydantic should read the whole line (another
    timestamp shape, or a year out of range)."""
    at = _plain_moments.get(usual.at) or _plain_moment(usual.at)
    if at is None:
        return None
    return StatusEvent(usual.event_id, usual.service, usual.status, at[0], at[1])


def _decoded(value: _StatusFields | MaintenanceEvent | TicketEvent | _RequestsFields) -> Event:
    if isinstance(value, _RequestsFields):
        return requests_event(
            value.event_id, value.service, value.start, value.end, value.total, value.failed, value.at
        )
    if isinstance(value, _StatusFields):
        return status_event(value.event_id, value.service, value.status, value.at)
    return value


def decode_event(raw: bytes | str) -> Event:
    """Parse and validate one JSON event; raise InvalidEvent with a readable reason."""
    try:
        usual = _USUAL.decode(raw)
    except (msgspec.DecodeError, RecursionError):  # not the usual shape, or not valid: pydantic says why
        return decode_with_pydantic(raw)
    event = _usual_requests(usual) if type(usual) is _UsualRequests else _usual_status(usual)
    return event if event is not None else decode_with_pydantic(raw)


def decode_with_pydantic(raw: bytes | str) -> Event:
    """``decode_event`` without the quick path for status and requests events in their usual
    shape: what the quick path accepts, this accepts with the same values (the tests compare
    the two)."""
    try:
        event = _decoded(_EVENT.validate_json(raw))
    except _ValidationError as error:
        raise InvalidEvent(_describe(error)) from None
    except RecursionError:
        raise InvalidEvent("JSON nested too deeply") from None
    _check(event)
    return event


def validate_event(document: object) -> Event:
    """Validate an already parsed JSON value (the stream processor's path)."""
    try:
        event = _decoded(_EVENT.validate_python(document))
    except _ValidationError as error:
        raise InvalidEvent(_describe(error)) from None
    _check(event)
    return event
