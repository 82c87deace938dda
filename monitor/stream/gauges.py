"""The Prometheus gauges of the clauses a worker's input partitions hold."""

from __future__ import annotations

import contextlib
from collections.abc import Collection

import faust

from alerting.metrics import Metrics
from monitor.stream.positions import Positions
from monitor.stream.processor import PartitionProcessor
from monitor.terms import all_clauses


def set_clause_gauges(metrics: Metrics, processor: PartitionProcessor) -> None:
    """Attainment, target, budget left, breach and consecutive breaches of the partition's
    clauses, and the partition's watermark (seconds since the epoch)."""
    for status in processor.clause_status():
        labels = (status.contract, status.clause)
        metrics.attainment.labels(*labels).set(float(status.attained / 100))
        metrics.target.labels(*labels).set(float(status.target_percent / 100))
        metrics.budget_remaining.labels(*labels).set(float(status.budget_remaining))
        metrics.breached.labels(*labels).set(int(status.breached))
        metrics.consecutive.labels(*labels).set(status.consecutive_breaches)
        if status.paused_tickets is not None:
            metrics.paused_tickets.labels(*labels).set(status.paused_tickets)
    watermark_us = processor.engine.watermark
    if watermark_us is not None:
        metrics.watermark.labels(processor.stream.value, str(processor.partition)).set(watermark_us / 1e6)


def forget_clause_gauges(metrics: Metrics, processor: PartitionProcessor) -> None:
    """A revoked partition's clauses are now exported by the worker that owns them."""
    for gauge in (
        metrics.attainment,
        metrics.target,
        metrics.budget_remaining,
        metrics.breached,
        metrics.consecutive,
        metrics.paused_tickets,
    ):
        for contract in processor.engine.contracts.values():
            for clause in all_clauses(contract):
                with contextlib.suppress(KeyError):
                    gauge.remove(contract.id, clause.id)
    with contextlib.suppress(KeyError):
        metrics.watermark.remove(processor.stream.value, str(processor.partition))


def set_consumer_lag(
    metrics: Metrics, app: faust.App, positions: Positions, input_topics: Collection[str]
) -> None:
    """Records left to process on each assigned input partition whose end offset faust knows."""
    consumer = app.consumer
    for tp in consumer.assignment():
        if tp.topic not in input_topics:
            continue
        highwater = consumer.highwater(tp)
        if highwater is None:
            continue
        lag = max(highwater - positions.next_to_process(tp), 0)
        metrics.consumer_lag.labels(tp.topic, str(tp.partition)).set(lag)
