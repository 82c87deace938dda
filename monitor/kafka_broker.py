"""A single-node Apache Kafka (KRaft, broker and controller in one process) for tests and local runs.

The jars come from Maven Central through ``monitor.kafka_jars`` (cached after the first use; Java
17+ and Maven needed). Unlike the bundled broker its log is on disk: ``stop()`` and ``start()``
again on the same ``KafkaBroker`` (same ports, same data directory) keeps every topic, record and
committed offset. No workaround of SPEC.md section 8 applies here: clients use
``SLAMON_BROKER_KIND=kafka``, the production settings.
"""

from __future__ import annotations

import base64
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from types import TracebackType
from typing import ClassVar, Literal

from monitor.broker import Broker, BrokerError, free_port
from monitor.kafka_jars import KAFKA_VERSION, java_executable, kafka_classpath

READY_TIMEOUT_SECONDS = 120.0  # a JVM on a busy 2-core machine: seconds to tens of seconds
STOP_TIMEOUT_SECONDS = 30.0  # a controlled shutdown takes 2-3 s
FORMAT_TIMEOUT_SECONDS = 120.0
HEAP = "512m"
NODE_ID = 1

# Warnings and errors only, on stdout (which goes to the broker's log file).
_LOG4J2 = """status = error
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = WARN
rootLogger.appenderRef.stdout.ref = STDOUT
"""


def cluster_id() -> str:
    """A new KRaft cluster id: 16 random bytes in URL-safe base64 without padding, as
    ``kafka-storage random-uuid`` prints it."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()


class KafkaBroker(Broker):
    """Apache Kafka ``version`` on 127.0.0.1 as a child process (the ``Broker`` interface).

    ``start()`` and ``stop()`` any number of times: the first start formats ``data_dir``
    (standalone KRaft), later ones reuse it. ``data_dir`` is a new temporary directory unless
    given; one this object created is deleted when the ``with`` block ends. The controller
    listens on ``controller_port``. Its log holds warnings and errors only.
    """

    kind: ClassVar[Literal["dev", "kafka"]] = "kafka"
    stop_timeout: ClassVar[float] = STOP_TIMEOUT_SECONDS

    def __init__(
        self,
        port: int | None = None,
        log_path: Path | None = None,
        *,
        data_dir: Path | None = None,
        advertised_port: int | None = None,
        controller_port: int | None = None,
        version: str = KAFKA_VERSION,
        heap: str = HEAP,
        ready_timeout: float = READY_TIMEOUT_SECONDS,
    ) -> None:
        super().__init__(port, log_path, ready_timeout=ready_timeout, advertised_port=advertised_port)
        self.controller_port = controller_port or free_port()
        self._owns_data_dir = data_dir is None
        if data_dir is None:
            data_dir = Path(tempfile.mkdtemp(prefix="slamon-kafka-"))
        self.data_dir = Path(data_dir)
        self.version = version
        self.heap = heap

    @property
    def log_dir(self) -> Path:
        return self.data_dir / "log"

    @property
    def properties_path(self) -> Path:
        return self.data_dir / "server.properties"

    def listening_ports(self) -> set[int]:
        return {self.port, self.controller_port}

    def server_properties(self) -> str:
        """The broker's configuration: one node that is broker and controller."""
        controller = f"127.0.0.1:{self.controller_port}"
        settings = {
            "process.roles": "broker,controller",
            "node.id": NODE_ID,
            "controller.quorum.bootstrap.servers": controller,
            "listeners": f"PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://{controller}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{self.advertised_port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT",
            "log.dirs": self.log_dir,
            # one node: internal topics cannot have more replicas
            "offsets.topic.replication.factor": 1,
            "transaction.state.log.replication.factor": 1,
            "transaction.state.log.min.isr": 1,
            "share.coordinator.state.topic.replication.factor": 1,
            "share.coordinator.state.topic.min.isr": 1,
            # as Kafka's own single-node sample configuration: no 3 s wait for a group's first members
            "group.initial.rebalance.delay.ms": 0,
            # sized for a shared 2-core machine; none of these changes what clients see
            "offsets.topic.num.partitions": 10,
            "num.network.threads": 2,
            "num.io.threads": 4,
            "log.cleaner.dedupe.buffer.size": 16 * 1024 * 1024,
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def java(self, main_class: str, *arguments: str, short_lived: bool = False) -> list[str]:
        return [
            java_executable(),
            f"-Xmx{self.heap}",
            "-Xms64m",
            *(["-XX:TieredStopAtLevel=1"] if short_lived else []),  # quicker start, slower code
            "-XX:+UseSerialGC",
            "-XX:+ExitOnOutOfMemoryError",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={self.data_dir / 'log4j2.properties'}",
            "-cp",
            kafka_classpath(self.version),
            main_class,
            *arguments,
        ]

    def command(self) -> list[str]:
        return self.java("kafka.Kafka", str(self.properties_path))

    def prepare(self) -> None:
        """Write the configuration; format the log directory as a standalone KRaft node unless an
        earlier start did."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "log4j2.properties").write_text(_LOG4J2)
        self.properties_path.write_text(self.server_properties())
        if (self.log_dir / "meta.properties").exists():
            return
        command = self.java(
            "kafka.tools.StorageTool",
            *("format", "--standalone", f"--cluster-id={cluster_id()}", "-c", str(self.properties_path)),
            short_lived=True,
        )
        with self.log_path.open("ab") as log:
            done = subprocess.run(
                command, stdout=log, stderr=subprocess.STDOUT, timeout=FORMAT_TIMEOUT_SECONDS, check=False
            )
        if done.returncode != 0:
            raise BrokerError(
                f"formatting Kafka's storage in {self.log_dir} failed ({done.returncode}); "
                f"its log ({self.log_path}) ends with:\n{self.log_tail()}"
            )

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None
    ) -> None:
        super().__exit__(kind, error, tb)
        if self._owns_data_dir:
            shutil.rmtree(self.data_dir, ignore_errors=True)
