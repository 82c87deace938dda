"""Producing ingested events to the broker, and waiting for its acknowledgement (acks=all)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from monitor.broker import create_topics
from monitor.kafka_security import aiokafka_options
from monitor.produce import new_producer
from monitor.settings import Settings


@dataclass(frozen=True)
class Record:
    topic: str
    key: bytes | None
    value: bytes


class PublishError(RuntimeError):
    """The broker did not acknowledge every record; none of them should be taken as stored."""


class Publisher(Protocol):
    async def publish(self, records: Sequence[Record]) -> None:
        """Return once the broker acknowledged every record; raise PublishError otherwise."""
        ...

    def ready(self) -> bool:
        """True while records can be sent."""
        ...


class KafkaPublisher:
    """The input topics' producer (``monitor.produce.new_producer``): acks=all, the bundled
    broker's one-record batches when ``broker_kind`` is ``dev``."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._producer: AIOKafkaProducer | None = None

    async def start(self) -> None:
        """Create the topics (as the worker does, so a produce never auto-creates one with the
        broker's default partition count) and start the producer."""
        settings = self.settings
        topics = dict.fromkeys(settings.topics.all(), settings.partitions)
        await create_topics(settings.bootstrap, topics, settings.replication, **aiokafka_options(settings))
        producer = new_producer(settings)
        await producer.start()
        self._producer = producer

    async def stop(self) -> None:
        producer, self._producer = self._producer, None
        if producer is not None:
            await producer.stop()

    def ready(self) -> bool:
        return self._producer is not None

    async def publish(self, records: Sequence[Record]) -> None:
        producer = self._producer
        if producer is None:
            raise PublishError("the producer is not running")
        try:
            sent = [await producer.send(r.topic, value=r.value, key=r.key) for r in records]
            await asyncio.gather(*sent)
        except KafkaError as error:
            raise PublishError(f"the broker did not acknowledge: {error!r}") from error
