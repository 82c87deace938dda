"""The faust-streaming application: the worker's parts, wired to faust's agents and timers.

Thin driver: decoding, routing and state persistence only; the SLA math is the engine's.
Each part has one job: ``inputs`` (the input agent and its engines), ``clocks`` (the idle
rule), ``results`` (publishing results), ``ledger_writer``, ``notices`` (and the webhook
outbox), ``watchdog`` (stalled partitions); ``positions`` is what they know of the consumer.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import faust
from faust.types import TP, AppT

from alerting.metrics import Metrics
from monitor.contract import Contract
from monitor.kafka_security import faust_credentials
from monitor.settings import Settings
from monitor.stream.clocks import IdleRule
from monitor.stream.collaborators import NoticeOutbox, ResultsLedger, WebhookDeliverer
from monitor.stream.faust_settings import faust_app_settings
from monitor.stream.inputs import InputReader, input_streams
from monitor.stream.ledger_writer import LedgerWriter
from monitor.stream.notices import Notices
from monitor.stream.partitions import PartitionKey
from monitor.stream.positions import Positions
from monitor.stream.processor import PartitionProcessor
from monitor.stream.results import ResultsPublisher
from monitor.stream.state_table import StateTable
from monitor.stream.watchdog import CHECK_SECONDS, StallWatchdog

RESTATE_SECONDS = 60.0  # every clause result and recent notice is sent again this often
STATE_TABLE = "engine-state"


def faust_options(settings: Settings) -> dict[str, Any]:
    """``faust.App`` keyword arguments (less the id) for these settings: the configuration
    proven on the bundled broker in ``monitor.stream.faust_settings``, with raw payloads."""
    options = faust_app_settings(
        settings.bootstrap,
        dev_broker=settings.broker_kind == "dev",
        app_id=settings.app_id,
        data_dir=str(settings.data_dir),
        web_port=settings.web_port or None,
        web_token=settings.web_token.get_secret_value() if settings.web_token is not None else None,
        partitions=settings.partitions,
        replication=settings.replication,
    )
    del options["id"]
    credentials = faust_credentials(settings)
    if credentials is not None:
        options["broker_credentials"] = credentials
    return options | {"value_serializer": "raw", "key_serializer": "raw"}


class Worker:
    """Builds the faust app around one processor per (stream, input partition)."""

    def __init__(
        self,
        settings: Settings,
        contracts: Sequence[Contract],
        ledger: ResultsLedger | None = None,
        metrics: Metrics | None = None,
        outbox: NoticeOutbox | None = None,
        deliverer: WebhookDeliverer | None = None,
    ) -> None:
        self.settings = settings
        self.contracts = contracts
        self.ledger = ledger
        self.metrics = metrics if metrics is not None else Metrics()
        self.outbox = outbox
        self.deliverer = deliverer
        self.app = faust.App(settings.app_id, **faust_options(settings))
        topics = settings.topics
        streams = input_streams(topics)

        def topic(name: str) -> faust.TopicT:
            return self.app.topic(name, value_type=bytes, key_type=bytes)

        self.inputs_topic = self.app.topic(*streams, value_type=bytes, key_type=bytes)
        self.results_topic = topic(topics.results)
        self.notices_topic = topic(topics.notices)
        self.state = self.app.tables.add(
            StateTable(
                self.app,
                name=STATE_TABLE,
                default=None,
                beacon=self.app.tables.beacon,
                partitions=settings.partitions,
                # string keys and JSON values survive changelog recovery (tuple keys do not)
                schema=faust.Schema(key_type=str, key_serializer="json", value_serializer="json"),
            )
        )
        read_topics = set(streams) | ({topics.results, topics.notices} if ledger else set())
        self.positions = Positions(self.app, read_topics)
        self.processors: dict[PartitionKey, PartitionProcessor] = {}
        self.idle = IdleRule(self.app, self.positions, streams, settings.idle_timeout)
        self.results = ResultsPublisher(
            self.app, self.results_topic, self.processors, self.positions, streams, self.metrics
        )
        self.notices = Notices(self.notices_topic, contracts, self.metrics, ledger, outbox, deliverer)
        self.inputs = InputReader(
            settings,
            contracts,
            self.state,
            streams,
            self.processors,
            self.positions,
            self.idle,
            self.results,
            self.notices,
            topic(topics.deadletter),
            self.metrics,
        )
        bundled = settings.broker_kind == "dev"
        self.watchdog = StallWatchdog(self.app, self.positions, lengthen_fetch_wait=bundled)
        self._register()

    def _register(self) -> None:
        """Every agent, timer and task of the worker, and its rebalance hooks."""
        app = self.app
        app.agent(self.inputs_topic, name="slamon-inputs")(self.inputs.consume)
        if self.ledger is not None:
            writer = LedgerWriter(self.ledger, self.metrics, self.contracts)
            app.agent(self.results_topic, name="slamon-ledger")(writer.write)
            app.agent(self.notices_topic, name="slamon-notices")(self.notices.record)
        app.timer(interval=1.0)(self.results.publish)
        app.timer(interval=1.0)(self.positions.learn_end_offsets)
        app.timer(interval=CHECK_SECONDS)(self.watchdog.restart_stalled_partitions)
        app.timer(interval=self.idle.interval_s)(self.idle.advance_idle_partitions)
        app.on_partitions_revoked.connect(self._forget_revoked)
        app.on_partitions_assigned.connect(self._note_assigned)
        if self.deliverer is not None:
            app.task(self.notices.deliver)
        if self.settings.broker_kind == "dev":
            self._register_bundled_broker_safety_nets()

    def _register_bundled_broker_safety_nets(self) -> None:
        """What only the bundled broker needs; Apache Kafka's live, kill, fail-over and restart
        tests pass without these two."""
        app = self.app
        app.timer(interval=RESTATE_SECONDS)(self._restate)
        if self.outbox is not None:
            app.timer(interval=RESTATE_SECONDS)(self.notices.queue_forgotten_deliveries)

    async def _restate(self) -> None:
        """Send every clause result (on the next publish) and every recent notice again, changed
        or not: the ledger keeps the first version of a notice and upserts results, so this is
        idempotent. A safety net: after a worker was killed, its successor was seen to consume
        `results` and `notices` partitions to the end while some of their records never reached
        the ledger (cause not found); a final result or a notice is never sent again otherwise."""
        self.results.restate()
        await self.notices.restate(self.processors.values())

    # faust sends its partition signals as ``(app, partitions, signal=...)``; mode types a
    # handler as taking any number of positional arguments
    async def _note_assigned(self, app: AppT, *args: Any, **_: Any) -> None:
        self.positions.reassigned()

    async def _forget_revoked(self, app: AppT, *args: Any, **_: Any) -> None:
        revoked: set[TP] = args[0]
        self.positions.reassigned()
        for tp in revoked:
            processor = self.inputs.forget(tp)
            if processor is not None:
                self.results.forget(processor)
            self.positions.forget(tp)
