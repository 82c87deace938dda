"""An end offset comes with each fetch of a partition, on a real broker (Apache Kafka, where a
worker lost an outage this way): a partition aiokafka has not fetched again (it does not while
faust has not taken its fetched records, nor while faust has paused it) keeps the end offset of
its last fetch, however much has been written since. Read up to that stale end offset it looks
caught up, and the worker let such a partition follow the clock of a sparse one read ahead of it
(``monitor.stream.clocks.let_caught_up_sources_follow``), so that what had been written since was
refused as late. Only an end offset fetched no earlier than the leading partition counts."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from monitor.broker import create_topics
from monitor.kafka_broker import KafkaBroker
from monitor.stream.positions import learned_no_earlier

BUSY_FIRST, BUSY_MORE = 20, 10  # records of the busy partition before and after its last fetch
WAIT_SECONDS = 30.0  # a limit for a broker that does not answer, not a timing bound


async def produce(bootstrap: str, topic: str, count: int) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all")
    await producer.start()
    try:
        for number in range(count):
            await producer.send(topic, str(number).encode(), partition=0)
        await producer.flush()
    finally:
        await producer.stop()


async def read_until(consumer: AIOKafkaConsumer, done: Callable[[], Awaitable[bool]]) -> None:
    """``getmany`` until ``done()`` says so (at most ``WAIT_SECONDS``)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + WAIT_SECONDS
    while not await done():
        assert loop.time() < deadline, "the broker did not deliver in time"
        await consumer.getmany(timeout_ms=200)


def read_to(consumer: AIOKafkaConsumer, tp: TopicPartition, offset: int) -> Callable[[], Awaitable[bool]]:
    """Whether the consumer has fetched ``tp``'s end offset as ``offset`` and read up to it."""

    async def done() -> bool:
        return consumer.highwater(tp) == offset and await consumer.position(tp) == offset

    return done


async def test_an_end_offset_fetched_before_the_leading_record_does_not_make_a_partition_caught_up(
    kafka_broker: KafkaBroker,
) -> None:
    bootstrap = kafka_broker.bootstrap
    name = f"stale-{uuid.uuid4().hex[:10]}"
    busy, sparse = TopicPartition(f"{name}-busy", 0), TopicPartition(f"{name}-sparse", 0)
    await create_topics(bootstrap, {busy.topic: 1, sparse.topic: 1})
    await produce(bootstrap, busy.topic, BUSY_FIRST)
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([busy, sparse])
        await consumer.seek_to_beginning(busy, sparse)
        await read_until(consumer, read_to(consumer, busy, BUSY_FIRST))  # caught up, truly
        consumer.pause(busy)  # not fetched again, as aiokafka and faust do under a backlog
        await produce(bootstrap, busy.topic, BUSY_MORE)
        await produce(bootstrap, sparse.topic, 1)  # written after the busy partition's records
        await read_until(consumer, read_to(consumer, sparse, 1))

        # the busy partition's end offset is the one of its last fetch: 20, though it has 30
        assert consumer.highwater(busy) == BUSY_FIRST
        assert (await consumer.end_offsets([busy]))[busy] == BUSY_FIRST + BUSY_MORE
        # by it, the busy partition (next offset 20 >= end offset 20) looked caught up when the
        # sparse partition's record was read; it was learned before that record's fetch
        sparse_fetched = consumer.last_poll_timestamp(sparse)
        assert not learned_no_earlier(consumer.last_poll_timestamp(busy), sparse_fetched)

        consumer.resume(busy)  # fetched again: its end offset is fresh, and counts again
        await read_until(consumer, read_to(consumer, busy, BUSY_FIRST + BUSY_MORE))
        assert learned_no_earlier(consumer.last_poll_timestamp(busy), sparse_fetched)
    finally:
        await consumer.stop()
