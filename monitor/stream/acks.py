"""Acknowledging inputs once the journal batch holding them is written, without the agent waiting.

The input agent writes a journal batch and goes on reading; the batch's inputs are acknowledged
to faust by a task of their own once the broker has every changelog write of that batch. Waiting
in the agent instead (as the worker did) held every partition's inputs up for each batch's broker
round trip: on a loaded 2-core machine the agent spent 20-70% of its time there, and at 1,000
events/s it fell behind and a sample's webhook waited up to 30 s behind the backlog.

Per input partition, batches are acknowledged in the order they were written (each task waits for
the one before it). At most ``MAX_UNWRITTEN_BATCHES`` batches of a partition wait for the broker;
the agent waits for the oldest beyond that. A failed write is raised in the agent at its next
batch, and nothing of that batch or later ones is acknowledged: they are read again.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import Awaitable, Sequence
from typing import Any, Protocol

from monitor.stream.partitions import PartitionKey

MAX_UNWRITTEN_BATCHES = 16  # per input partition


class Acknowledging(Protocol):
    """What acknowledges an input (faust's ``Stream.ack`` of a ``noack()`` stream)."""

    async def ack(self, event: Any) -> bool: ...


class AfterWritten:
    """One chain of acknowledgement tasks per input partition, in batch order."""

    def __init__(self, max_unwritten: int = MAX_UNWRITTEN_BATCHES) -> None:
        self._max_unwritten = max(max_unwritten, 1)
        self._waiting: dict[PartitionKey, deque[asyncio.Task[None]]] = {}

    async def ack_when_written(
        self, key: PartitionKey, written: Awaitable[Any], events: Sequence[Any], stream: Acknowledging
    ) -> None:
        """Acknowledge ``events`` (one journal batch of partition ``key``) on ``stream`` once
        ``written`` is done and every earlier batch of ``key`` is acknowledged. Raises the failure
        of an earlier batch's write, if any; waits while too many batches of ``key`` are unwritten."""
        waiting = self._waiting.setdefault(key, deque())
        while waiting and waiting[0].done():
            waiting.popleft().result()  # raises a failed write
        while len(waiting) >= self._max_unwritten:
            await waiting.popleft()
        previous = waiting[-1] if waiting else None
        waiting.append(asyncio.ensure_future(_ack_after(previous, written, events, stream)))

    def forget(self, key: PartitionKey) -> None:
        """A revoked partition: its inputs not yet acknowledged never will be (its new owner
        reads them again)."""
        for task in self._waiting.pop(key, ()):
            task.cancel()


async def _ack_after(
    previous: asyncio.Task[None] | None, written: Awaitable[Any], events: Sequence[Any], stream: Acknowledging
) -> None:
    if previous is not None:
        await previous
    await asyncio.shield(written)  # a revoked partition's task is cancelled, never faust's receipts
    for event in events:
        await stream.ack(event)
