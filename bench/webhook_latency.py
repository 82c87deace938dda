"""Latency from producing an event to receiving the webhook it causes, under background load.

    python bench/webhook_latency.py [--broker kafka|dev] [--samples 150] [--load 1000]

One run on Apache Kafka (or the bundled broker) with a real worker (SQLite ledger) and a local
receiver:

- background: ``--load`` heartbeats per second for 60 services of their own contract, on
  partitions 1-3 of the uptime topic;
- samples: services hashed to partition 0, one clause each (99.5% each month). For each,
  the bench sends "down", then a "down" heartbeat just past the month's budget (223.2 min of
  a 744-hour January): that event moves partition 0's clock past the budget, so the
  worker states ``sla.breached`` (lateness 0). Latency = the webhook's arrival at the
  receiver minus the moment that trigger event was handed to the producer;
- baseline, in the same run and under the same load: the broker's own produce-to-consume
  round trip for a message on a probe topic.

The samples start once the worker's input lag (its ``slamon_consumer_lag_messages`` gauge) is
under a tenth of a second of background load, at least 20 s and at most 180 s after the load
began: what is measured is the worker at that rate, not the backlog of its own start-up.

Prints p50/p95/p99 of both and their ratio, and the load average. Target: webhook p99 under 1 s.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import orjson
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.brokers import add_broker_choice, bench_broker, describe  # noqa: E402
from monitor.broker import create_topics, free_port  # noqa: E402
from monitor.produce import producer_options  # noqa: E402
from monitor.settings import Topics  # noqa: E402
from monitor.stream.partitions import partition_of  # noqa: E402

PARTITIONS = 4
JANUARY = datetime(2026, 1, 1, tzinfo=UTC)
BUDGET = timedelta(minutes=223, seconds=12)  # 0.5% of 744 h
SECRET_ENV = "SLAMON_BENCH_WEBHOOK_SECRET"
LAG_GAUGE = "slamon_consumer_lag_messages"
WARM_UP_MIN_SECONDS = 20.0
WARM_UP_MAX_SECONDS = 180.0


def services_on(partition: int, count: int, prefix: str, exclude: bool = False) -> list[str]:
    found, index = [], 0
    while len(found) < count:
        name = f"{prefix}-{index}"
        on = partition_of(name, PARTITIONS) == partition
        if on != exclude:
            found.append(name)
        index += 1
    return found


def write_contracts(directory: Path, samples: list[str], background: list[str]) -> None:
    directory.mkdir(parents=True)
    for contract_id, services in (("latency", samples), ("background", background)):
        document = {
            "id": contract_id,
            "customer": "Bench Ltd",
            "provider": "CloudCo Ltd",
            "timezone": "UTC",
            "currency": "EUR",
            "monthly_fee": "1000.00",
            "effective_from": "2026-01-01",
            "clauses": [
                {"id": f"{service}-uptime", "kind": "uptime", "service": service, "target_percent": 99.5}
                for service in services
            ],
        }
        (directory / f"{contract_id}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))


class Receiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.arrivals: dict[str, float] = {}
        arrivals = self.arrivals

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length", 0)))
                arrivals.setdefault(self.headers["webhook-id"], time.time())
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def status(service: str, state: str, at: datetime, event_id: str) -> bytes:
    stamp = at.isoformat().replace("+00:00", "Z")
    return orjson.dumps(
        {"event_id": event_id, "type": "status", "service": service, "status": state, "at": stamp}
    )


async def background_load(
    bootstrap: str, kind: str, topic: str, services: list[str], rate: int, stop: asyncio.Event
) -> int:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **producer_options(kind))
    await producer.start()
    sent, began = 0, time.monotonic()
    try:
        while not stop.is_set():
            at = JANUARY + timedelta(seconds=sent // len(services))  # event time moves, all up
            service = services[sent % len(services)]
            await producer.send(topic, status(service, "up", at, f"bg-{sent}"), key=service.encode())
            sent += 1
            ahead = sent / rate - (time.monotonic() - began)
            if ahead > 0:
                await asyncio.sleep(ahead)
    finally:
        await producer.stop()
    return sent


async def broker_round_trips(bootstrap: str, kind: str, count: int) -> list[float]:
    """The baseline: produce a message and time until a consumer of its topic reads it."""
    topic = "bench.probe"
    await create_topics(bootstrap, {topic: 1})
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="latest", group_id=None)
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **producer_options(kind) | {"linger_ms": 0})
    await consumer.start()
    await producer.start()
    await asyncio.sleep(1.0)
    times = []
    try:
        for index in range(count):
            began = time.time()
            await producer.send_and_wait(topic, str(index).encode())
            while True:
                message = await consumer.getone()
                if message.value == str(index).encode():
                    break
            times.append(time.time() - began)
            await asyncio.sleep(0.05)
    finally:
        await producer.stop()
        await consumer.stop()
    return times


async def measure(
    args: argparse.Namespace, bootstrap: str, receiver: Receiver, samples: list[str]
) -> list[float]:
    topics = Topics()
    options = producer_options(args.broker) | {"linger_ms": 0}  # each sample is sent on its own
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, **options)
    await producer.start()
    latencies = []
    clock = JANUARY + timedelta(hours=1)
    try:
        for index, service in enumerate(samples):
            key = service.encode()
            await producer.send_and_wait(
                topics.uptime, status(service, "down", clock, f"{service}-down"), key=key
            )
            trigger_at = clock + BUDGET + timedelta(seconds=1)
            notice = f"latency/{service}-uptime/2026-01/sla.breached"
            sent = time.time()
            await producer.send_and_wait(
                topics.uptime, status(service, "down", trigger_at, f"{service}-t"), key=key
            )
            deadline = time.monotonic() + 30
            while notice not in receiver.arrivals and time.monotonic() < deadline:
                await asyncio.sleep(0.002)
            if args.verbose:
                stamp = datetime.fromtimestamp(sent, UTC)
                print(f"  trigger for {notice} sent at {stamp:%H:%M:%S.%f}", flush=True)
            if notice in receiver.arrivals:
                latencies.append(receiver.arrivals[notice] - sent)
            else:
                print(f"  sample {index}: no webhook within 30 s", flush=True)
            back = trigger_at + timedelta(seconds=1)
            await producer.send_and_wait(topics.uptime, status(service, "up", back, f"{service}-up"), key=key)
            clock = back + timedelta(seconds=1)
            await asyncio.sleep(0.2)
    finally:
        await producer.stop()
    return latencies


def percentiles(values: list[float]) -> tuple[float, float, float]:
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[49], cuts[94], cuts[98]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    add_broker_choice(parser)
    parser.add_argument("--samples", type=int, default=150)
    parser.add_argument("--load", type=int, default=1000, help="background events per second")
    parser.add_argument("--verbose", action="store_true", help="print each sample's trigger time")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="slamon-latency-"))
    samples = services_on(0, args.samples, "lat")
    background = services_on(0, 60, "bg", exclude=True)
    write_contracts(work / "contracts", samples, background)
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    receiver = Receiver()
    (work / "subscriptions.yaml").write_text(
        f"subscriptions:\n  - name: bench\n    url: http://127.0.0.1:{receiver.port}/hook\n"
        f"    secret_env: {SECRET_ENV}\n    types: [sla.breached]\n"
    )
    metrics_port = free_port()
    with bench_broker(args.broker, work) as broker:
        print(f"broker: {describe(broker)}", flush=True)
        print(f"load average at the start: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")
        asyncio.run(create_topics(broker.bootstrap, dict.fromkeys(Topics().all(), PARTITIONS)))
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO),
            "SLAMON_BROKER": broker.url,
            "SLAMON_BROKER_KIND": broker.kind,
            "SLAMON_DATABASE": f"sqlite:///{work / 'ledger.db'}",
            "SLAMON_CONTRACTS": str(work / "contracts"),
            "SLAMON_ALLOWED_LATENESS": "0s",
            "SLAMON_IDLE_TIMEOUT": "1h",
            "SLAMON_METRICS_PORT": str(metrics_port),
            "SLAMON_WEB_PORT": str(free_port()),
            "SLAMON_DATA_DIR": str(work / "data"),
            "SLAMON_SUBSCRIPTIONS": str(work / "subscriptions.yaml"),
            SECRET_ENV: secret,
        }
        log = (work / "worker.log").open("ab")
        worker = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "worker"], env=env, stdout=log, stderr=log
        )
        try:
            return asyncio.run(run(args, broker.bootstrap, receiver, samples, background, metrics_port))
        finally:
            worker.terminate()
            try:
                worker.wait(timeout=60)
            except subprocess.TimeoutExpired:
                worker.kill()
            receiver.server.shutdown()


def input_lag(metrics_port: int) -> int | None:
    """Records the worker has left to process on its input partitions (its lag gauge), or None
    while it does not export one."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5) as reply:
            text = reply.read().decode()
    except OSError:
        return None
    lags = [float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(LAG_GAUGE + "{")]
    return int(sum(lags)) if lags else None


