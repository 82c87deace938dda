"""Real Prometheus and Alertmanager (Debian's binaries) for the tests: on 127.0.0.1, free ports,
temporary data directories, stopped when the ``with`` block ends."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
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
def _process(command: list[str], log: Path, ready_url: str, what: str) -> Iterator[None]:
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log.open("wb"))
    try:
        wait_until(lambda: process.poll() is None and answers(ready_url), 60, what, log)
        yield
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@contextmanager
def prometheus(workdir: Path, config: dict[str, Any], data: Path | None = None) -> Iterator[str]:
    """A Prometheus with this configuration (and this TSDB directory, kept for 10 years so that
    history loaded into it is not deleted); yields its base URL."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        binary("prometheus", "prometheus"),
        f"--config.file={workdir / 'prometheus.yml'}",
        f"--storage.tsdb.path={data or workdir / 'data'}",
        "--storage.tsdb.retention.time=3650d",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    with _process(command, workdir / "prometheus.log", f"{url}/-/ready", "Prometheus"):
        yield url


@contextmanager
def alertmanager(workdir: Path, config: dict[str, Any]) -> Iterator[str]:
    """An Alertmanager alone (no cluster peers) with this configuration; yields its base URL."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "alertmanager.yml").write_text(yaml.safe_dump(config))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [
        binary("prometheus-alertmanager", "prometheus-alertmanager"),
        f"--config.file={workdir / 'alertmanager.yml'}",
        f"--storage.path={workdir / 'data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    with _process(command, workdir / "alertmanager.log", f"{url}/-/ready", "Alertmanager"):
        yield url
