"""Durations as written in contract files: ``30s``, ``15m``, ``2h``, ``1d`` or ISO 8601 (``PT24H``)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer, TypeAdapter

_SHORT = re.compile(r"^(\d+)(s|m|h|d)$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_ISO = TypeAdapter(timedelta)
_CALENDAR_UNITS = re.compile(r"^P[^T]*[YM]")  # years or months before the time part


def parse_duration(value: Any) -> timedelta:
    """Parse a duration; raise ValueError naming the accepted forms otherwise."""
    if isinstance(value, timedelta):
        return value
    if not isinstance(value, str):
        raise ValueError(f"duration must be a string like '30s', '15m', '2h', '1d' or 'PT24H', got {value!r}")
    text = value.strip()
    short = _SHORT.match(text)
    if short:
        return timedelta(seconds=int(short.group(1)) * _UNIT_SECONDS[short.group(2)])
    if _CALENDAR_UNITS.match(text):
        raise ValueError(
            f"invalid duration {value!r}: years and months have no fixed length; write days, like 'P30D'"
        )
    if text.startswith("P"):
        try:
            parsed = _ISO.validate_python(text)
        except ValueError:
            pass
        else:
            if parsed < timedelta(0):
                raise ValueError(f"duration must not be negative, got {value!r}")
            return parsed
    raise ValueError(f"invalid duration {value!r}: use '30s', '15m', '2h', '1d' or ISO 8601 like 'PT24H'")


def format_duration(value: timedelta) -> str:
    """The duration in the shortest form ``parse_duration`` reads back to the same value: a
    fraction of a second is kept (ISO 8601, ``PT0.5S``), so two different durations never
    print alike (the terms' fingerprints digest this form)."""
    if value.microseconds:
        whole = value.days * 86400 + value.seconds
        return f"PT{whole}.{value.microseconds:06d}".rstrip("0") + "S"
    seconds = int(value.total_seconds())
    for unit in ("d", "h", "m"):
        size = _UNIT_SECONDS[unit]
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


Duration = Annotated[timedelta, BeforeValidator(parse_duration), PlainSerializer(format_duration)]
