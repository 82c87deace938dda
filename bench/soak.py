"""Soak: a million events through one `slamon worker`, with its memory sampled as it goes.

    python bench/soak.py [--events 1000000] [--every 5]

Starts the bundled broker and one worker (SQLite ledger), then produces heartbeats of four
services every 10 s (1,000,000 events = 29 days) while the worker reads them. Every
``--every`` seconds it prints the events the worker has committed and the worker's resident
memory (VmRSS from /proc), and at the end the memory at 10%, 50% and 100% of the events and
the ratio of the last to the first: a bounded curve stays near 1 however many events pass.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from aiokafka.structs import TopicPartition

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from worker_throughput import PARTITIONS, committed, heartbeats  # noqa: E402

from monitor.broker import DevBroker, create_topics, free_port  # noqa: E402
from monitor.settings import Settings  # noqa: E402


def resident_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    parser.add_argument(
        "--give-up-after", type=float, default=180.0, help="seconds without progress before stopping"
    )
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="slamon-soak-"))
    with DevBroker() as broker:
        env = dict(os.environ) | {
            "SLAMON_BROKER": broker.url,
            "SLAMON_BROKER_KIND": "dev",
            "SLAMON_DATABASE": f"sqlite:///{work / 'ledger.db'}",
            "SLAMON_PARTITIONS": str(PARTITIONS),
            "SLAMON_IDLE_TIMEOUT": "10m",
            "SLAMON_APP_ID": "soak",
            "SLAMON_DATA_DIR": str(work / "worker"),
            "SLAMON_METRICS_PORT": str(free_port()),
            "PYTHONPATH": str(REPO),
        }
        settings = Settings(broker=broker.url, broker_kind="dev")
        asyncio.run(create_topics(broker.bootstrap, dict.fromkeys(settings.topics.all(), PARTITIONS)))
        events = work / "events.jsonl"
        events.write_bytes(b"\n".join(heartbeats(args.events)) + b"\n")
        worker_log = (work / "worker.log").open("wb")
        worker = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "worker"],
            env=env,
            stdout=worker_log,
            stderr=subprocess.STDOUT,
        )
        producer = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "produce", "--events", str(events)],
            env=env,
            stdout=subprocess.DEVNULL,
        )
        partitions = [TopicPartition(settings.topics.uptime, p) for p in range(PARTITIONS)]
        samples: list[tuple[float, int, float]] = []
        started = time.monotonic()
        print(f"{'seconds':>8} {'events read':>12} {'worker RSS MiB':>15}")
        try:
            while True:
                if worker.poll() is not None:
                    raise SystemExit(f"the worker exited with {worker.returncode}; see {work / 'worker.log'}")
                done = asyncio.run(committed(broker.bootstrap, "soak", partitions))
                sample = (time.monotonic() - started, done, resident_mib(worker.pid))
                samples.append(sample)
                print(f"{sample[0]:>8.0f} {sample[1]:>12,} {sample[2]:>15.1f}", flush=True)
                if done >= args.events or stalled(samples, args.give_up_after):
                    break
                time.sleep(args.every)
        finally:
            producer.wait(timeout=900)
            worker.terminate()
            worker.wait(timeout=60)
    report(samples, args.events)


def stalled(samples: list[tuple[float, int, float]], seconds: float) -> bool:
    """No event committed for ``seconds``: report what was reached rather than wait forever."""
    last = samples[-1]
    earlier = [s for s in samples if s[0] <= last[0] - seconds]
    return bool(earlier) and earlier[-1][1] == last[1]


def report(samples: list[tuple[float, int, float]], total: int) -> None:
    reached = samples[-1][1]
    if reached < total:
        print(f"\nSTALLED: {reached:,} of {total:,} events read; the figures below cover those")
        total = reached

    def at(share: float) -> tuple[float, int, float]:
        return next(s for s in samples if s[1] >= share * total)

    first, middle, last = at(0.10), at(0.50), samples[-1]
    peak = max(s[2] for s in samples)
    rate = (last[1] - first[1]) / (last[0] - first[0])
    print(f"\n{total:,} events read in {last[0]:.0f} s ({rate:,.0f} events/s after the first 10%)")
    print(f"worker RSS: {first[2]:.1f} MiB at 10%, {middle[2]:.1f} MiB at 50%, {last[2]:.1f} MiB at 100%")
    print(f"peak {peak:.1f} MiB; last/at-10% = {last[2] / first[2]:.3f} (bounded: stays near 1)")


if __name__ == "__main__":
    main()
