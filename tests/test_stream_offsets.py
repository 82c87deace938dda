"""Where the worker fetches a stalled input partition from again: never past an unread record."""

from __future__ import annotations

import pytest

from monitor.stream.positions import next_unread


@pytest.mark.parametrize(
    ("last_read", "committed", "expected"),
    [
        (None, None, 0),  # nothing read, nothing committed: from the start
        (None, 40, 40),  # nothing read since the start: from the committed offset
        (40, 40, 40),  # faust sought to the committed offset (it marks it read): not past it
        (39, 40, 40),
        (57, 40, 58),  # read on since: the next one
        (57, None, 58),
    ],
)
def test_next_unread(last_read: int | None, committed: int | None, expected: int) -> None:
    assert next_unread(last_read, committed) == expected
