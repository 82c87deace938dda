"""``slamon import prometheus`` against a real Prometheus whose history was loaded with
``promtool tsdb create-blocks-from openmetrics``: the events equal hand-computed ones."""

from __future__ import annotations

import asyncio
import json
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from monitor.broker import DevBroker, create_topics
from monitor.cli import main
from tests.ingest_service import read_topic
from tests.monitoring_tools import binary, prometheus

T0 = datetime(2026, 10, 1, tzinfo=UTC)
SCRAPE = timedelta(seconds=15)
HISTORY = timedelta(hours=3)


def _stamp(hours: int = 0, minutes: int = 0, seconds: int = 0) -> str:
    return (T0 + timedelta(hours=hours, minutes=minutes, seconds=seconds)).isoformat().replace("+00:00", "Z")


def _down(service: str, offset: timedelta) -> bool:
    """The history: api down in [00:10, 00:12); web down for the one sample at 00:20:00 and in
    [02:46:30, 02:46:45), i.e. around where a 1 s query over 3 h is cut in two pieces of at most
    10,000 points (the first ends at 00:00:00 + 9,999 s = 02:46:39)."""
    if service == "api":
        return timedelta(minutes=10) <= offset < timedelta(minutes=12)
    return offset == timedelta(minutes=20) or (
        timedelta(hours=2, minutes=46, seconds=30) <= offset < timedelta(hours=2, minutes=46, seconds=45)
    )


def _api_requests(index: int) -> int:
    """api's request counter at sample ``index`` (every 15 s): +10 a sample, reset to 0 at
    sample 22 (00:05:30), when the application restarted."""
    return 10 * index if index < 22 else 10 * (index - 22)


def _api_failures(index: int) -> int:
    """api's failure counter: +2 at each sample in [00:10, 00:12), samples 40 to 47."""
    return 2 * sum(1 for sample in range(40, 48) if sample <= index)


