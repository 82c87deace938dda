"""Shared fixtures: the bundled broker and Apache Kafka for the session, and live workers as
subprocesses on either, with a SQLite or PostgreSQL ledger."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from monitor.broker import Broker, DevBroker, free_port
from monitor.kafka_broker import KafkaBroker
from monitor.settings import Topics
from tests.databases import ledger_database

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="session")
def dev_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevBroker]:
    log = tmp_path_factory.mktemp("broker") / "broker.log"
    with DevBroker(log_path=log) as broker:
        yield broker


@pytest.fixture(scope="session")
def kafka_broker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[KafkaBroker]:
    """Apache Kafka (single node, KRaft) for the session; its jars are fetched on first use."""
    directory = tmp_path_factory.mktemp("kafka")
    with KafkaBroker(log_path=directory / "kafka.log", data_dir=directory / "data") as broker:
        yield broker


# faust's own environment variable (seconds; faust's default is 60): how long the group waits
# for a member that stopped heartbeating. A deployment setting, not a broker workaround: the
# tests that kill a worker on Apache Kafka would otherwise wait a minute for the group to move on.
KAFKA_SESSION_TIMEOUT = {"BROKER_SESSION_TIMEOUT": "10"}


# A limit for a hung command, not a performance bound: producing the 95,000-record burst to the
# bundled broker (one record per request) took over 120 s on a loaded machine with parallel tests.
SLAMON_COMMAND_TIMEOUT = 600


@dataclass
class LiveSetup:
    """Environment for one isolated live run: its own topics, consumer group and ledger."""

    broker: Broker
    database: str
    workdir: Path
    name: str = field(default_factory=lambda: f"t{uuid.uuid4().hex[:10]}")
    workers: list[subprocess.Popen[bytes]] = field(default_factory=list)
    metrics_ports: list[int] = field(default_factory=list)
    web_ports: list[int] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        env = dict(os.environ)
        env.update(
            {
                "SLAMON_BROKER": f"kafka://127.0.0.1:{self.broker.advertised_port}",
                "SLAMON_BROKER_KIND": self.broker.kind,
                "SLAMON_DATABASE": self.database,
                "SLAMON_APP_ID": self.name,
                "SLAMON_PARTITIONS": "4",
                "SLAMON_IDLE_TIMEOUT": "3s",
                "SLAMON_CONTRACTS": str(self.workdir / "contracts"),
                "PYTHONPATH": str(REPO),
                "PYTHONUNBUFFERED": "1",  # a killed worker's last log lines are kept
                **{f"SLAMON_TOPIC_{t.upper()}": f"{self.name}.{t}" for t in TOPICS},
            }
        )
        if self.broker.kind == "kafka":
            env.update(KAFKA_SESSION_TIMEOUT)
        env.update(extra)
        return env

    def slamon(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "monitor.cli", *args],
            env=self.env(),
            capture_output=True,
            text=True,
            check=True,
            timeout=SLAMON_COMMAND_TIMEOUT,
        )

    def start_worker(self, idle_timeout: str = "3s", **extra_env: str) -> subprocess.Popen[bytes]:
        index = len(self.workers)
        log = (self.workdir / f"worker-{index}.log").open("ab")
        metrics_port, web_port = free_port(), free_port()
        self.metrics_ports.append(metrics_port)
        self.web_ports.append(web_port)
        process = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "worker"],
            env=self.env(
                SLAMON_WEB_PORT=str(web_port),
                SLAMON_METRICS_PORT=str(metrics_port),
                SLAMON_DATA_DIR=str(self.workdir / f"data-{index}"),
                SLAMON_IDLE_TIMEOUT=idle_timeout,
                **extra_env,
            ),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self.workers.append(process)
        return process

    def stop(self, process: subprocess.Popen[bytes], sig: int = signal.SIGTERM) -> None:
        if process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)

    def wait_for(
        self, condition: Callable[[], bool], timeout: float = 120.0, explain: Callable[[], str] | None = None
    ) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if condition():
                return
            for process in self.workers:
                if process.poll() not in (None, 0, -signal.SIGTERM, -signal.SIGKILL):
                    raise AssertionError(f"a worker exited with {process.returncode}: {self.logs()}")
            time.sleep(1.0)
        self.dump_stacks()
        state = explain() if explain is not None else ""
        raise AssertionError(f"timed out after {timeout} s; {state}\nworker logs:\n{self.logs()}")

    def dump_stacks(self) -> None:
        """Ask running workers to log every thread and asyncio task (mode's SIGUSR1 handler),
        so that a worker that stopped making progress shows where it waits."""
        running = [(i, process) for i, process in enumerate(self.workers) if process.poll() is None]
        for index, process in running:
            with (self.workdir / f"worker-{index}.log").open("a") as log:
                log.write(f"\n--- its metrics when the test gave up ---\n{self._progress_metrics(index)}\n")
            process.send_signal(signal.SIGUSR1)
        if running:
            time.sleep(3.0)

    def _progress_metrics(self, index: int) -> str:
        import urllib.request

        try:
            url = f"http://127.0.0.1:{self.metrics_ports[index]}/metrics"
            with urllib.request.urlopen(url, timeout=5) as response:
                body = response.read().decode()
        except OSError as error:
            return f"(no metrics: {error})"
        wanted = ("slamon_events_total", "slamon_watermark", "slamon_consumer")
        return "\n".join(line for line in body.splitlines() if line.startswith(wanted))

    def full_logs(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.workdir.glob("worker-*.log")))

    def logs(self) -> str:
        return "\n".join(
            p.read_text(errors="replace")[-6000:] for p in sorted(self.workdir.glob("worker-*.log"))
        )


TOPICS = tuple(Topics.model_fields)  # every topic, so no test reads another's


LIVE_SETUPS = ("dev-sqlite", "dev-postgresql", "kafka-sqlite", "kafka-postgresql")
BROKERS = {"dev": "dev_broker", "kafka": "kafka_broker"}


def live_on(*setups: str) -> pytest.MarkDecorator:
    """Run a test that uses ``live`` on these broker-ledger pairs, e.g. ``live_on("kafka-sqlite")``
    (without it: Apache Kafka with a SQLite ledger)."""
    unknown = set(setups) - set(LIVE_SETUPS)
    assert not unknown, f"unknown live setups {unknown}; known: {LIVE_SETUPS}"
    return pytest.mark.parametrize("live", setups, indirect=True)


@pytest.fixture
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[LiveSetup]:
    """A live setup on a session broker (the bundled one or Apache Kafka) with a fresh SQLite or
    PostgreSQL ledger: ``live_on(...)`` chooses."""
    broker_kind, database_kind = getattr(request, "param", "kafka-sqlite").split("-")
    broker = request.getfixturevalue(BROKERS[broker_kind])
    with ledger_database(database_kind, tmp_path, prefix="slamon_live") as database:
        setup = LiveSetup(broker, database, tmp_path)
        try:
            yield setup
        finally:
            for process in setup.workers:
                setup.stop(process, signal.SIGKILL)


# fixtures that run a broker (``live`` picks one at run time, ``proxied`` starts its own)
BROKER_FIXTURES = {"dev_broker", "kafka_broker", "live", "proxied"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark every test that needs a running broker as ``live``: `-m "not live"` is the fast loop.

    For parallel runs (``./dev test`` runs pytest-xdist with ``--dist loadgroup``): the tests of a
    module with a module-scoped fixture (a demo, a Prometheus, a service) go to one xdist worker,
    so that the fixture is set up once, and the slowest modules come first, so that no worker
    starts a long live test when the others are about to finish."""
    for item in items:
        if BROKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.live)
        if config.getoption("loadgroup", False) and _uses_module_fixture(item):
            _send_to_one_worker(item, group=_module(item))
    rank: dict[str, int] = {}
    for item in items:
        rank[_module(item)] = min(rank.get(_module(item), 2), _cost_rank(item))
    items.sort(key=lambda item: rank[_module(item)])  # stable: a module's tests stay together


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0].split("@", 1)[0]


def _uses_module_fixture(item: pytest.Item) -> bool:
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    return any(d.scope == "module" for defs in definitions.values() for d in defs)


def _send_to_one_worker(item: pytest.Item, group: str) -> None:
    """What ``@pytest.mark.xdist_group(group)`` should do: xdist's loadgroup scheduler sends the
    tests whose node ids end in the same ``@group`` to one worker. pytest-xdist 3.8 appends it
    by setting ``Item._nodeid``, which pytest 9.2 no longer reads (its node id is ``Item._id``),
    so the mark groups nothing (pytest-xdist issue #1386); this sets the id pytest 9.2 reads."""
    if "@" in item.nodeid.rsplit("]", 1)[-1]:
        return  # grouped already
    from _pytest.nodeid import NodeId

    item._id = NodeId.parse(f"{item.nodeid}@{group}")  # type: ignore[attr-defined]


def _cost_rank(item: pytest.Item) -> int:
    """0 for the slow reliability tests, 1 for live tests and modules with a shared fixture
    (a broker, a demo, a server), 2 for the rest (pure, in-process)."""
    if item.get_closest_marker("slow"):
        return 0
    return 1 if item.get_closest_marker("live") or _uses_module_fixture(item) else 2
