"""Dead letters stay far below the broker's message limit whatever the refused input holds, and
say what they cut."""

from __future__ import annotations

import orjson
from hypothesis import given
from hypothesis import strategies as st

from monitor.stream.deadletter import (
    DEAD_LETTER_MAX_BYTES,
    KEY_PREFIX_BYTES,
    REASON_CHARS,
    VALUE_PREFIX_BYTES,
    dead_letter_key,
    dead_letter_value,
)

KAFKA_MESSAGE_LIMIT = 1_048_576  # aiokafka's default max_request_size, and about Kafka's message.max.bytes
TOPIC = "t" * 249  # the longest topic name Kafka allows


def letter(value: bytes | None, key: bytes | None = b"api", reason: str = "not valid JSON") -> dict:
    raw = dead_letter_value(reason, TOPIC, 3, 2**62, key, value)
    assert len(raw) <= DEAD_LETTER_MAX_BYTES < KAFKA_MESSAGE_LIMIT
    return orjson.loads(raw)


def test_the_worst_inputs_stay_within_the_bound() -> None:
    # control characters are escaped as \u00XX (6 bytes each), the largest JSON per input byte
    for filler in (b"\x00", b"\xff", b'"', "€".encode(), b"x"):
        huge = filler * (5 * 1024 * 1024 // len(filler))
        record = letter(huge, key=huge, reason="\x00" * 2_000_000)
        assert record["truncated"] is True
        assert record["value_bytes"] == len(huge)
        assert len(record["reason"]) == REASON_CHARS


def test_a_short_value_is_kept_whole() -> None:
    record = letter(b'{"event_id": "x"}')
    assert record == {
        "reason": "not valid JSON",
        "topic": TOPIC,
        "partition": 3,
        "offset": 2**62,
        "key": "api",
        "value": '{"event_id": "x"}',
        "value_bytes": 17,
        "truncated": False,
    }
    assert letter(None)["value"] == "" and letter(None, key=None)["key"] == ""


def test_the_prefix_is_the_first_bytes_and_a_character_cut_in_two_is_left_out() -> None:
    value = b"a" * (VALUE_PREFIX_BYTES - 1) + "€".encode() + b"tail"  # € is 3 bytes: cut after 1
    record = letter(value)
    assert record["value"] == "a" * (VALUE_PREFIX_BYTES - 1)
    assert record["truncated"] is True and record["value_bytes"] == VALUE_PREFIX_BYTES + 6


@given(st.binary(max_size=3 * VALUE_PREFIX_BYTES), st.binary(max_size=2 * KEY_PREFIX_BYTES) | st.none())
def test_any_bytes(value: bytes, key: bytes | None) -> None:
    record = letter(value, key)
    assert record["truncated"] is (len(value) > VALUE_PREFIX_BYTES)
    shown = record["value"].encode("utf-8", errors="surrogatepass")
    if not record["truncated"]:
        assert record["value"] == value.decode("utf-8", errors="replace")
    else:  # what is shown is read from the first bytes only
        assert (
            record["value"]
            == value[:VALUE_PREFIX_BYTES].decode("utf-8", errors="replace")[: len(record["value"])]
        )
        assert len(shown) <= 3 * VALUE_PREFIX_BYTES  # each byte shown at most as one U+FFFD
    assert dead_letter_key(key) == (key[:KEY_PREFIX_BYTES] if key is not None else None)
