"""Replay throughput and memory, against parsing the same file with orjson, in one run.

    python bench/replay_throughput.py [--work /tmp/slamon-bench] [--services 100] [--seed 1]
                                      [--scales 1,10] [--repeat 3] [--repeat-large 1]
                                      [--requests-services 0]

Generates (or reuses, cached under ``--work``) a year of events for the same services at
each scale (1x: heartbeats every 5 min; 10x: every 30 s, 10x the events), then measures,
each run in a fresh subprocess:

(a) parse-only: read the file line by line and ``orjson.loads`` every line;
(b) ``python -m monitor.cli replay --contracts DIR --events FILE`` (records to a file).

For each it prints lines/s (events/s), wall time (best of N) and peak RSS (the child's
``ru_maxrss`` from ``wait4``), then the ratio replay/parse-only (target >= 0.055, i.e.
>= 150,000 events/s) and peak RSS of replay at 10x over 1x (target <= 1.10). It also
checks replay's counters against the generator's manifest, and that every scale gives
the same records (the data sets describe the same year).

With ``--requests-services N`` the first N services also report request counts every
minute (SPEC section 11) and have availability clauses: the request-based data set, whose
target is a ratio >= 0.15.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
sys.path.insert(0, str(HERE))

from generate import GENERATOR_VERSION, generate  # noqa: E402

TARGET_RATIO = 0.055
TARGET_RATIO_REQUESTS = 0.15  # per-minute request counts (--requests-services)
TARGET_RATE = 150_000
TARGET_MEMORY = 1.10

PARSE_ONLY = """
import sys, orjson
loads, invalid = orjson.loads, 0
with open(sys.argv[1], "rb") as handle:
    for line in handle:
        try:
            loads(line)
        except orjson.JSONDecodeError:
            invalid += 1
