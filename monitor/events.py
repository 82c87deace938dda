"""Input events of SPEC.md section 3 and their decoder.

Extra fields are ignored so producers can add context; a missing or malformed field,
an unknown ``type`` or a timestamp without a UTC offset makes the event invalid.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

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
from monitor.timeutil import EPOCH, ONE_MICROSECOND, format_instant

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


class StatusEvent(_Event):
    type: Literal["status"]
    service: Text
    status: Literal["up", "down"]


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


class RequestsEvent(_Event):
    """Requests of ``service`` that finished in ``[start, end)``, inside one epoch-aligned
    minute; ``at`` is when the counts were taken (SPEC.md section 11)."""

    type: Literal["requests"]
    service: Text
    start: Timestamp
    end: Timestamp
    total: RequestCount
    failed: RequestCount


Event = StatusEvent | MaintenanceEvent | TicketEvent | RequestsEvent
_EVENT = TypeAdapter(Annotated[Event, Field(discriminator="type")])
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
    start = (event.start - EPOCH) // ONE_MICROSECOND
    end = (event.end - EPOCH) // ONE_MICROSECOND
    if end > start - start % MINUTE_US + MINUTE_US:
        raise InvalidEvent(
            "field 'end': [start, end) must lie inside one minute aligned to the Unix epoch "
            f"(this one crosses {format_instant(start - start % MINUTE_US + MINUTE_US)})"
        )
    if event.failed > event.total:
        raise InvalidEvent(f"field 'failed': {event.failed} is more than total {event.total}")
    if event.at < event.end:
        raise InvalidEvent("field 'at': the counts cannot be taken before 'end'")


def decode_event(raw: bytes | str) -> Event:
    """Parse and validate one JSON event; raise InvalidEvent with a readable reason."""
    try:
        event = _EVENT.validate_json(raw)
    except _ValidationError as error:
        raise InvalidEvent(_describe(error)) from None
    except RecursionError:
        raise InvalidEvent("JSON nested too deeply") from None
    _check(event)
    return event


def validate_event(document: object) -> Event:
    """Validate an already parsed JSON value (the stream processor's path)."""
    try:
        event = _EVENT.validate_python(document)
    except _ValidationError as error:
        raise InvalidEvent(_describe(error)) from None
    _check(event)
    return event
