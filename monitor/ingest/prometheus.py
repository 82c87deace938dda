"""``slamon import prometheus``: range queries against Prometheus' HTTP API, turned into events
by ``monitor.ingest.series``, written as JSON Lines or produced to the topics."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx

from monitor.ingest.series import Series

MAX_POINTS = 10_000  # Prometheus refuses more than 11,000 points per series in one query
TIMEOUT_SECONDS = 60.0


class PrometheusError(RuntimeError):
    """Prometheus could not be asked, or answered with an error; the message says which."""


@dataclass(frozen=True)
class RangeQuery:
    query: str
    start_us: int
    end_us: int
    step_us: int


def query_range(url: str, request: RangeQuery) -> list[Series]:
    """Every series of the query over ``[start, end]`` at ``start + k * step``, asked in pieces
    of at most MAX_POINTS steps, with the pieces of each label set joined."""
    with httpx.Client(timeout=TIMEOUT_SECONDS) as client:
        return _query_range(client, url, request)


def _query_range(client: httpx.Client, url: str, request: RangeQuery) -> list[Series]:
    joined: dict[tuple[tuple[str, str], ...], Series] = {}
    start = request.start_us
    while start <= request.end_us:
        end = min(start + (MAX_POINTS - 1) * request.step_us, request.end_us)
        for series in _ask(client, url, request.query, start, end, request.step_us):
            key = tuple(sorted(series.labels.items()))
            if key in joined:
                joined[key].points.extend(series.points)
            else:
                joined[key] = series
        start = end + request.step_us
    return list(joined.values())


def _ask(
    client: httpx.Client, url: str, query: str, start_us: int, end_us: int, step_us: int
) -> list[Series]:
    params = {"query": query, "start": _seconds(start_us), "end": _seconds(end_us), "step": _seconds(step_us)}
    endpoint = url.rstrip("/") + "/api/v1/query_range"
    try:
        response = client.get(endpoint, params=params)
    except httpx.HTTPError as error:
        raise PrometheusError(f"cannot reach Prometheus at {url}: {error}") from None
    try:
        answer = json.loads(response.content, parse_float=Decimal)
    except ValueError:
        raise PrometheusError(
            f"Prometheus at {url} answered {response.status_code} without JSON: {response.text[:200]!r}"
        ) from None
    if response.status_code != 200 or answer.get("status") != "success":
        raise PrometheusError(
            f"Prometheus refused the query {query!r}: {answer.get('error', response.text[:200])}"
        )
    data = answer["data"]
    if data.get("resultType") != "matrix":
        raise PrometheusError(f"the query {query!r} gave a {data.get('resultType')}, not a range of series")
    return [_series(item) for item in data["result"]]


def _series(item: dict[str, Any]) -> Series:
    points = [(_microseconds(Decimal(stamp)), Decimal(value)) for stamp, value in item["values"]]
    return Series(dict(item["metric"]), points)


def _microseconds(seconds: Decimal) -> int:
    return int(seconds * 1_000_000)


def _seconds(us: int) -> str:
    whole, fraction = divmod(us, 1_000_000)
    return f"{whole}.{fraction:06d}"
