"""The bundled development broker: start and stop, topic creation, a keyed round trip with aiokafka,
and the broker quirk that makes one record per produce batch necessary (SPEC.md section 8)."""

from __future__ import annotations

import asyncio
import socket
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.partitioner import DefaultPartitioner

from monitor.broker import BrokerError, DevBroker, create_topics, free_port


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def consume_all(bootstrap: str, topic: str, partitions: int, count: int) -> list:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([TopicPartition(topic, p) for p in range(partitions)])
        await consumer.seek_to_beginning()
        records: list = []
        async with asyncio.timeout(20):
            while len(records) < count:
                batches = await consumer.getmany(timeout_ms=500)
                for batch in batches.values():
                    records.extend(batch)
        await asyncio.sleep(0.3)  # nothing more arrives
        for batch in (await consumer.getmany(timeout_ms=300)).values():
            records.extend(batch)
        return records
    finally:
        await consumer.stop()


async def end_offsets(bootstrap: str, topic: str, partitions: int) -> dict[int, int]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap)
    await consumer.start()
    try:
        offsets = await consumer.end_offsets([TopicPartition(topic, p) for p in range(partitions)])
        return {tp.partition: offset for tp, offset in offsets.items()}
    finally:
        await consumer.stop()


async def produce_in_one_batch(bootstrap: str, topic: str, count: int) -> list[int]:
    """Send ``count`` records to partition 0 in one produce batch (a 200 ms linger, 16 KiB
    batches); the offsets the broker gave them."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=200)
    await producer.start()
    try:
        pending = [await producer.send(topic, key=b"k", value=b"v%d" % i, partition=0) for i in range(count)]
        return [(await future).offset for future in pending]
    finally:
        await producer.stop()


def test_free_port_can_be_bound() -> None:
    port = free_port()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))


def test_start_and_stop_explicitly(tmp_path: Path) -> None:
    broker = DevBroker(log_path=tmp_path / "broker.log").start()
    try:
        assert broker.running()
        assert broker.bootstrap == f"127.0.0.1:{broker.port}"
        asyncio.run(create_topics(broker.bootstrap, {"t": 1}))
    finally:
        broker.stop()
    assert not broker.running()
    broker.stop()  # a second stop is harmless
    with socket.socket() as probe:  # the port is free again
        probe.bind(("127.0.0.1", broker.port))
    assert "listening on: tcp://127.0.0.1:" in (tmp_path / "broker.log").read_text()


def test_a_port_in_use_is_a_clear_error(dev_broker: DevBroker, tmp_path: Path) -> None:
    with pytest.raises(BrokerError, match="already in use"):
        DevBroker(dev_broker.port, log_path=tmp_path / "second.log").start()
    assert dev_broker.running()


async def test_start_from_a_running_event_loop(tmp_path: Path) -> None:
    with DevBroker(log_path=tmp_path / "broker.log") as broker:
        await create_topics(broker.bootstrap, {"t": 2})


async def test_create_topics_is_idempotent_and_checks_partition_counts(dev_broker: DevBroker) -> None:
    four, two = unique("four"), unique("two")
    await create_topics(dev_broker.bootstrap, {four: 4, two: 2})
    await create_topics(dev_broker.bootstrap, {four: 4, two: 2})  # again: fine
    admin = AIOKafkaAdminClient(bootstrap_servers=dev_broker.bootstrap)
    await admin.start()
    try:
        described = {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics([four, two])}
    finally:
        await admin.close()
    assert described == {four: 4, two: 2}
    with pytest.raises(BrokerError, match="exists with 4 partitions, 8 are configured"):
        await create_topics(dev_broker.bootstrap, {four: 8})


async def test_keyed_round_trip_on_four_partitions(dev_broker: DevBroker) -> None:
    topic = unique("roundtrip")
    await create_topics(dev_broker.bootstrap, {topic: 4})
    # max_batch_size is in bytes; a batch always takes its first record, so 1 means one record
    # per produce batch (the broker's end offsets are wrong for multi-record batches)
    producer = AIOKafkaProducer(bootstrap_servers=dev_broker.bootstrap, max_batch_size=1, linger_ms=5)
    await producer.start()
    try:
        keys = [f"service-{i % 12}".encode() for i in range(60)]
        pending = [await producer.send(topic, key=key, value=b"v%d" % i) for i, key in enumerate(keys)]
        explicit = await producer.send_and_wait(topic, key=b"pinned", value=b"explicit", partition=3)
        sent = [await future for future in pending]
    finally:
        await producer.stop()
    assert explicit.partition == 3

    partitioner = DefaultPartitioner()
    expected_partition = {key: partitioner(key, [0, 1, 2, 3], [0, 1, 2, 3]) for key in keys}
    assert len(set(expected_partition.values())) == 4  # the keys spread over every partition
    assert [m.partition for m in sent] == [expected_partition[k] for k in keys]

    records = await consume_all(dev_broker.bootstrap, topic, 4, len(keys) + 1)
    assert len(records) == len(keys) + 1
    by_value = {r.value: r for r in records}
    for i, key in enumerate(keys):
        record = by_value[b"v%d" % i]
        assert (record.key, record.partition) == (key, expected_partition[key])
        assert record.offset == sent[i].offset
    assert (by_value[b"explicit"].key, by_value[b"explicit"].partition) == (b"pinned", 3)
    # per partition: offsets 0..n-1 in send order, and the end offset (high watermark) is n
    per_partition: dict[int, list[int]] = {}
    for record in sorted(records, key=lambda r: (r.partition, r.offset)):
        per_partition.setdefault(record.partition, []).append(record.offset)
    assert all(offsets == list(range(len(offsets))) for offsets in per_partition.values())
    ends = await end_offsets(dev_broker.bootstrap, topic, 4)
    assert ends == {p: len(offsets) for p, offsets in per_partition.items()}


async def test_multi_record_batches_get_a_wrong_end_offset(dev_broker: DevBroker) -> None:
    """The broker quirk behind ``max_batch_size=1``. If this starts failing, the broker was fixed."""
    topic = unique("batched")
    await create_topics(dev_broker.bootstrap, {topic: 1})
    assert await produce_in_one_batch(dev_broker.bootstrap, topic, 10) == list(range(10))
    records = await consume_all(dev_broker.bootstrap, topic, 1, 10)
    assert [r.offset for r in records] == list(range(10))  # the records themselves are fine
    assert (await end_offsets(dev_broker.bootstrap, topic, 1)) != {0: 10}  # the end offset is not
