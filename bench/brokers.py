"""``--broker kafka|dev`` for the benches: Apache Kafka (single node, KRaft) or the bundled broker."""

from __future__ import annotations

import argparse
from pathlib import Path

from monitor.broker import Broker, DevBroker
from monitor.kafka_broker import KafkaBroker


def add_broker_choice(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--broker",
        choices=["kafka", "dev"],
        default="kafka",
        help="kafka: Apache Kafka from its jars (Java 17+, Maven); dev: the bundled broker",
    )


def bench_broker(kind: str, work: Path) -> Broker:
    """A broker of ``kind`` (not started) that logs and keeps its data under ``work``."""
    if kind == "kafka":
        return KafkaBroker(log_path=work / "kafka.log", data_dir=work / "kafka")
    return DevBroker(log_path=work / "broker.log")


def describe(broker: Broker) -> str:
    if isinstance(broker, KafkaBroker):
        return f"Apache Kafka {broker.version} (single node, KRaft)"
    return "the bundled broker (Tansu, memory only)"
