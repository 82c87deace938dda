"""The body of ``POST /v1/events``: a JSON array of events, or NDJSON (one event per line)."""

from __future__ import annotations

from dataclasses import dataclass

import orjson


@dataclass(frozen=True)
class Item:
    """One event as sent: its line (NDJSON) or 1-based position (array), and its JSON text."""

    line: int
    raw: bytes


class BodyError(ValueError):
    """The body as a whole cannot be read (a broken JSON array); ``reason`` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def split_body(body: bytes) -> list[Item]:
    """The events of a body: a JSON array when its first non-blank character is ``[``, otherwise
    NDJSON, where blank lines are skipped and every other line is one item, valid or not."""
    if body.lstrip()[:1] == b"[":
        return _array_items(body)
    return [
        Item(number, line.rstrip(b"\r"))
        for number, line in enumerate(body.split(b"\n"), start=1)
        if line.strip()
    ]


def _array_items(body: bytes) -> list[Item]:
    try:
        values = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        raise BodyError(f"the body starts with '[' but is not a JSON array: {error}") from None
    if not isinstance(values, list):  # pragma: no cover - a value starting with '[' is a list
        raise BodyError("the body starts with '[' but is not a JSON array")
    return [Item(position, orjson.dumps(value)) for position, value in enumerate(values, start=1)]
