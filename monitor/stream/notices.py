"""Notices: stated to ``sla.notices``, stored in the ledger, queued in the webhook outbox, delivered."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence
from typing import Any

import faust
import orjson

from alerting.metrics import Metrics
from alerting.payload import notice_body
from monitor.contract import Contract
from monitor.engine.notices import Notice
from monitor.stream.collaborators import NoticeOutbox, ResultsLedger, WebhookDeliverer
from monitor.stream.ledger_calls import call_until_done
from monitor.stream.processor import PartitionProcessor

log = logging.getLogger("slamon.worker")

NOTICE_BATCH = 100
NOTICE_BATCH_SECONDS = 0.05  # a notice waits at most this long for others to share its write


class Notices:
    """Keyed by contract, like the results: one ledger writer sees a contract's notices.

    Without a ledger, notices are only published; without an outbox, only stored; without a
    deliverer, queued deliveries wait for another worker's (or ``slamon deliver``)."""

    def __init__(
        self,
        topic: faust.TopicT,
        contracts: Sequence[Contract],
        metrics: Metrics,
        ledger: ResultsLedger | None = None,
        outbox: NoticeOutbox | None = None,
        deliverer: WebhookDeliverer | None = None,
    ) -> None:
        self.topic = topic
        self._contracts_by_id = {c.id: c for c in contracts}
        self._metrics = metrics
        self._ledger = ledger
        self._outbox = outbox
        self._deliverer = deliverer

    async def state(self, notice: Notice) -> tuple[Awaitable[Any], dict[str, Any]]:
        """Publish a notice; returns its delivery to the broker and the record published."""
        value = orjson.dumps(notice.to_record())
        sent = await self.topic.send(key=notice.contract.encode(), value=value)
        log.info("notice %s stated (as of %s)", notice.id, notice.to_record()["as_of"])
        return sent, orjson.loads(value)

    async def restate(self, processors: Iterable[PartitionProcessor]) -> None:
        """Publish every recent notice (open or just-closed periods) again: the ledger keeps
        the first version of a notice, so this is idempotent."""
        for processor in list(processors):
            for notice in processor.engine.recent_notices():
                value = orjson.dumps(notice.to_record())
                await self.topic.send(key=notice.contract.encode(), value=value)

    async def record(self, stream: faust.StreamT) -> None:
        """The agent on ``sla.notices``: notices into the ledger (first version of an id wins),
        then into the webhook outbox."""
        async for batch in stream.take(NOTICE_BATCH, within=NOTICE_BATCH_SECONDS):
            await self.store([orjson.loads(value) for value in batch])

    async def store(self, notices: list[dict[str, Any]]) -> None:
        """Store notice records of known contracts (with the body their webhooks carry), count
        the new ones, queue their deliveries and wake the deliverer. Without a ledger: nothing."""
        if self._ledger is None:
            return
        rows = []
        for notice in notices:
            contract = self._contracts_by_id.get(notice["contract"])
            if contract is not None:
                rows.append({**notice, "payload": notice_body(notice, contract)})
        if rows:
            stored = await call_until_done(self._stored_and_queued(rows))
            types = {row["id"]: row["type"] for row in rows}  # a batch may repeat a notice
            for notice_id in stored:
                self._metrics.notices.labels(types[notice_id]).inc()
            if self._outbox is not None and self._deliverer is not None:
                self._deliverer.wake()

    def _stored_and_queued(self, rows: list[dict[str, Any]]) -> Callable[[], list[str]]:
        """One blocking call that stores ``rows`` in the ledger, then queues their deliveries,
        and returns the ids stored now: one trip to a thread instead of two, for the webhook's
        latency. Retried whole, it stores nothing twice and still returns the first ids."""
        ledger, outbox = self._ledger, self._outbox
        assert ledger is not None
        stored: list[str] | None = None

        def store_then_queue() -> list[str]:
            nonlocal stored
            if stored is None:
                stored = ledger.record_notices(rows)
            if outbox is not None:
                outbox.enqueue_all(rows)
            return stored

        return store_then_queue

    async def queue_forgotten_deliveries(self) -> None:
        """Queue deliveries of notices stored without them (a worker killed between the two)."""
        if self._outbox is None:
            return
        added = await call_until_done(self._outbox.enqueue_unqueued)
        if added:
            log.warning("queued %d webhook deliveries of notices stored without them", added)
            if self._deliverer is not None:
                self._deliverer.wake()

    async def deliver(self) -> None:
        """Webhook delivery from the ledger's outbox, for as long as the worker runs."""
        if self._deliverer is not None:
            await self._deliverer.run(asyncio.Event())  # cancelled on shutdown
