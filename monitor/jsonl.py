"""Reading JSON Lines files (``slamon replay``, ``produce`` and ``explain --events``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from itertools import chain

UTF8_BOM = b"\xef\xbb\xbf"


def lines_of(handle: Iterable[bytes]) -> Iterator[bytes]:
    """The file's lines, with a UTF-8 byte order mark at its start removed (editors on Windows
    write one; RFC 8259 lets a parser ignore it), so the first event is not lost as invalid."""
    lines = iter(handle)
    first = next(lines, None)
    if first is None:
        return iter(())
    return chain((first.removeprefix(UTF8_BOM),), lines)  # no Python step per line: replay reads millions
