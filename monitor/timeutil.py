"""Instants as integer microseconds since the Unix epoch: exact, fast to compare and to add."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)


def to_us(moment: datetime) -> int:
    """An aware datetime as microseconds since the epoch (exact, no float rounding)."""
    return (moment - EPOCH) // ONE_MICROSECOND


def span_us(duration: timedelta) -> int:
    return duration // ONE_MICROSECOND


def from_us(instant: int) -> datetime:
    return EPOCH + timedelta(microseconds=instant)


def format_instant(instant: int) -> str:
    return from_us(instant).isoformat().replace("+00:00", "Z")


def describe_instant(instant: int) -> str:
    """``format_instant``, or the number itself for an instant no datetime can hold."""
    try:
        return format_instant(instant)
    except OverflowError:
        return f"{instant} us after the epoch"
