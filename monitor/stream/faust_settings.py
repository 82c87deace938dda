"""faust-streaming settings for a worker, proven against the bundled broker and fit for Apache Kafka.

``faust.App(**faust_app_settings(...))`` builds the app (the dict carries its ``id``).
``tests/test_faust_on_dev_broker.py`` runs a worker with exactly these settings on the bundled
broker: a table recovered from its changelog after SIGTERM and SIGKILL, and two workers sharing a
consumer group.

What differs for the bundled broker (``dev_broker=True``, SPEC.md section 8), and why:

- ``producer_max_batch_size=1``: aiokafka's ``max_batch_size`` is in BYTES; a batch always takes
  its first record, so 1 byte means one record per produce batch. With several records in a
  batch the broker answers ListOffsets(latest) with a wrong end offset (10 records produced in
  one batch: end offset 1), and faust's changelog recovery reads up to that end offset only.
- ``broker_session_timeout`` / ``broker_rebalance_timeout`` of 6 s (heartbeat 1 s; Kafka wants it
  below a third of the session timeout): the broker completes a join only when the rebalance
  timeout elapses, so faust's 60 s default means a minute per (re)join. Measured with these
  settings (worker start to "ready", Python start-up included): a new group 4.7-6.3 s; a second
  worker joining 5.3-6.7 s; a worker taking over after the other left 2.2-3.5 s; a restart after
  SIGKILL 12.8-13.5 s (the dead member is waited for); a restart after SIGTERM 4.9-5.3 s or
  12.8 s: the broker numbers a group's first generation 0, and aiokafka only sends LeaveGroup
  from generation 1 on, so a worker stopped in generation 0 does not leave and is waited for too.

Everything else is the same for both brokers:

- ``store="memory://"``: tables live in memory and are rebuilt from their changelog topics at
  start and after every rebalance (no RocksDB, nothing to keep on disk between runs).
- ``topic_allow_declare=True``: faust creates its changelog topics itself, with
  ``topic_partitions`` partitions and ``topic_replication_factor`` replicas (the bundled broker
  accepts faust's CreateTopics for them, replication 1). Input topics are NOT created by faust:
  create them first (``monitor.broker.create_topics``), or a produce would auto-create them with
  the broker's default partition count (4 on the bundled broker, whatever the app expects).
- ``topic_disable_leader=True``: no ``on_leader`` timers are used, so no leader-election topic.
- ``table_standby_replicas=0``: with in-memory tables a standby only buys a faster fail-over at
  the price of every worker reading every changelog partition.
- ``consumer_auto_offset_reset="earliest"``: a new consumer group reads its input from the start,
  so events produced before the first worker joined are processed.
- ``processing_guarantee="at_least_once"`` (faust's exactly-once mode has open bugs): after a
  crash, events processed after the last offset commit (every ``broker_commit_interval``) are
  processed again, on top of table state whose changelog writes may already have landed. Make
  every state change and output idempotent.
- ``stream_wait_empty=False``: faust would otherwise wait, at every rebalance and stop, until
  every event handed to an agent is acknowledged. Inputs wait for their journal batch, so a
  batch still open when the input pauses (a rebalance pauses it) was never acknowledged: a
  worker whose peer was killed hung in its rebalance (seen: 5 minutes, until the test gave
  up), and a stop waited for the kill. Unacknowledged inputs are simply read again.
- web server: off when ``web_port`` is None, else bound to 127.0.0.1 on that port, behind a
  bearer token when ``web_token`` is given.

``fix_faust_recovery_seek_order()`` (opt-in, call it once before the worker starts) corrects a race
in faust-streaming 0.15.3 that makes a restarted worker process the uncommitted tail of its input
twice, on top of the crashed worker's processing: see its docstring.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

DEV_BROKER_SESSION_TIMEOUT = 6.0
DEV_BROKER_HEARTBEAT_INTERVAL = 1.0


def broker_urls(bootstrap: str) -> list[str]:
    """``host:port[,host:port]`` (or already ``kafka://...``) to faust's list of broker URLs."""
    hosts = [h.strip().removeprefix("kafka://") for h in bootstrap.split(",") if h.strip()]
    if not hosts or any(":" not in h for h in hosts):
        raise ValueError(f"bootstrap must look like host:port[,host:port], got {bootstrap!r}")
    return [f"kafka://{h}" for h in hosts]


def faust_app_settings(
    bootstrap: str,
    *,
    dev_broker: bool,
    app_id: str,
    data_dir: str,
    web_port: int | None,
    web_token: str | None = None,
    partitions: int = 4,
    replication: int = 1,
    commit_interval: float = 2.8,
) -> dict[str, Any]:
    """Keyword arguments for ``faust.App(**...)`` (``id`` included)."""
    settings: dict[str, Any] = {
        "id": app_id,
        "broker": broker_urls(bootstrap),
        "store": "memory://",
        "datadir": str(data_dir),
        "topic_partitions": partitions,
        "topic_replication_factor": replication,
        "topic_allow_declare": True,
        "topic_disable_leader": True,
        "table_standby_replicas": 0,
        "consumer_auto_offset_reset": "earliest",
        "processing_guarantee": "at_least_once",
        "broker_commit_interval": commit_interval,
        # do not wait for in-flight events at a rebalance or a stop: the worker acknowledges an
        # input only once its journal batch is written, so a batch still open when no more
        # input comes would make faust wait forever; unacknowledged inputs are read again
        "stream_wait_empty": False,
    }
    if web_port is None:
        settings["web_enabled"] = False
    else:
        settings |= {
            "web_enabled": True,
            "web_port": web_port,
            "web_bind": "127.0.0.1",
            "web_host": "127.0.0.1",
        }
        if web_token:
            from monitor.stream.web_auth import bearer_token_middleware

            settings["web_application_options"] = {"middlewares": [bearer_token_middleware(web_token)]}
    if dev_broker:
        settings |= {
            "producer_max_batch_size": 1,
            "broker_session_timeout": DEV_BROKER_SESSION_TIMEOUT,
            "broker_rebalance_timeout": DEV_BROKER_SESSION_TIMEOUT,
            "broker_heartbeat_interval": DEV_BROKER_HEARTBEAT_INTERVAL,
        }
    return settings


def fix_faust_recovery_seek_order() -> bool:
    """Seek the stream partitions to their committed offsets BEFORE resuming them after recovery.

    faust-streaming 0.15.3's ``Recovery.on_recovery_completed`` resumes the input partitions and
    only then seeks them to the committed offsets. Records aiokafka prefetched during the recovery
    are handed to the agents in between, and processed; the seek then rewinds to the committed
    offset and they are processed again by the same worker. Measured on the bundled broker after a
    SIGKILL with uncommitted input: without this fix, in 3 of 21 restarts of a spike loop and in 3
    of 6 runs of tests/test_faust_on_dev_broker.py, uncommitted events were processed three times in
    all (the dead worker, then twice by the new one); with it, never more than twice (14 restarts
    of the same loop, plus the test runs since). Table updates stay
    consistent either way (each processing is applied once; no lost update was seen), so it only
    matters for the number of duplicate outputs.

    This replaces that one method with the same code in the corrected order. It checks the
    installed faust still has the faulty order and does nothing otherwise; returns whether the
    fix is active. Idempotent.
    """
    from faust.tables.recovery import Recovery

    current = Recovery.on_recovery_completed
    if getattr(current, "_slamon_fixed", False):
        return True
    source = inspect.getsource(current)
    if not (0 <= source.find("consumer.resume_partitions(") < source.find("consumer.perform_seek()")):
        return False

    async def on_recovery_completed(self: Any, generation_id: int = 0) -> None:
        consumer = self.app.consumer
        self.log.info("Restore complete!")
        await self.app.on_rebalance_complete.send()
        self._set_recovery_ended()
        callback_coros = [
            asyncio.ensure_future(
                table.on_recovery_completed(self.actives_for_table[table], self.standbys_for_table[table])
            )
            for table in self.tables.values()
        ]
        if callback_coros:
            await asyncio.wait(callback_coros)
        assignment = consumer.assignment()
        if self.app.consumer_generation_id != generation_id:
            self.log.warning(
                f"Recovery rebalancing again app id {self.app.consumer_generation_id} param {generation_id}"
            )
            return
        if assignment:  # the fix: seek first (which drops prefetched records), then resume
            self.log.info("Seek stream partitions to committed offsets, then resume them.")
            await self._wait(consumer.perform_seek(), timeout=self.app.conf.broker_request_timeout)
        consumer.resume_partitions({tp for tp in assignment if not self._is_changelog_tp(tp)})
        self.completed.set()
        self.app.flow_control.resume()
        consumer.resume_flow()
        await self.app._fetcher.maybe_start()
        self.tables.on_actives_ready()
        if not self.app.assignor.assigned_standbys():
            self.tables.on_standbys_ready()
        self.app.on_rebalance_end()
        self.log.info("Worker ready")

    on_recovery_completed._slamon_fixed = True  # type: ignore[attr-defined]
    Recovery.on_recovery_completed = on_recovery_completed  # type: ignore[method-assign]
    return True


DEV_BROKER_FETCH_WAIT_MS = 100
FAUST_FETCH_WAIT_MS = 1500  # what faust-streaming asks for: the longest wait we ever use


def shorten_fetch_wait(milliseconds: int = DEV_BROKER_FETCH_WAIT_MS) -> None:
    """Make faust's consumer ask for at most ``milliseconds`` of fetch long-polling.

    faust-streaming 0.15 hard-codes ``fetch_max_wait_ms=1500`` for its worker consumer. Apache
    Kafka answers a fetch as soon as data arrives, so that costs nothing there; the bundled
    broker holds the fetch for the whole wait, so every hop through a topic (input, then
    ``sla.notices``) waited up to 1.5 s. Measured with bench/webhook_latency.py at 1,000
    events/s: event-to-webhook p50 2.6 s, p99 7.7 s with 1500 ms; p50 0.48 s, p99 0.82 s with
    100 ms. Only for the bundled broker. Idempotent.
    """
    from faust.transport.drivers.aiokafka import AIOKafkaConsumerThread

    create = AIOKafkaConsumerThread._create_worker_consumer
    if getattr(create, "_slamon_fetch_wait", None) is not None:
        create._slamon_fetch_wait = milliseconds  # type: ignore[attr-defined]
        return

    def _create_worker_consumer(self: Any, transport: Any) -> Any:
        consumer = create(self, transport)
        consumer._fetch_max_wait_ms = _create_worker_consumer._slamon_fetch_wait  # type: ignore[attr-defined]
        return consumer

    _create_worker_consumer._slamon_fetch_wait = milliseconds  # type: ignore[attr-defined]
    AIOKafkaConsumerThread._create_worker_consumer = _create_worker_consumer  # type: ignore[method-assign]


def lengthen_fetch_wait(consumer: Any) -> int | None:
    """Quadruple the fetch wait of a running faust consumer (up to faust's own 1,500 ms); the new
    wait, or None if it was already that long.

    The bundled broker answers a fetch with nothing when reading the records takes longer than
    the wait, and reading from a partition grows slower as the partition grows: in the soak
    bench a 100 ms wait read nothing more after about 160,000 records in one partition, for
    ever (a probe with 500 ms got 11,509 records in 1 s from the same offset). A stalled
    partition therefore asks for longer waits, at the cost of latency.
    """
    fetcher = consumer._thread._ensure_consumer()._fetcher
    current = fetcher._fetch_max_wait_ms
    if current >= FAUST_FETCH_WAIT_MS:
        return None
    fetcher._fetch_max_wait_ms = min(current * 4, FAUST_FETCH_WAIT_MS)
    return fetcher._fetch_max_wait_ms