async def caught_up(metrics_port: int, load: int) -> float:
    """Wait (at least ``WARM_UP_MIN_SECONDS``, at most ``WARM_UP_MAX_SECONDS``) until the worker's
    input lag is under a tenth of a second of the background load; returns the seconds waited.
    The samples measure the worker at the background rate, not reading what queued while it started."""
    began = time.monotonic()
    await asyncio.sleep(WARM_UP_MIN_SECONDS)
    while time.monotonic() - began < WARM_UP_MAX_SECONDS:
        lag = await asyncio.to_thread(input_lag, metrics_port)
        if lag is not None and lag <= load / 10:
            break
        await asyncio.sleep(1.0)
    else:
        print(f"the worker did not catch up with the background load in {WARM_UP_MAX_SECONDS} s")
    return time.monotonic() - began


async def run(
    args: argparse.Namespace,
    bootstrap: str,
    receiver: Receiver,
    samples: list[str],
    background: list[str],
    metrics_port: int,
) -> int:
    stop = asyncio.Event()
    load = asyncio.create_task(
        background_load(bootstrap, args.broker, Topics().uptime, background, args.load, stop)
    )
    waited = await caught_up(metrics_port, args.load)  # the worker joins its group and catches up
    print(f"worker caught up with the background load after {waited:.0f} s", flush=True)
    print(f"background load: {args.load} events/s; {len(samples)} samples", flush=True)
    began = time.monotonic()
    latencies = await measure(args, bootstrap, receiver, samples)
    elapsed = time.monotonic() - began
    baseline = await broker_round_trips(bootstrap, args.broker, 100)
    stop.set()
    sent = await load
    achieved = sent / (time.monotonic() - began + waited)
    print(f"background events sent: {sent:,} (about {achieved:,.0f}/s over the run)")
    if len(latencies) < 2:
        print("too few webhooks arrived to measure")
        return 1
    p50, p95, p99 = percentiles(latencies)
    b50, b95, b99 = percentiles(baseline)
    print(f"event -> webhook ({len(latencies)} samples in {elapsed:.0f} s):")
    worst = max(latencies) * 1000
    print(f"  p50 {p50 * 1000:7.1f} ms   p95 {p95 * 1000:7.1f} ms   p99 {p99 * 1000:7.1f} ms", end="")
    print(f"   max {worst:.1f} ms")
    print(f"baseline, broker produce -> consume round trip ({len(baseline)} probes, same load):")
    print(f"  p50 {b50 * 1000:7.1f} ms   p95 {b95 * 1000:7.1f} ms   p99 {b99 * 1000:7.1f} ms")
    print(f"ratio webhook/broker: p50 {p50 / b50:.1f}x, p99 {p99 / b99:.1f}x")
    print(f"target p99 < 1 s: {'OK' if p99 < 1.0 else 'MISSED'}")
    print(f"load average at the end: {' '.join(f'{load:.1f}' for load in os.getloadavg())}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
