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


MINUTE_US = 60_000_000


def request_events(
    totals: Sequence[Series], failures: Sequence[Series], service_label: str
) -> tuple[list[dict[str, Any]], int]:
    """``requests`` events, one per service and minute, from two counters sampled at every
    minute boundary aligned to the Unix epoch: the requests of ``[m, m + 1 min)`` are the
    counter's increase from ``m`` to ``m + 1 min`` (a decrease is a reset: the increase is the
    new value, as Prometheus counts it). A minute without both samples, or with no requests,
    gives no event; a service without a failed series has no failures. Failures above the
    total (the two counters sampled apart) are capped at the total; the second value returned
    is how many minutes were capped."""
    failed_of = services_of(failures, service_label)
    events: list[tuple[int, str, dict[str, Any]]] = []
    capped = 0
    for service, total in services_of(totals, service_label).items():
        failed = _increases(service, failed_of[service]) if service in failed_of else {}
        for start_us, count in _increases(service, total).items():
            bad = failed.get(start_us, 0)
            if count == 0 and bad == 0:
                continue
            if bad > count:
                capped += 1
                bad = count
            events.append((start_us, service, _requests_event(service, start_us, count, bad)))
    unknown = sorted(set(failed_of) - {s.labels.get(service_label) for s in totals})
    if unknown:
        raise SeriesError(f"failed requests but no total for {', '.join(unknown)}: check the two queries")
    return [event for _, _, event in sorted(events, key=lambda item: item[:2])], capped


def _increases(service: str, series: Series) -> dict[int, int]:
    """Minute start -> the counter's increase over that minute, for each pair of samples one
    minute apart that both lie on minute boundaries."""
    values = {}
    for at_us, value in series.points:
        if at_us % MINUTE_US == 0:
            if not value.is_finite() or value != value.to_integral_value() or value < 0:
                raise SeriesError(
                    f"{service} at {format_instant(at_us)}: {value} is not a count "
                    "(the queries must give counters, e.g. sum by (service) (http_requests_total))"
                )
            values[at_us] = int(value)
    return {
        start: (values[start + MINUTE_US] - values[start] if values[start + MINUTE_US] >= values[start]
                else values[start + MINUTE_US])
        for start in values
        if start + MINUTE_US in values
    }  # fmt: skip


def _requests_event(service: str, start_us: int, total: int, failed: int) -> dict[str, Any]:
    start, end = format_instant(start_us), format_instant(start_us + MINUTE_US)
    return {
        "event_id": f"prometheus:{service}:requests:{start}",
        "type": "requests",
        "service": service,
        "start": start,
        "end": end,
        "total": total,
        "failed": failed,
        "at": end,
    }
