"""The engines' state table: a faust table whose changelog writes can be waited for.

An input may be acknowledged only once the broker has the journal batch that applied it. faust
commits acknowledged offsets after ``producer.flush()``, but in faust-streaming 0.15.3 that
flush does not wait for the table's changelog writes: ``ProducerBuffer.flush_atmost`` returns
after 0.1 s without a send, and does not count the record its sender is still handing to
aiokafka. A worker killed in that gap would have committed inputs whose journal never reached
the changelog, and its successor would never apply them. (Found by reading faust's source while
chasing a lost outage on Kafka; that loss turned out to have another cause, aiokafka's seek
that leaves never-committed partitions alone, fixed in ``faust_patches``.) So the input agent
acknowledges a batch's inputs only once its own writes are done (``monitor.stream.acks``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any

import faust
from faust.types import FutureMessage

# a worker that never waits (a test driving the table by hand) keeps at most this many receipts
_KEEP_RECEIPTS = 10_000


class StateTable(faust.Table):
    """``faust.Table`` that keeps the receipt of every changelog write until ``written`` is awaited."""

    def send_changelog(self, *args: Any, **kwargs: Any) -> FutureMessage:
        receipt: FutureMessage = super().send_changelog(*args, **kwargs)
        receipts = self._receipts()
        receipts.append(receipt)
        if len(receipts) > _KEEP_RECEIPTS:
            receipts[:] = [r for r in receipts if not r.done()]
        return receipt

    def written(self) -> Awaitable[Any]:
        """Done once the broker has every changelog write made so far (not those made after this
        call); raises if one failed."""
        receipts = self._receipts()
        waiting = list(receipts)
        receipts.clear()
        return asyncio.gather(*waiting)

    def _receipts(self) -> list[FutureMessage]:
        # faust's Table has a long keyword-only constructor; a lazily made list spares re-stating it
        receipts: list[FutureMessage] | None = self.__dict__.get("_changelog_receipts")
        if receipts is None:
            receipts = self.__dict__["_changelog_receipts"] = []
        return receipts
