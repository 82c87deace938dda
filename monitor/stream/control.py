"""Clock messages: the one form the worker writes, and reading it strictly.

The idle rule (SPEC.md section 4) appends a clock message to an input partition: key
``CLOCK_KEY``, an empty value, and exactly one header, ``CLOCK_HEADER``, whose value is the
wall clock in microseconds since the epoch as ASCII digits. A record that carries the header in
any other form (another key, a value, more headers, a value that is not digits) is refused as
``invalid``; one whose clock is after the future bound is refused as ``future``. Either goes to
the dead-letter topic and is counted, and moves no clock.

Anyone who may write to an input topic can still write a record of this exact form. What it can
do is bounded: a clock never moves back, and never past the wall clock plus the allowed skew,
so a forged clock message does at most what the idle rule itself would do.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

from monitor.engine import Outcome, Verdict
from monitor.timeutil import describe_instant

CLOCK_HEADER = "slamon-clock"
CLOCK_KEY = b"slamon-clock"
_DIGITS = re.compile(rb"[0-9]{1,19}")  # 19 digits: beyond year 9998 in microseconds


class RefusedControl(Exception):
    """A record that carries ``CLOCK_HEADER`` but is not a clock message the worker accepts."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.reason)
        self.verdict = verdict


def clock_message(clock_us: int) -> tuple[bytes, bytes, dict[str, bytes]]:
    """Key, value and headers of the clock message for ``clock_us``."""
    return CLOCK_KEY, b"", {CLOCK_HEADER: str(clock_us).encode()}


def header_items(headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> list[tuple[str, Any]]:
    """faust hands headers over as a mapping or as a list of (name, value) pairs."""
    if not headers:
        return []
    if isinstance(headers, Mapping):
        return list(headers.items())
    return list(headers)


def carries_clock(headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None) -> bool:
    """Whether a record claims to be a clock message (whatever its form)."""
    return any(name == CLOCK_HEADER for name, _ in header_items(headers))


def read_clock(
    key: bytes | None,
    value: bytes | None,
    headers: Mapping[str, Any] | Iterable[tuple[str, Any]] | None,
    not_after: int,
) -> int | None:
    """The clock (microseconds since the epoch) of a clock message, or None for a record without
    ``CLOCK_HEADER``. Raises RefusedControl for a record with it that is not in the worker's
    form (``invalid``) or whose clock is after ``not_after`` (``future``)."""
    items = header_items(headers)
    if not any(name == CLOCK_HEADER for name, _ in items):
        return None
    clock = items[0][1] if len(items) == 1 else None
    problem = None
    if len(items) != 1:
        problem = f"carries {len(items)} headers, not only {CLOCK_HEADER!r}"
    elif not isinstance(clock, bytes) or not _DIGITS.fullmatch(clock):
        problem = f"header {CLOCK_HEADER!r} is not microseconds since the epoch: {_shown(clock)}"
    elif key != CLOCK_KEY:
        problem = f"key must be {CLOCK_KEY.decode()!r}, not {_shown(key)}"
    elif value:
        problem = f"value must be empty, not {len(value)} bytes"
    if problem is not None:
        raise RefusedControl(Verdict(Outcome.INVALID, f"invalid clock message: {problem}"))
    assert isinstance(clock, bytes)
    clock_us = int(clock)
    if clock_us > not_after:
        clock_at, bound = describe_instant(clock_us), describe_instant(not_after)
        raise RefusedControl(Verdict(Outcome.FUTURE, f"future: clock message at {clock_at} is after {bound}"))
    return clock_us


def _shown(raw: object) -> str:
    text = repr(raw)
    return text if len(text) <= 40 else text[:39] + "…"
