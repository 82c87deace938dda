"""The seek faust makes after every rebalance, on a real broker: a partition nobody committed goes
back to its start, whatever the consumer had fetched (aiokafka issue #1003 leaves it there)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from monitor.broker import DevBroker, create_topics
from monitor.stream.faust_patches import seek_every_partition_to_committed

RECORDS = 200


@pytest_asyncio.fixture(loop_scope="function")  # the consumer lives on the test's own loop
async def fetched_ahead(dev_broker: DevBroker) -> AsyncIterator[tuple[AIOKafkaConsumer, TopicPartition]]:
    """A group consumer that has fetched past the start of a one-partition topic, committing nothing."""
    topic = f"seek-{uuid.uuid4().hex[:10]}"
    await create_topics(dev_broker.bootstrap, {topic: 1})
    producer = AIOKafkaProducer(bootstrap_servers=dev_broker.bootstrap)
    await producer.start()
    try:
        for number in range(RECORDS):
            await producer.send(topic, str(number).encode(), partition=0)
        await producer.flush()
    finally:
        await producer.stop()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=dev_broker.bootstrap,
        group_id=f"g-{topic}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    tp = TopicPartition(topic, 0)
    try:
        for _ in range(60):
            await consumer.getmany(timeout_ms=500, max_records=50)
            if consumer.assignment() and await consumer.position(tp) > 0:
                break
        yield consumer, tp
    finally:
        await consumer.stop()


async def test_a_partition_never_committed_is_read_again_from_its_start(
    fetched_ahead: tuple[AIOKafkaConsumer, TopicPartition],
) -> None:
    consumer, tp = fetched_ahead
    assert await consumer.position(tp) > 0
    committed = await seek_every_partition_to_committed(consumer, "earliest", changelogs=set())
    assert committed == {tp: None}
    assert await consumer.position(tp) == 0
    batch = await consumer.getmany(tp, timeout_ms=2000, max_records=1)
    assert [record.offset for record in batch[tp]] == [0]


async def test_a_committed_partition_is_read_again_from_its_commit(
    fetched_ahead: tuple[AIOKafkaConsumer, TopicPartition],
) -> None:
    consumer, tp = fetched_ahead
    await consumer.commit({tp: OffsetAndMetadata(7, "")})
    await consumer.getmany(timeout_ms=500)
    await seek_every_partition_to_committed(consumer, "earliest", changelogs=set())
    assert await consumer.position(tp) == 7


async def test_table_changelogs_are_left_to_faust(
    fetched_ahead: tuple[AIOKafkaConsumer, TopicPartition],
) -> None:
    consumer, tp = fetched_ahead
    ahead = await consumer.position(tp)
    await seek_every_partition_to_committed(consumer, "earliest", changelogs={tp.topic})
    assert await consumer.position(tp) == ahead


async def test_aiokafka_alone_leaves_a_partition_never_committed_where_it_was(
    fetched_ahead: tuple[AIOKafkaConsumer, TopicPartition],
) -> None:
    """The upstream behaviour the patch exists for; when this fails, aiokafka fixed #1003 and the
    patch (which checks for it) turns itself off."""
    consumer, tp = fetched_ahead
    ahead = await consumer.position(tp)
    await consumer.seek_to_committed()
    assert await consumer.position(tp) == ahead > 0
