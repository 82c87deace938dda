"""Sustained worker throughput against a no-op faust agent and a raw aiokafka consumer.

    python bench/worker_throughput.py [--broker kafka|dev] [--events 60000]

Produces a backlog of heartbeats for the sample contracts' services once, then lets each
consumer read it in its own consumer group, one after the other, on the same topic of the same
broker (Apache Kafka by default, or the bundled one):

- a raw aiokafka consumer (no faust, no parsing): events / (time it had read them all - time its
  first batch arrived);
- a no-op faust agent and `slamon worker`: progress is read from the group's committed
  offsets, so both are timed the same way: events / (time all offsets were committed - time
  the first one was). Each one's CPU time (user + system, all its threads) over the same stretch
  is printed per event too: on a shared machine a process may get a fraction of a core, and the
  CPU figure says what the worker costs whatever its neighbours do.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import TopicPartition

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.brokers import add_broker_choice, bench_broker, describe  # noqa: E402
from monitor.broker import create_topics, free_port  # noqa: E402
from monitor.settings import Settings  # noqa: E402

PARTITIONS = 4


def heartbeats(count: int) -> list[bytes]:
    start = datetime(2026, 10, 1, tzinfo=UTC)
    services = ["api", "web", "db", "queue"]
    lines = []
    for index in range(count):
        moment = start + timedelta(seconds=10 * (index // len(services)))
        service = services[index % len(services)]
        status = "down" if (index // len(services)) % 997 < 3 else "up"
        lines.append(
            orjson.dumps(
                {
                    "event_id": f"hb-{index}",
                    "type": "status",
                    "service": service,
                    "status": status,
                    "at": moment.isoformat(),
                }
            )
        )
    return lines


async def committed(bootstrap: str, group: str, partitions: list[TopicPartition]) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        offsets = await admin.list_consumer_group_offsets(group, partitions=partitions)
    except Exception:
        return 0
    finally:
        await admin.close()
    return sum(max(meta.offset, 0) for meta in offsets.values())


async def raw_consumer_rate(bootstrap: str, topic: str, total: int) -> float:
    """Events/s of a plain aiokafka consumer reading the backlog (from its first batch to the last)."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id="bench-raw", auto_offset_reset="earliest"
    )
    await consumer.start()
    try:
        read, first = 0, None
        deadline = time.monotonic() + 900
        while read < total and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=1000)
            count = sum(len(batch) for batch in batches.values())
            if count and first is None:
                first = (time.monotonic(), count)
            read += count
        if first is None or read < total:
            raise SystemExit(f"the raw consumer read {read} of {total} events")
        elapsed = time.monotonic() - first[0]
        return (read - first[1]) / elapsed if elapsed > 0 else float("nan")
    finally:
        await consumer.stop()


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a running process so far (Linux ``/proc``)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def timed_run(
    command: list[str], env: dict[str, str], bootstrap: str, group: str, total: int
) -> tuple[float, float]:
    """Events/s and CPU microseconds per event (all its threads) of a consumer reading the backlog,
    both from its first committed offset to its last."""
    partitions = [TopicPartition(env.get("SLAMON_TOPIC_UPTIME", "sla.uptime"), p) for p in range(PARTITIONS)]
    log = Path(env["SLAMON_DATA_DIR"] + ".log")
    log.parent.mkdir(parents=True, exist_ok=True)
    process = subprocess.Popen(command, env=env, stdout=log.open("wb"), stderr=subprocess.STDOUT)
    first = None
    try:
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"{group} exited with {process.returncode}; see {log}")
            done = asyncio.run(committed(bootstrap, group, partitions))
            now = time.monotonic()
            if done and first is None:
                first = (now, done, cpu_seconds(process.pid))
            if done >= total:
                assert first is not None
                events = done - first[1]
                rate = events / (now - first[0]) if now > first[0] else float("nan")
                cpu_us = (cpu_seconds(process.pid) - first[2]) / events * 1e6 if events else float("nan")
                return rate, cpu_us
            time.sleep(0.5)
        raise SystemExit(f"{group}: not done in time")
    finally:
        process.terminate()
        process.wait(timeout=30)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    add_broker_choice(parser)
    parser.add_argument("--events", type=int, default=60_000)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="slamon-wbench-"))
    with bench_broker(args.broker, work) as broker:
        print(f"broker: {describe(broker)}", flush=True)
        env = dict(os.environ)
        env.update(
            {
                "SLAMON_BROKER": broker.url,
                "SLAMON_BROKER_KIND": broker.kind,
                "SLAMON_DATABASE": f"sqlite:///{work / 'ledger.db'}",
                "SLAMON_PARTITIONS": str(PARTITIONS),
                "SLAMON_IDLE_TIMEOUT": "10m",
                "SLAMON_METRICS_PORT": "0",  # another worker on this machine may hold the default
                "PYTHONPATH": str(REPO),
            }
        )
        settings = Settings(**{"broker": broker.url, "broker_kind": broker.kind})
        asyncio.run(create_topics(broker.bootstrap, dict.fromkeys(settings.topics.all(), PARTITIONS)))
        events = work / "events.jsonl"
        events.write_bytes(b"\n".join(heartbeats(args.events)) + b"\n")
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "monitor.cli", "produce", "--events", str(events)], env=env, check=True
        )
        print(f"produced {args.events:,} events in {time.perf_counter() - started:.1f} s", flush=True)

        raw = asyncio.run(raw_consumer_rate(broker.bootstrap, settings.topics.uptime, args.events))
        noop, noop_cpu = timed_run(
            [sys.executable, str(REPO / "bench" / "noop_app.py")],
            env
            | {
                "BENCH_APP_ID": "bench-noop",
                "SLAMON_DATA_DIR": str(work / "noop"),
                "SLAMON_WEB_PORT": str(free_port()),
            },
            broker.bootstrap,
            "bench-noop",
            args.events,
        )
        worker, worker_cpu = timed_run(
            [sys.executable, "-m", "monitor.cli", "worker"],
            env
            | {
                "SLAMON_APP_ID": "bench-worker",
                "SLAMON_WEB_PORT": str(free_port()),
                "SLAMON_DATA_DIR": str(work / "worker"),
            },
            broker.bootstrap,
            "bench-worker",
            args.events,
        )
    print(f"load average at the end: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")
    print(f"raw aiokafka consumer: {raw:>10,.0f} events/s")
    print(f"no-op faust agent    : {noop:>10,.0f} events/s   {noop_cpu:6.0f} us CPU/event")
    print(f"slamon worker        : {worker:>10,.0f} events/s   {worker_cpu:6.0f} us CPU/event")
    print(f"ratio worker/no-op   : {worker / noop:.3f}   (target >= 0.8)")
    print(f"CPU per event no-op/worker: {noop_cpu / worker_cpu:.3f}   (the same ratio by CPU time)")
    print(f"ratio no-op/raw      : {noop / raw:.3f}   (what faust itself costs)")


if __name__ == "__main__":
    main()
