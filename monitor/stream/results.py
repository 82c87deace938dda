"""Publishing clause results and statement details to ``sla.results`` (keyed by contract)."""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from typing import Any

import faust
import orjson

from alerting.metrics import Metrics
from monitor.stream.gauges import forget_clause_gauges, set_clause_gauges, set_consumer_lag
from monitor.stream.partitions import PartitionKey
from monitor.stream.positions import Positions
from monitor.stream.processor import PartitionProcessor

DETAILS_RESEND_SECONDS = 60.0  # an unchanged detail record is sent again at most this often

Identity = tuple[str, str, str]  # contract, clause, period


class ResultsPublisher:
    """Sends the results of the partitions whose engines changed (``touch``), each record only
    when it differs from what was last sent, and refreshes their gauges."""

    def __init__(
        self,
        app: faust.App,
        topic: faust.TopicT,
        processors: Mapping[PartitionKey, PartitionProcessor],
        positions: Positions,
        input_topics: Collection[str],
        metrics: Metrics,
    ) -> None:
        self._app = app
        self.topic = topic
        self._processors = processors
        self._positions = positions
        self._input_topics = input_topics
        self._metrics = metrics
        self._dirty: set[PartitionKey] = set()
        self._emitted: dict[Identity, dict[str, Any]] = {}
        self._details_sent: dict[Identity, tuple[Any, float]] = {}

    def touch(self, key: PartitionKey) -> None:
        """The engine of this partition may have new results: publish them next time."""
        self._dirty.add(key)

    def restate(self) -> None:
        """Send every clause result again at the next publish, changed or not."""
        self._emitted.clear()
        self._dirty.update(self._processors)

    def forget(self, processor: PartitionProcessor) -> None:
        """A revoked partition: its new owner exports its gauges."""
        forget_clause_gauges(self._metrics, processor)

    async def publish(self) -> None:
        """The timer: changed clause results and details to the topic, then the gauges."""
        dirty, self._dirty = self._dirty, set()
        changed: list[dict[str, Any]] = []
        for key in dirty:
            processor = self._processors.get(key)
            if processor is None:
                continue
            for result in processor.clause_results():
                record = result.to_record()
                identity = (record["contract"], record["clause"], record["period"])
                if self._emitted.get(identity) != record:
                    self._emitted[identity] = record
                    changed.append(record)
        changed += self._changed_details(dirty)
        for record in changed:
            await self.topic.send(key=record["contract"].encode(), value=orjson.dumps(record))
        for key in dirty:
            processor = self._processors.get(key)
            if processor is not None:
                set_clause_gauges(self._metrics, processor)
        set_consumer_lag(self._metrics, self._app, self._positions, self._input_topics)

    def _changed_details(self, dirty: set[PartitionKey]) -> list[dict[str, Any]]:
        """Detail records (for statements) of the latest periods: when their lines changed,
        and otherwise at most once a minute (their clock moves every second)."""
        changed = []
        now = time.monotonic()
        for key in dirty:
            processor = self._processors.get(key)
            if processor is None:
                continue
            for details in processor.engine.clause_details():
                record = details.to_record()
                identity = (record["contract"], record["clause"], record["period"])
                lines = {k: v for k, v in record["details"].items() if k != "as_of"}
                previous = self._details_sent.get(identity)
                if (
                    previous is None
                    or previous[0] != (lines, record["final"])
                    or now - previous[1] >= DETAILS_RESEND_SECONDS
                ):
                    self._details_sent[identity] = ((lines, record["final"]), now)
                    changed.append(record)
        return changed
