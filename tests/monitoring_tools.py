"""Real Prometheus and Alertmanager (Debian's binaries) for the tests: on 127.0.0.1, free ports,
temporary data directories, stopped when the ``with`` block ends."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager as ContextManager
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

from monitor.broker import free_port


def binary(name: str, package: str) -> str:
    found = shutil.which(name)
    assert found, f"{name} is missing: apt-get install {package} (./dev test installs it)"
    return found


def wait_until(condition: Callable[[], bool], timeout: float, what: str, log: Path | None = None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            tail = log.read_text(errors="replace")[-3000:] if log is not None and log.exists() else ""
            raise AssertionError(f"timed out after {timeout} s waiting for {what}\n{tail}")
        time.sleep(0.2)


def get_json(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except (OSError, urllib.error.HTTPError):
        return False


@contextmanager
def running(
    command: list[str], log: Path, ready_url: str, what: str, **popen: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """The command as a child process, once ``ready_url`` answers 200; terminated (then killed)
    when the block ends. Its output goes to ``log``, whose end is shown if it never gets ready."""
    process = subprocess.Popen(command, stdout=log.open("wb"), stderr=subprocess.STDOUT, **popen)
    try:
        wait_until(lambda: process.poll() is None and answers(ready_url), 60, what, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def _configured(
    workdir: Path, name: str, config: dict[str, Any], command: Callable[[Path, int], list[str]]
) -> Iterator[str]:
    """``name`` started with ``command(config file, port)``; yields its base URL."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"{name}.yml"
    path.write_text(yaml.safe_dump(config))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with running(command(path, port), workdir / f"{name}.log", f"{url}/-/ready", name):
        yield url


def prometheus(workdir: Path, config: dict[str, Any], data: Path | None = None) -> ContextManager[str]:
    """A Prometheus with this configuration (and this TSDB directory, kept for 10 years so that
    history loaded into it is not deleted); yields its base URL."""
    return _configured(
        workdir,
        "prometheus",
        config,
        lambda path, port: [
            binary("prometheus", "prometheus"),
            f"--config.file={path}",
            f"--storage.tsdb.path={data or workdir / 'data'}",
            "--storage.tsdb.retention.time=3650d",
            f"--web.listen-address=127.0.0.1:{port}",
        ],
    )


def alertmanager(workdir: Path, config: dict[str, Any]) -> ContextManager[str]:
    """An Alertmanager alone (no cluster peers) with this configuration; yields its base URL."""
    return _configured(
        workdir,
        "alertmanager",
        config,
        lambda path, port: [
            binary("prometheus-alertmanager", "prometheus-alertmanager"),
            f"--config.file={path}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
    )