def _openmetrics() -> str:
    lines = ["# TYPE probe_success gauge"]
    samples = int(HISTORY / SCRAPE) + 1  # 00:00:00 to 03:00:00 inclusive: 721 samples
    for index in range(samples):
        offset = index * SCRAPE
        stamp = int((T0 + offset).timestamp())
        for service in ("api", "web"):
            lines.append(f'probe_success{{service="{service}"}} {0 if _down(service, offset) else 1} {stamp}')
    lines.append("# TYPE app_requests gauge")  # counters, written as gauges: the import reads values
    for index in range(samples):
        stamp = int((T0 + index * SCRAPE).timestamp())
        lines.append(f'app_requests{{service="api"}} {_api_requests(index)} {stamp}')
        lines.append(f'app_requests{{service="web"}} {5 * index} {stamp}')
    lines.append("# TYPE app_failed_requests gauge")
    for index in range(samples):
        stamp = int((T0 + index * SCRAPE).timestamp())
        lines.append(f'app_failed_requests{{service="api"}} {_api_failures(index)} {stamp}')
    lines.append("# TYPE probe_twice gauge")
    for instance in ("a", "b"):
        lines.append(f'probe_twice{{service="db",instance="{instance}"}} 1 {int(T0.timestamp())}')
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    workdir = tmp_path_factory.mktemp("prometheus-history")
    source = workdir / "history.om"
    source.write_text(_openmetrics())
    data = workdir / "data"
    subprocess.run(
        [
            binary("promtool", "prometheus"),
            "tsdb",
            "create-blocks-from",
            "openmetrics",
            str(source),
            str(data),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with prometheus(workdir, {"global": {"scrape_interval": "15s"}}, data=data) as url:
        yield url


@dataclass
class Done:
    returncode: int
    stdout: str
    stderr: str


def _import(capsys: pytest.CaptureFixture[str], *args: str) -> Done:
    """``slamon import prometheus ARGS`` (the command's own entry point, in this process)."""
    capsys.readouterr()
    code = main(["import", "prometheus", *args])
    captured = capsys.readouterr()
    return Done(code, captured.out, captured.err)


def _events(path: Path) -> list[tuple[str, str, str, str]]:
    """(service, status, at, event_id) of each line, in the file's order."""
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert all(event["type"] == "status" for event in lines)
    return [(e["service"], e["status"], e["at"], e["event_id"]) for e in lines]


def _expected(*changes: tuple[str, str, str]) -> list[tuple[str, str, str, str]]:
    return [(service, status, at, f"prometheus:{service}:{status}:{at}") for service, status, at in changes]


def test_a_one_second_query_over_three_hours_gives_each_change_once(
    history: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "events.jsonl"
    done = _import(
        capsys,
        "--url", history, "--query", "probe_success", "--service-label", "service",
        "--from", _stamp(), "--to", _stamp(hours=3), "--step", "1s", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # every sample time is a step, so each change is at its sample's time; the first sample of
    # each series gives its starting state; 10,801 steps are asked in two pieces
    assert _events(out) == _expected(
        ("api", "up", _stamp()),
        ("web", "up", _stamp()),
        ("api", "down", _stamp(minutes=10)),
        ("api", "up", _stamp(minutes=12)),
        ("web", "down", _stamp(minutes=20)),
        ("web", "up", _stamp(minutes=20, seconds=15)),
        ("web", "down", _stamp(hours=2, minutes=46, seconds=30)),
        ("web", "up", _stamp(hours=2, minutes=46, seconds=45)),
    )
    assert "8 event(s)" in done.stderr


def test_steps_between_samples_see_the_latest_sample(
    history: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "events.jsonl"
    done = _import(
        capsys,
        "--url", history, "--query", "probe_success", "--service-label", "service",
        "--from", _stamp(seconds=5), "--to", _stamp(minutes=30, seconds=5),
        "--step", "30s", "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    # steps at hh:mm:05 and hh:mm:35 see the sample 5 s before: api's zeros 00:10:00..00:11:45
    # are first seen at 00:10:05, its 1 of 00:12:00 at 00:12:05; web's single zero at 00:20:00
    # is seen at 00:20:05 only, its next 1 (00:20:30) at 00:20:35
    assert _events(out) == _expected(
        ("api", "up", _stamp(seconds=5)),
        ("web", "up", _stamp(seconds=5)),
        ("api", "down", _stamp(minutes=10, seconds=5)),
        ("api", "up", _stamp(minutes=12, seconds=5)),
        ("web", "down", _stamp(minutes=20, seconds=5)),
        ("web", "up", _stamp(minutes=20, seconds=35)),
    )


@pytest.mark.parametrize(
    ("query", "problem"),
    [
        ("probe_twice", "several series carry service='db': aggregate them in the query"),
        ("probe_success * 2", "value 2 is neither 0 nor 1"),
        ("probe_success{", "Prometheus refused the query"),
    ],
)
def test_series_it_cannot_read_are_refused_with_the_reason(
    history: str, query: str, problem: str, capsys: pytest.CaptureFixture[str]
) -> None:
    done = _import(
        capsys,
        "--url", history, "--query", query, "--service-label", "service",
        "--from", _stamp(), "--to", _stamp(minutes=1),
    )  # fmt: skip
    assert done.returncode == 2
    assert problem in done.stderr
    assert done.stdout == ""


def test_an_unreachable_prometheus_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    from monitor.broker import free_port

    url = f"http://127.0.0.1:{free_port()}"
    done = _import(
        capsys, "--url", url, "--query", "up", "--service-label", "job", "--from", _stamp(), "--to", _stamp()
    )
    assert done.returncode == 2
    assert f"cannot reach Prometheus at {url}" in done.stderr


def test_requests_events_per_minute_from_two_counters(
    history: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "requests.jsonl"
    done = _import(
        capsys,
        "--url", history, "--total-query", "app_requests", "--failed-query", "app_failed_requests",
        "--service-label", "service", "--from", _stamp(seconds=30), "--to", _stamp(minutes=15),
        "--out", str(out),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    events = [json.loads(line) for line in out.read_text().splitlines()]
    # --from 00:00:30 rounds up to 00:01: the minutes [00:01, 00:02) ... [00:14, 00:15), each
    # the increase between the samples at its two ends (samples 4m and 4m + 4)
    api_totals = {minute: 40 for minute in range(1, 15)}
    api_totals[5] = 20  # 200 at 00:05 (sample 20), reset, 20 at 00:06 (sample 24): the new value
    api_failed = {minute: 0 for minute in range(1, 15)}
    # failures: 0 at 00:09 (sample 36), 2 at 00:10 (sample 40), 10 at 00:11 (44), 16 at 00:12 (48)
    api_failed.update({9: 2, 10: 8, 11: 6})
    expected = []
    for minute in range(1, 15):
        start, end = _stamp(minutes=minute), _stamp(minutes=minute + 1)
        for service, total, failed in (("api", api_totals[minute], api_failed[minute]), ("web", 20, 0)):
            expected.append(
                {"event_id": f"prometheus:{service}:requests:{start}", "type": "requests", "service": service,
                 "start": start, "end": end, "total": total, "failed": failed, "at": end}
            )  # fmt: skip
    assert events == expected  # web has no failure series: no failures


def test_the_import_can_produce_to_the_topics(
    history: str, dev_broker: DevBroker, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    topic = f"import-{uuid.uuid4().hex[:8]}.uptime"
    asyncio.run(create_topics(dev_broker.bootstrap, {topic: 4}))
    monkeypatch.setenv("SLAMON_TOPIC_UPTIME", topic)
    done = _import(
        capsys, "--url", history, "--query", "probe_success", "--service-label", "service",
        "--from", _stamp(minutes=11), "--to", _stamp(minutes=13), "--produce",
        "--broker", dev_broker.url, "--broker-kind", "dev",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert f"produced {topic}: 3" in done.stderr
    # at 00:11 api is down and web up (first samples); api is up again at 00:12
    produced = asyncio.run(read_topic(dev_broker.bootstrap, topic))
    found = sorted((key, json.loads(value)["status"], json.loads(value)["at"]) for key, value in produced)
    assert found == [
        (b"api", "down", _stamp(minutes=11)),
        (b"api", "up", _stamp(minutes=12)),
        (b"web", "up", _stamp(minutes=11)),
    ]
