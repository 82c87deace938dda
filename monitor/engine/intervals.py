"""Half-open intervals ``(start, end)`` of integer instants."""

from __future__ import annotations

from collections.abc import Iterable

Interval = tuple[int, int]


def merge(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, disjoint union of the given intervals (empty ones dropped)."""
    merged: list[Interval] = []
    for start, end in sorted(i for i in intervals if i[1] > i[0]):
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def clip(intervals: Iterable[Interval], lo: int, hi: int) -> list[Interval]:
    return [(max(s, lo), min(e, hi)) for s, e in intervals if s < hi and e > lo]


def covered(disjoint: list[Interval], lo: int, hi: int) -> int:
    """Length of ``[lo, hi)`` covered by a sorted disjoint list."""
    total = 0
    for start, end in disjoint:
        if start >= hi:
            break
        if end > lo:
            total += min(end, hi) - max(start, lo)
    return total
