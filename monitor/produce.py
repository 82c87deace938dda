"""``slamon produce``: publish a JSON Lines file to the event topics with the right keys."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson
from aiokafka import AIOKafkaProducer

from monitor.broker import create_topics
from monitor.jsonl import lines_of
from monitor.kafka_security import aiokafka_options
from monitor.settings import Settings

IN_FLIGHT = 500


def route(line: bytes, settings: Settings) -> tuple[str, bytes | None]:
    """Topic and key for one line: uptime, maintenance and requests by service, tickets by contract.

    A line that is not a known event still goes to an input topic, so the worker
    dead-letters it with the reason, as it would any bad input.
    """
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError:
        return settings.topics.uptime, None
    return route_document(document, settings)


def route_document(document: object, settings: Settings) -> tuple[str, bytes | None]:
    """Topic and key for one parsed JSON value, by the rules of ``route``."""
    topics = settings.topics
    if not isinstance(document, dict):
        return topics.uptime, None
    kind = document.get("type")
    if kind == "ticket":
        return topics.tickets, _key(document.get("contract"))
    topic = {"maintenance": topics.maintenance, "requests": topics.requests}.get(kind, topics.uptime)  # type: ignore[arg-type]
    return topic, _key(document.get("service"))


def _key(value: object) -> bytes | None:
    return value.encode() if isinstance(value, str) else None


def producer_options(broker_kind: str) -> dict[str, int]:
    """aiokafka producer batching for a broker kind: one record per batch on the bundled broker
    (its end offsets are wrong for multi-record batches, SPEC.md section 8), short lingering
    batches on Apache Kafka."""
    return {"max_batch_size": 1, "linger_ms": 0} if broker_kind == "dev" else {"linger_ms": 5}


def new_producer(settings: Settings) -> AIOKafkaProducer:
    """A producer that waits for every in-sync replica (acks=all), with the bundled broker's
    one-record batches when ``broker_kind`` is ``dev``; not started yet."""
    options: dict[str, Any] = producer_options(settings.broker_kind) | aiokafka_options(settings)
    return AIOKafkaProducer(bootstrap_servers=settings.bootstrap, acks="all", **options)


async def produce_lines(settings: Settings, lines: Iterable[bytes]) -> Counter[str]:
    """Publish the lines (input topics created first, with ``settings.partitions`` each: a topic
    Kafka auto-creates gets the broker's default count, and the worker then refuses it); the
    number of records sent per topic."""
    inputs = dict.fromkeys(settings.topics.inputs(), settings.partitions)
    await create_topics(settings.bootstrap, inputs, settings.replication, **aiokafka_options(settings))
    producer = new_producer(settings)
    await producer.start()
    sent: Counter[str] = Counter()
    pending = []
    try:
        for raw in lines:
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue
            topic, key = route(line, settings)
            pending.append(await producer.send(topic, value=line, key=key))
            sent[topic] += 1
            if len(pending) >= IN_FLIGHT:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return sent


def produce_file(settings: Settings, path: Path) -> Counter[str]:
    with path.open("rb") as handle:
        return asyncio.run(produce_lines(settings, lines_of(handle)))
