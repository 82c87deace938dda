"""Dead letters: an input the worker refused, why, where it was read, and its first bytes.

A dead letter never nears the broker's message limit (1 MB by default on Kafka), however large
the refused input: it carries at most ``VALUE_PREFIX_BYTES`` of the value and
``KEY_PREFIX_BYTES`` of the key, says whether the value was cut (``truncated``) and how long it
was (``value_bytes``); the input itself stays in its topic, at the offset given.
"""

from __future__ import annotations

import codecs

import orjson

VALUE_PREFIX_BYTES = 16 * 1024
KEY_PREFIX_BYTES = 1024
REASON_CHARS = 1024
# the largest dead letter: every byte of value, key and reason escaped as \u00XX, plus the fields
DEAD_LETTER_MAX_BYTES = 6 * (VALUE_PREFIX_BYTES + KEY_PREFIX_BYTES + REASON_CHARS) + 1024


def dead_letter_value(
    reason: str, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None
) -> bytes:
    """The dead-letter record (JSON) for an input; at most ``DEAD_LETTER_MAX_BYTES`` long
    (for topic names of up to 249 characters, Kafka's own limit)."""
    raw = value or b""
    record = {
        "reason": reason if len(reason) <= REASON_CHARS else reason[: REASON_CHARS - 1] + "…",
        "topic": topic,
        "partition": partition,
        "offset": offset,
        "key": text_prefix(key or b"", KEY_PREFIX_BYTES),
        "value": text_prefix(raw, VALUE_PREFIX_BYTES),
        "value_bytes": len(raw),
        "truncated": len(raw) > VALUE_PREFIX_BYTES,
    }
    return orjson.dumps(record)


def dead_letter_key(key: bytes | None) -> bytes | None:
    """The dead letter's Kafka key: the input's key, cut to ``KEY_PREFIX_BYTES``."""
    return key[:KEY_PREFIX_BYTES] if key is not None else None


def text_prefix(raw: bytes, limit_bytes: int) -> str:
    """The first ``limit_bytes`` of ``raw`` as text: UTF-8, bytes that are not shown as U+FFFD,
    and a character cut in two at the end left out."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    return decoder.decode(raw[:limit_bytes], final=len(raw) <= limit_bytes)
