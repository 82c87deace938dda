"""``slamon ingest`` as a subprocess on 127.0.0.1 for the tests, and reading back what it produced."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition

from monitor.broker import DevBroker, free_port
from monitor.stream.control import CLOCK_KEY
from tests.conftest import REPO, TOPICS
from tests.monitoring_tools import running


@dataclass
class Ingest:
    url: str
    broker: DevBroker
    topics: dict[str, str]  # uptime, maintenance, ... -> this run's topic name
    log: Path

    def records(self, kind: str) -> list[tuple[bytes | None, bytes]]:
        """Every (key, value) on one of this run's topics, from its beginning, but the clock
        messages a running worker appends to idle input partitions."""
        records = asyncio.run(read_topic(self.broker.bootstrap, self.topics[kind]))
        return [(key, value) for key, value in records if key != CLOCK_KEY]


async def read_topic(bootstrap: str, topic: str) -> list[tuple[bytes | None, bytes]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        partitions = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())]
        if not partitions:
            await consumer.topics()  # refresh metadata once
            partitions = [
                TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or ())
            ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[tuple[bytes | None, bytes]] = []
        for partition in partitions:
            while await consumer.position(partition) < ends[partition]:
                batch = await consumer.getmany(partition, timeout_ms=1000)
                found.extend((m.key, m.value) for m in batch.get(partition, []))
        return found
    finally:
        await consumer.stop()


@contextmanager
def running_ingest(
    broker: DevBroker, workdir: Path, prefix: str | None = None, **settings: str
) -> Iterator[Ingest]:
    """The service on ``broker`` with the topics ``<prefix>.uptime`` ... (a new prefix unless
    given); ``settings`` are SLAMON_INGEST_* values."""
    name = prefix or f"i{uuid.uuid4().hex[:8]}"
    topics = {kind: f"{name}.{kind}" for kind in TOPICS}
    port = free_port()
    env = {
        **os.environ,
        "SLAMON_BROKER": broker.url,
        "SLAMON_BROKER_KIND": "dev",
        "SLAMON_INGEST_PORT": str(port),
        **{f"SLAMON_TOPIC_{kind.upper()}": topic for kind, topic in topics.items()},
        **{f"SLAMON_INGEST_{key.upper()}": value for key, value in settings.items()},
    }
    log = workdir / f"ingest-{name}.log"
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "monitor.cli", "ingest"]
    with running(command, log, f"{url}/healthz", "slamon ingest", cwd=REPO, env=env):
        yield Ingest(url, broker, topics, log)
