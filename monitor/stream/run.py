"""Start the faust worker: topics first, then the ledger, then the app."""

from __future__ import annotations

import asyncio
import logging
import sys
from collections.abc import Sequence

import faust
from prometheus_client import start_http_server

from alerting.delivery import Deliverer
from alerting.metrics import Metrics
from alerting.outbox import Outbox
from alerting.retry import RetryPolicy
from alerting.subscriptions import Subscription
from monitor.broker import create_topics
from monitor.contract import Contract
from monitor.kafka_security import aiokafka_options
from monitor.ledger.store import Ledger
from monitor.settings import Settings
from monitor.stream.app import Worker
from monitor.stream.faust_patches import (
    fix_faust_recovery_seek_order,
    fix_fetch_of_paused_partitions,
    fix_seek_to_committed_without_commit,
    shorten_fetch_wait,
)
from monitor.terms_guard import check_terms, refusal


def history_kept(ledger: Ledger, contracts: Sequence[Contract]) -> bool:
    """The terms of every month the ledger has begun must be those it began under (SPEC.md
    section 12): otherwise say which and what to do instead. Removed contracts are reported."""
    check = check_terms(contracts, ledger.read_fingerprints())
    for contract in check.removed:
        note = f"slamon: contract {contract} is no longer loaded; its months stay in the ledger"
        print(note, file=sys.stderr)
    if not check.ok:
        print(f"slamon: error: {refusal(check)}", file=sys.stderr)
    return check.ok


def run_worker(
    settings: Settings,
    contracts: Sequence[Contract],
    subscriptions: Sequence[Subscription] = (),
    loglevel: str = "info",
) -> int:
    topics = dict.fromkeys(settings.topics.all(), settings.partitions)
    asyncio.run(create_topics(settings.bootstrap, topics, settings.replication, **aiokafka_options(settings)))
    fix_faust_recovery_seek_order()
    fix_seek_to_committed_without_commit()
    fix_fetch_of_paused_partitions()
    if settings.broker_kind == "dev":
        shorten_fetch_wait()
    ledger = Ledger(settings.database, contracts)
    if not history_kept(ledger, contracts):
        ledger.close()
        return 2
    metrics = Metrics()
    if settings.metrics_port:
        start_http_server(settings.metrics_port, settings.metrics_host, registry=metrics.registry)
    outbox = Outbox(ledger.engine, subscriptions)
    max_age = settings.webhook_max_age.total_seconds() if settings.webhook_max_age is not None else None
    policy = RetryPolicy(schedule=settings.retry_waits_seconds, max_age=max_age)
    deliverer = Deliverer(ledger.engine, subscriptions, metrics=metrics, policy=policy)
    worker = Worker(settings, contracts, ledger, metrics, outbox, deliverer)
    for name in ("slamon", "alerting"):
        logging.getLogger(name).setLevel(loglevel.upper())
    logging.getLogger("httpx").setLevel(logging.WARNING)  # it logs full URLs, which may carry tokens
    try:
        faust.Worker(worker.app, loglevel=loglevel).execute_from_commandline()
    finally:
        ledger.close()
    return 0
