"""Prometheus range-query results turned into SPEC events (pure: no I/O, no clock).

A ``Series`` is one labelled time series: its samples as (microseconds since the epoch, value),
the value exact as Prometheus wrote it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from monitor.timeutil import format_instant


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    points: list[tuple[int, Decimal]]


class SeriesError(ValueError):
    """The query's answer cannot be turned into events; the message says why and what to change."""


def services_of(series: Sequence[Series], service_label: str) -> dict[str, Series]:
    """Each series under the service its ``service_label`` names; a series without the label, or
    two series of one service, is an error (aggregate them in the query, e.g. ``min by (L)``)."""
    by_service: dict[str, Series] = {}
    for one in series:
        service = one.labels.get(service_label, "")
        if not service:
            raise SeriesError(f"a series has no {service_label!r} label: {one.labels}")
        if service in by_service:
            raise SeriesError(
                f"several series carry {service_label}={service!r}: aggregate them in the query, "
                f"e.g. min by ({service_label}) (...)"
            )
        by_service[service] = one
    return by_service


def status_events(series: Sequence[Series], service_label: str) -> list[dict[str, Any]]:
    """Status events from 0/1 series (1 up, 0 down): each series' first sample, then each change.

    A gap in a series (no sample) changes nothing: the service keeps its last status. Any value
    other than 0 or 1 is an error naming the series, the time and the value.
    """
    events: list[tuple[int, str, dict[str, Any]]] = []
    for service, one in services_of(series, service_label).items():
        previous: str | None = None
        for at_us, value in one.points:
            status = _status(service, at_us, value)
            if status != previous:
                events.append((at_us, service, _status_event(service, status, at_us)))
                previous = status
    return [event for _, _, event in sorted(events, key=lambda item: item[:2])]


def _status(service: str, at_us: int, value: Decimal) -> str:
    if value == 1:
        return "up"
    if value == 0:
        return "down"
    raise SeriesError(
        f"{service} at {format_instant(at_us)}: value {value} is neither 0 nor 1 "
        "(the query must give 1 for up and 0 for down, e.g. probe_success)"
    )


def _status_event(service: str, status: str, at_us: int) -> dict[str, Any]:
    at = format_instant(at_us)
    return {
        "event_id": f"prometheus:{service}:{status}:{at}",
        "type": "status",
        "service": service,
        "status": status,
        "at": at,
    }
