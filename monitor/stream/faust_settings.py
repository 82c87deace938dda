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

The patches to faust itself (its recovery's seek order, the fetch wait) are in
``monitor.stream.faust_patches``.
"""

from __future__ import annotations

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
