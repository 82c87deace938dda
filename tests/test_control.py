"""Clock messages are accepted only in the form the worker writes, and never past the future bound."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from monitor.engine import Outcome
from monitor.stream.control import CLOCK_HEADER, CLOCK_KEY, RefusedControl, clock_message, read_clock
from monitor.timeutil import to_us

NOW_US = to_us(datetime(2026, 12, 3, 9, 0, tzinfo=UTC))
BOUND = NOW_US + 3_600_000_000  # one hour of skew: 10:00


def refusal(key, value, headers, not_after: int = BOUND) -> tuple[Outcome, str]:
    with pytest.raises(RefusedControl) as refused:
        read_clock(key, value, headers, not_after)
    verdict = refused.value.verdict
    assert verdict.reason is not None
    return verdict.outcome, verdict.reason


def test_what_the_worker_writes_is_read_back() -> None:
    key, value, headers = clock_message(NOW_US)
    assert read_clock(key, value, headers, BOUND) == NOW_US
    assert read_clock(key, None, list(headers.items()), BOUND) == NOW_US  # faust: pairs, a null value
    assert read_clock(key, value, headers, NOW_US) == NOW_US  # the bound itself is allowed


@pytest.mark.parametrize("headers", [None, {}, [], {"trace": b"x"}, [("trace-id", b"1")]])
def test_records_without_the_header_are_not_control_messages(headers) -> None:
    assert read_clock(b"api", b"{}", headers, BOUND) is None
    assert read_clock(CLOCK_KEY, b"", headers, BOUND) is None


@pytest.mark.parametrize(
    ("key", "value", "headers", "says"),
    [
        (
            CLOCK_KEY,
            b"",
            {CLOCK_HEADER: b"not-a-number"},
            "is not microseconds since the epoch: b'not-a-number'",
        ),
        (CLOCK_KEY, b"", {CLOCK_HEADER: b"-5"}, "is not microseconds"),
        (CLOCK_KEY, b"", {CLOCK_HEADER: b" 5"}, "is not microseconds"),
        (CLOCK_KEY, b"", {CLOCK_HEADER: b"1" * 20}, "is not microseconds"),
        (CLOCK_KEY, b"", {CLOCK_HEADER: b"\xd9\xa3"}, "is not microseconds"),  # an Arabic-Indic 3
        (CLOCK_KEY, b"", {CLOCK_HEADER: None}, "is not microseconds"),
        (CLOCK_KEY, b"", [(CLOCK_HEADER, b"1"), (CLOCK_HEADER, b"2")], "carries 2 headers"),
        (CLOCK_KEY, b"", [(CLOCK_HEADER, b"1"), ("other", b"")], "carries 2 headers"),
        (None, b"", {CLOCK_HEADER: b"1"}, "key must be 'slamon-clock', not None"),
        (b"api", b"", {CLOCK_HEADER: b"1"}, "key must be 'slamon-clock', not b'api'"),
        (CLOCK_KEY, b'{"event_id":"x"}', {CLOCK_HEADER: b"1"}, "value must be empty, not 16 bytes"),
    ],
)
def test_any_other_form_is_invalid(key, value, headers, says: str) -> None:
    outcome, reason = refusal(key, value, headers)
    assert outcome is Outcome.INVALID
    assert reason.startswith("invalid clock message: ") and says in reason


def test_a_clock_after_the_bound_is_future() -> None:
    outcome, reason = refusal(*clock_message(BOUND + 1))
    assert outcome is Outcome.FUTURE
    assert reason == "future: clock message at 2026-12-03T10:00:00.000001Z is after 2026-12-03T10:00:00Z"
    outcome, reason = refusal(*clock_message(10**19 - 1))  # no datetime holds it: shown as a number
    assert outcome is Outcome.FUTURE and "9999999999999999999 us after the epoch" in reason


@given(
    st.binary(max_size=20) | st.none(),
    st.binary(max_size=20) | st.none(),
    st.lists(
        st.tuples(st.sampled_from([CLOCK_HEADER, "x", ""]), st.binary(max_size=24) | st.none()), max_size=3
    ),
)
def test_any_record_is_read_or_refused_with_a_reason(key, value, headers) -> None:
    try:
        clock = read_clock(key, value, headers, BOUND)
    except RefusedControl as refused:
        assert refused.verdict.outcome in (Outcome.INVALID, Outcome.FUTURE) and refused.verdict.reason
        return
    if clock is not None:
        assert (key, value or b"", headers) == (CLOCK_KEY, b"", [(CLOCK_HEADER, str(clock).encode())])
        assert clock <= BOUND
