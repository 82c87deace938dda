"""faust's fetching, patched, on a real broker: the seek faust makes after every rebalance sends a
partition nobody committed back to its start, whatever the consumer had fetched (aiokafka issue
#1003 leaves it there); records of a partition faust is not reading are never consumed."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.structs import OffsetAndMetadata

from monitor.broker import DevBroker, create_topics
from monitor.stream.faust_patches import fetch_records_faust_delivers, seek_every_partition_to_committed

RECORDS = 200

# a consumer; the partition it reads, the one faust has paused
TwoPartitions = tuple[AIOKafkaConsumer, TopicPartition, TopicPartition]


async def topic_with_records(bootstrap: str, prefix: str, partitions: int) -> str:
    """A new topic with ``RECORDS`` records in each of its ``partitions``."""
    topic = f"{prefix}-{uuid.uuid4().hex[:10]}"
    await create_topics(bootstrap, {topic: partitions})
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    await producer.start()
    try:
        for number in range(RECORDS):
            for partition in range(partitions):
                await producer.send(topic, str(number).encode(), partition=partition)
        await producer.flush()
    finally:
        await producer.stop()
    return topic


@pytest_asyncio.fixture(loop_scope="function")  # the consumer lives on the test's own loop
async def fetched_ahead(dev_broker: DevBroker) -> AsyncIterator[tuple[AIOKafkaConsumer, TopicPartition]]:
    """A group consumer that has fetched past the start of a one-partition topic, committing nothing."""
    topic = await topic_with_records(dev_broker.bootstrap, "seek", partitions=1)
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


@pytest_asyncio.fixture(loop_scope="function")
async def two_partitions(dev_broker: DevBroker) -> AsyncIterator[TwoPartitions]:
    """A consumer assigned both partitions of a topic with ``RECORDS`` records in each, at their start."""
    topic = await topic_with_records(dev_broker.bootstrap, "fetch", partitions=2)
    consumer = AIOKafkaConsumer(bootstrap_servers=dev_broker.bootstrap, enable_auto_commit=False)
    await consumer.start()
    reading, paused = TopicPartition(topic, 0), TopicPartition(topic, 1)
    consumer.assign([reading, paused])
    await consumer.seek_to_beginning(reading, paused)
    try:
        yield consumer, reading, paused
    finally:
        await consumer.stop()


async def test_a_fetch_for_no_partition_consumes_nothing(
    two_partitions: TwoPartitions,
) -> None:
    consumer, reading, paused = two_partitions
    assert await fetch_records_faust_delivers(consumer, set(), lambda tp: True, timeout=2.0) == {}
    assert [await consumer.position(tp) for tp in (reading, paused)] == [0, 0]


async def test_aiokafka_alone_reads_an_empty_set_of_partitions_as_every_partition(
    two_partitions: TwoPartitions,
) -> None:
    """The upstream behaviour that lost records when faust's set of active partitions emptied
    during a fetch; when this fails, the patch is no longer needed for it."""
    consumer, reading, paused = two_partitions
    returned: set[TopicPartition] = set()
    for _ in range(20):
        returned |= set(await consumer._fetcher.fetched_records(set(), timeout=1.0))
        if returned == {reading, paused}:
            break
    assert returned == {reading, paused}


async def test_records_of_a_partition_faust_would_drop_are_read_again(
    two_partitions: TwoPartitions,
) -> None:
    consumer, reading, paused = two_partitions
    refused: list[TopicPartition] = []

    def delivered(tp: TopicPartition) -> bool:  # faust has ``paused`` paused by the time the fetch returns
        if tp == paused:
            refused.append(tp)
        return tp == reading

    for _ in range(20):  # until a fetch has returned records of ``paused``
        records = await fetch_records_faust_delivers(consumer, {reading, paused}, delivered, timeout=1.0)
        assert paused not in records
        if refused:
            break
    assert refused
    assert await consumer.position(paused) == 0
    again = await consumer.getmany(paused, timeout_ms=5000)
    assert again[paused][0].offset == 0
