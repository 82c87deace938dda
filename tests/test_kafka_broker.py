"""Apache Kafka from its published jars: topic creation, multi-record batches (which the bundled
broker gets wrong, SPEC.md section 8), clear errors, and `slamon dev-broker --engine kafka`."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.broker import BrokerError, create_topics, free_port
from monitor.kafka_broker import KafkaBroker, cluster_id
from tests.conftest import REPO
from tests.test_broker import consume_all, end_offsets, produce_in_one_batch, unique


def test_a_cluster_id_is_16_bytes_in_unpadded_url_safe_base64() -> None:
    ids = {cluster_id() for _ in range(50)}
    assert len(ids) == 50
    # 16 bytes = 128 bits = 21 full base64 characters (126 bits) and one carrying the last 2 bits
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{21}[AQgw]", i) for i in ids)


async def test_multi_record_batches_keep_their_end_offset(kafka_broker: KafkaBroker) -> None:
    """What the bundled broker gets wrong (tests/test_broker.py): 10 records in one batch end at 10."""
    topic = unique("batched")
    await create_topics(kafka_broker.bootstrap, {topic: 1})
    assert await produce_in_one_batch(kafka_broker.bootstrap, topic, 10) == list(range(10))
    records = await consume_all(kafka_broker.bootstrap, topic, 1, 10)
    assert [r.value for r in records] == [b"v%d" % i for i in range(10)]
    assert await end_offsets(kafka_broker.bootstrap, topic, 1) == {0: 10}


async def test_create_topics_checks_partition_counts_on_kafka(kafka_broker: KafkaBroker) -> None:
    four = unique("four")
    await create_topics(kafka_broker.bootstrap, {four: 4})
    await create_topics(kafka_broker.bootstrap, {four: 4})  # again: fine
    with pytest.raises(BrokerError, match="exists with 4 partitions, 2 are configured"):
        await create_topics(kafka_broker.bootstrap, {four: 2})


def test_a_port_in_use_is_a_clear_error(kafka_broker: KafkaBroker, tmp_path: Path) -> None:
    with pytest.raises(BrokerError, match=f"port {kafka_broker.port} on 127.0.0.1 is already in use"):
        KafkaBroker(kafka_broker.port, log_path=tmp_path / "second.log", data_dir=tmp_path / "data").start()
    assert kafka_broker.running()


def test_the_dev_broker_command_runs_kafka_and_stops_on_sigterm(
    kafka_broker: KafkaBroker, tmp_path: Path
) -> None:
    """Needs the session's Kafka only for its cached jars (started before, so the command's own
    start does not download them)."""
    port = free_port()
    command = [sys.executable, "-m", "monitor.cli", "dev-broker", "--engine", "kafka", "--port", str(port)]
    env = dict(os.environ, PYTHONPATH=str(REPO), TMPDIR=str(tmp_path))
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    try:
        assert process.stdout is not None
        first = process.stdout.readline()  # printed once the broker answers and the topics exist
        assert f"Apache Kafka 4.1.1 (data in {tmp_path}" in first and f"kafka://127.0.0.1:{port}" in first
        assert "sla.uptime" in first and "sla.notices" in first
        asyncio.run(create_topics(f"127.0.0.1:{port}", {"sla.uptime": 4}))  # there, with 4 partitions
    finally:
        process.send_signal(signal.SIGTERM)
        _, errors = process.communicate(timeout=60)
    assert process.returncode == 128 + signal.SIGTERM, errors
    assert not [p for p in tmp_path.glob("slamon-kafka-*") if p.is_dir()], "its data directory is removed"