print(invalid)
"""


@dataclass
class Dataset:
    scale: int
    directory: Path
    manifest: dict

    @property
    def contracts(self) -> Path:
        return self.directory / "contracts"

    @property
    def events(self) -> Path:
        return self.directory / "events.jsonl"

    @property
    def lines(self) -> int:
        return self.manifest["lines"]


@dataclass
class Measure:
    seconds: float  # best wall time
    peak_kib: int  # largest peak RSS over the runs
    runs: int
    stderr: str
    cpu_seconds: float = 0.0  # user + system time of the run with the best wall time


def child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")]))
    return env


def dataset(
    work: Path, services: int, scale: int, seed: int, estimate: int | None, requests_services: int = 0
) -> Dataset:
    requests_part = f"-rq{requests_services}" if requests_services else ""
    directory = work / f"s{services}{requests_part}-x{scale}-seed{seed}-v{GENERATOR_VERSION}"
    manifest = directory / "manifest.json"
    if manifest.exists() and (directory / "events.jsonl").exists():
        print(f"  {scale}x: cached {directory}", flush=True)
    else:
        work.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(work).free
        if estimate is not None and estimate * 1.1 > free:
            raise SystemExit(
                f"{scale}x needs about {estimate / 1e9:.1f} GB, {work} has {free / 1e9:.1f} GB free: "
                f"use --services fewer, --scales, or --work elsewhere"
            )
        print(f"  {scale}x: generating into {directory} ...", flush=True)
        stats = generate(directory, services, scale, seed, requests_services)
        print(f"       {stats.seconds:.1f} s", flush=True)
    return Dataset(scale, directory, json.loads(manifest.read_text()))


def run(command: list[str], stdout: Path | None = None) -> tuple[float, int, int, str, float]:
    """Wall seconds, peak RSS (KiB), exit status, stderr and CPU seconds (user + system) of
    one fresh child process."""
    with (
        open(stdout or os.devnull, "wb") as out,
        open(os.devnull if stdout is None else stdout.with_suffix(".stderr"), "w+b") as err,
    ):
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=child_env(), cwd=REPO)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - started
        process.returncode = os.waitstatus_to_exitcode(status)
        err.seek(0)
        errors = err.read().decode(errors="replace") if stdout is not None else ""
    return elapsed, usage.ru_maxrss, process.returncode, errors, usage.ru_utime + usage.ru_stime


def measure(command: list[str], repeats: int, stdout: Path | None = None) -> Measure | str:
    """Best wall time of ``repeats`` runs, or the reason it failed."""
    best, peak, errors, cpu = float("inf"), 0, "", 0.0
    for _ in range(repeats):
        elapsed, rss, code, errors, used = run(command, stdout)
        if code != 0:
            tail = errors.strip().splitlines()[-3:]
            return f"exit status {code}: " + " | ".join(tail)
        if elapsed < best:
            best, cpu = elapsed, used
        peak = max(peak, rss)
    return Measure(best, peak, repeats, errors, cpu)


def replay_command(data: Dataset) -> list[str]:
    return [sys.executable, "-m", "monitor.cli", "replay", "--contracts", str(data.contracts),
            "--events", str(data.events)]  # fmt: skip


def replay_available() -> str | None:
    """None when ``python -m monitor.cli replay`` exists, else why not."""
    probe = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "replay", "--help"],
        capture_output=True,
        env=child_env(),
        cwd=REPO,
        check=False,
    )
    if probe.returncode == 0:
        return None
    lines = (probe.stderr or probe.stdout).decode(errors="replace").strip().splitlines()
    return lines[-1] if lines else f"exit status {probe.returncode}"


def replay_counters(stderr: str) -> dict[str, int]:
    """``events: applied N, duplicate M, invalid K`` (the CLI's summary line) as a dict."""
    for line in reversed(stderr.splitlines()):
        if line.startswith("events: "):
            pairs = (part.rsplit(" ", 1) for part in line.removeprefix("events: ").split(", "))
            return {name: int(count) for name, count in pairs if count.isdigit()}
    return {}


def verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


def row(label: str, lines: int, result: Measure | str, unit: str) -> None:
    if isinstance(result, str):
        print(f"  {label:<28} unavailable ({result})")
        return
    print(
        f"  {label:<28} {lines / result.seconds:>12,.0f} {unit:<8} {result.seconds:>8.1f} s  "
        f"peak RSS {result.peak_kib / 1024:>7.1f} MiB  CPU {result.cpu_seconds:>7.1f} s  "
        f"(best of {result.runs})"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, default=Path("/tmp/slamon-bench"), help="data set cache")
    parser.add_argument("--services", type=int, default=100)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--scales", default="1,10", help="comma-separated; the first is the baseline")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each command at the first scale")
    parser.add_argument("--repeat-large", type=int, default=1, help="runs at the other scales")
    parser.add_argument(
        "--requests-services", type=int, default=0, help="services that report request counts every minute"
    )
    args = parser.parse_args()
    scales = [int(text) for text in args.scales.split(",")]
    target_ratio = TARGET_RATIO_REQUESTS if args.requests_services else TARGET_RATIO

    print(f"data sets: {args.services} services, 2026-01-01..2027-01-01 UTC, seed {args.seed}")
    sets: list[Dataset] = []
    for scale in scales:
        estimate = sets[0].manifest["bytes"] * scale // sets[0].scale if sets else None
        sets.append(dataset(args.work, args.services, scale, args.seed, estimate, args.requests_services))
    for data in sets:
        m = data.manifest
        print(
            f"  {data.scale}x: {m['lines']:,} lines, {m['bytes'] / 1e9:.2f} GB, heartbeats every "
            f"{m['interval_seconds']} s; {m.get('requests', 0):,} request counts of "
            f"{m.get('requests_services', 0)} services; {m['duplicates']:,} duplicate, "
            f"{m['delayed']:,} delayed, "
            f"{m['invalid']} invalid lines; {m['contracts']} contracts"
        )

    unavailable = replay_available()
    parse: dict[int, Measure | str] = {}
    replay: dict[int, Measure | str] = {}
    print("\nmeasured (each run a fresh subprocess):")
    for index, data in enumerate(sets):
        repeats = args.repeat if index == 0 else args.repeat_large
        parse[data.scale] = measure([sys.executable, "-c", PARSE_ONLY, str(data.events)], repeats)
        row(f"{data.scale}x parse-only (orjson)", data.lines, parse[data.scale], "lines/s")
        records = args.work / f"replay-{data.directory.name}.jsonl"
        replay[data.scale] = unavailable or measure(replay_command(data), repeats, records)
        row(f"{data.scale}x slamon replay", data.lines, replay[data.scale], "events/s")

    print("\nagainst the targets:")
    base = sets[0]
    for data in sets:
        p, r = parse[data.scale], replay[data.scale]
        if isinstance(p, Measure) and isinstance(r, Measure):
            rate = data.lines / r.seconds
            ratio = p.seconds / r.seconds
            print(
                f"  {data.scale}x ratio replay/parse-only: {ratio:.4f} (target >= {target_ratio}) "
                f"{verdict(ratio >= target_ratio)}; {rate:,.0f} events/s (target >= {TARGET_RATE:,}) "
                f"{verdict(rate >= TARGET_RATE)}"
            )
            if p.cpu_seconds and r.cpu_seconds:  # on a shared machine wall time is mostly waiting
                print(
                    f"  {data.scale}x ratio by CPU time (user + system): {p.cpu_seconds / r.cpu_seconds:.4f}"
                )
    first = replay[base.scale]
    for data in sets[1:]:
        other = replay[data.scale]
        if isinstance(first, Measure) and isinstance(other, Measure):
            growth = other.peak_kib / first.peak_kib
            print(
                f"  peak RSS replay {data.scale}x/{base.scale}x: {other.peak_kib / 1024:.1f} / "
                f"{first.peak_kib / 1024:.1f} MiB = {growth:.3f} (target <= {TARGET_MEMORY}) "
                f"{verdict(growth <= TARGET_MEMORY)}"
            )
    if unavailable:
        print(f"  slamon replay unavailable: {unavailable}")
        return

    print("\nconsistency:")
    outputs = {}
    for data in sets:
        result = replay[data.scale]
        if not isinstance(result, Measure):
            continue
        expected = data.manifest["expected_replay_outcomes"]
        counters = replay_counters(result.stderr)
        wanted = {
            "applied": expected["distinct_valid_events"],
            "duplicate": expected["duplicate"],
            "invalid": expected["invalid"],
            "late": expected["late"],
        }
        got = {name: counters.get(name, 0) for name in wanted}
        check = "as generated" if got == wanted else f"expected {wanted}"
        print(f"  {data.scale}x replay counters {got}: {check}")
        outputs[data.scale] = (args.work / f"replay-{data.directory.name}.jsonl").read_bytes()
    if len(outputs) > 1:
        same = len(set(outputs.values())) == 1
        count = outputs[base.scale].count(b"\n")
        print(
            f"  records of {', '.join(f'{scale}x' for scale in outputs)}: "
            f"{'identical' if same else 'DIFFERENT'} ({count} lines)"
        )


if __name__ == "__main__":
    main()
