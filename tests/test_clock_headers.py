"""Clock messages: the idle rule's ``slamon-clock`` header, in either form faust hands over."""

from __future__ import annotations

import pytest

from monitor.stream.clocks import CLOCK_HEADER, Headers, clock_header


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        (None, None),  # an ordinary event without headers
        ({}, None),
        ([], None),
        ({"trace": b"x"}, None),  # other headers only
        ({CLOCK_HEADER: b"1790000000000000"}, 1_790_000_000_000_000),  # as sent: a mapping
        ([("trace", b"x"), (CLOCK_HEADER, b"1790000000000001")], 1_790_000_000_000_001),  # as read: pairs
    ],
)
def test_clock_header(headers: Headers | None, expected: int | None) -> None:
    assert clock_header(headers) == expected
