"""What the live worker needs from the ledger, the webhook outbox and the webhook deliverer.

``monitor.ledger.store.Ledger``, ``alerting.outbox.Outbox`` and ``alerting.delivery.Deliverer``
are the real ones; anything with these methods will do (the worker runs without a ledger in
some tests, and then with neither outbox nor deliverer).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Protocol


class ResultsLedger(Protocol):
    """The durable store of results and notices. Every write is idempotent (results upserted,
    the first version of a notice kept), and every call blocks: the worker runs it in a thread."""

    def record_clause_results(self, records: Sequence[dict[str, Any]]) -> None:
        """Upsert clause result records and recompute the contract records of their periods."""
        ...

    def record_details(self, records: Sequence[dict[str, Any]]) -> None:
        """Upsert the detail records (statement lines) of clause periods."""
        ...

    def read_results(self, contract: str | None = None) -> list[dict[str, Any]]:
        """The stored result records (of one contract, or of all)."""
        ...

    def read_claims(self) -> dict[tuple[str, str], datetime]:
        """When each (contract, period) credit was claimed (UTC)."""
        ...

    def record_notices(self, notices: Sequence[dict[str, Any]]) -> list[str]:
        """Store notices whose id is new; returns the ids stored now, each once."""
        ...


class NoticeOutbox(Protocol):
    """The webhook outbox: one delivery per notice and matching subscription. Blocking."""

    def enqueue_all(self, notices: Iterable[Mapping[str, Any]], now: float | None = None) -> int:
        """Queue the deliveries of these (stored) notices, once each; returns how many were new."""
        ...

    def enqueue_unqueued(self, now: float | None = None) -> int:
        """Queue the deliveries of stored notices that have none yet; returns how many."""
        ...


class WebhookDeliverer(Protocol):
    """Sends the outbox's due deliveries for as long as it runs."""

    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set (or the task is cancelled)."""
        ...

    def wake(self) -> None:
        """New deliveries are queued: look now rather than at the next poll."""
        ...
