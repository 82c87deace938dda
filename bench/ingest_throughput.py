"""Events/s through ``slamon ingest`` (``POST /v1/events`` in batches of 1,000) to the bundled
broker, next to ``slamon produce`` on the same broker in the same run.

    python bench/ingest_throughput.py [--events 20000] [--batch 1000] [--clients 1,4]

Both send the same heartbeats to the same broker (topics of their own, created first) with
the same producer (``monitor.produce.new_producer``: acks=all, one record per batch on the
bundled broker). ``slamon produce`` runs as the command; its rate is the events over its wall
time less that of ``slamon produce`` on an empty file (start-up and shut-down). The ingest
service is started once and timed from the first request to the last answer.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.worker_throughput import heartbeats  # noqa: E402
from monitor.broker import DevBroker, create_topics, free_port  # noqa: E402

TOPICS = ("uptime", "maintenance", "tickets", "results", "deadletter", "notices")


def topic_env(prefix: str) -> dict[str, str]:
    return {f"SLAMON_TOPIC_{kind.upper()}": f"{prefix}.{kind}" for kind in TOPICS}


def timed_produce(broker: DevBroker, path: Path, prefix: str) -> float:
    env = {**os.environ, "SLAMON_BROKER": broker.url, "SLAMON_BROKER_KIND": "dev", **topic_env(prefix)}
    began = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "monitor.cli", "produce", "--events", str(path)],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    return time.perf_counter() - began


async def post_all(url: str, batches: list[bytes], clients: int) -> float:
    """Send the batches with ``clients`` requests in flight; seconds from first to last answer."""
    queue: asyncio.Queue[bytes] = asyncio.Queue()
    for batch in batches:
        queue.put_nowait(batch)

    async def client() -> None:
        async with httpx.AsyncClient(timeout=300) as http:
            while not queue.empty():
                body = queue.get_nowait()
                answer = await http.post(url, content=body, headers={"content-type": "application/x-ndjson"})
                assert answer.status_code == 200 and answer.json()["invalid"] == 0, answer.text[:300]

    began = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(clients)))
    return time.perf_counter() - began


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--batch", type=int, default=1_000)
    parser.add_argument("--clients", default="1,4", help="requests in flight, one run each")
    args = parser.parse_args()
    lines = heartbeats(args.events)
    batches = [b"\n".join(lines[i : i + args.batch]) for i in range(0, len(lines), args.batch)]
    work = Path(tempfile.mkdtemp(prefix="slamon-ingest-bench-"))
    events_file, empty_file = work / "events.jsonl", work / "empty.jsonl"
    events_file.write_bytes(b"\n".join(lines) + b"\n")
    empty_file.write_bytes(b"")
    with DevBroker(log_path=work / "broker.log") as broker:
        topics = {f"{prefix}.{kind}": 4 for prefix in ("produce", "ingest") for kind in TOPICS}
        asyncio.run(create_topics(broker.bootstrap, topics))
        startup = min(timed_produce(broker, empty_file, "produce") for _ in range(2))
        produce_wall = timed_produce(broker, events_file, "produce")
        produce_rate = args.events / (produce_wall - startup)
        print(f"slamon produce: {args.events:,} events in {produce_wall:.2f} s wall, "
              f"{startup:.2f} s of it start-up/shut-down: {produce_rate:,.0f} events/s")  # fmt: skip

        port = free_port()
        env = {**os.environ, "SLAMON_BROKER": broker.url, "SLAMON_BROKER_KIND": "dev",
               "SLAMON_INGEST_PORT": str(port), **topic_env("ingest")}  # fmt: skip
        log = (work / "ingest.log").open("wb")
        service = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "ingest"], cwd=REPO, env=env, stdout=log, stderr=log
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while True:
                try:
                    urllib.request.urlopen(f"{url}/healthz", timeout=2)
                    break
                except OSError:
                    assert time.monotonic() < deadline, "the ingest service did not start"
                    time.sleep(0.3)
            for clients in (int(c) for c in args.clients.split(",")):
                seconds = asyncio.run(post_all(f"{url}/v1/events", batches, clients))
                rate = args.events / seconds
                print(
                    f"slamon ingest, batches of {args.batch:,}, {clients} in flight: {args.events:,} "
                    f"events in {seconds:.2f} s: {rate:,.0f} events/s = {rate / produce_rate:.2f} x produce"
                )
        finally:
            service.terminate()
            service.wait(timeout=30)
    print(f"(load average while measuring: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")


if __name__ == "__main__":
    main()
