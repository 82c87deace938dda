"""Apache Kafka's published jars, resolved with Maven from Maven Central into a local cache.

``kafka_classpath()`` returns a Java class path for ``org.apache.kafka:kafka_2.13`` (broker,
controller and storage tool) plus a log4j2 binding for its SLF4J logging. The first call writes a
small pom into ``~/.cache/slamon/kafka-<version>/`` (``$XDG_CACHE_HOME`` is honoured) and runs
``mvn dependency:copy-dependencies`` there; later calls find the jars and return at once. A file
lock makes concurrent first calls (two test sessions) wait for one download.
"""

from __future__ import annotations

import fcntl
import os
import re
import shutil
import subprocess
from pathlib import Path

from monitor.broker import BrokerError

KAFKA_VERSION = "4.1.1"
SCALA_VERSION = "2.13"
LOG4J_VERSION = "2.24.3"  # the log4j2 that Kafka 4.1 itself depends on
MINIMUM_JAVA = 17
MAVEN_TIMEOUT_SECONDS = 900.0

_POM = """<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>slamon.cache</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>{version}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>org.apache.kafka</groupId>
      <artifactId>kafka_{scala}</artifactId>
      <version>{version}</version>
    </dependency>
    <dependency>
      <groupId>org.apache.logging.log4j</groupId>
      <artifactId>log4j-slf4j-impl</artifactId>
      <version>{log4j}</version>
    </dependency>
  </dependencies>
</project>
"""


class KafkaSetupError(BrokerError):
    """Java or Maven is missing or too old, or Maven could not fetch the jars."""


def cache_root() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "slamon"


def kafka_home(version: str = KAFKA_VERSION) -> Path:
    return cache_root() / f"kafka-{version}"


def kafka_classpath(version: str = KAFKA_VERSION) -> str:
    """The class path (``<cache>/libs/*``) of Kafka ``version``, fetched first if not cached."""
    home = kafka_home(version)
    libs = home / "libs"
    complete = home / "complete"
    if not complete.exists():
        home.mkdir(parents=True, exist_ok=True)
        with (home / ".lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
            if not complete.exists():
                _fetch(home, libs, version)
                complete.write_text(version + "\n")
    return str(libs / "*")


def _fetch(home: Path, libs: Path, version: str) -> None:
    maven = shutil.which("mvn")
    if maven is None:
        raise KafkaSetupError("Maven (mvn) is needed to fetch Apache Kafka's jars: apt-get install maven")
    (home / "pom.xml").write_text(_POM.format(version=version, scala=SCALA_VERSION, log4j=LOG4J_VERSION))
    if libs.exists():
        shutil.rmtree(libs)  # a download that was interrupted
    command = [
        maven,
        "-q",
        "-B",
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={libs}",
    ]
    try:
        done = subprocess.run(
            command, cwd=home, capture_output=True, text=True, timeout=MAVEN_TIMEOUT_SECONDS, check=False
        )
    except subprocess.TimeoutExpired:
        waited = f"{MAVEN_TIMEOUT_SECONDS:.0f} s"
        raise KafkaSetupError(f"Maven did not fetch Kafka {version} within {waited}") from None
    if done.returncode != 0 or not any(libs.glob(f"kafka_{SCALA_VERSION}-{version}.jar")):
        output = (done.stdout + done.stderr)[-3000:]
        artifact = f"org.apache.kafka:kafka_{SCALA_VERSION}:{version}"
        raise KafkaSetupError(f"Maven could not fetch {artifact}:\n{output}")


def java_executable() -> str:
    """``$JAVA_HOME/bin/java`` or ``java`` on the PATH, checked to be Java 17 or newer."""
    java_home = os.environ.get("JAVA_HOME")
    java = str(Path(java_home) / "bin" / "java") if java_home else shutil.which("java")
    if not java or not Path(java).exists():
        raise KafkaSetupError("Apache Kafka needs Java 17+: apt-get install openjdk-17-jre-headless")
    shown = subprocess.run([java, "-version"], capture_output=True, text=True, timeout=60, check=False)
    found = re.search(r'version "(\d+)(?:\.(\d+))?', shown.stderr + shown.stdout)
    if found is None:
        raise KafkaSetupError(f"could not tell the version of {java}: {shown.stderr.strip()[:300]}")
    major = int(found.group(1)) if found.group(1) != "1" else int(found.group(2) or 0)
    if major < MINIMUM_JAVA:
        raise KafkaSetupError(f"Apache Kafka needs Java {MINIMUM_JAVA}+, {java} is Java {major}")
    return java
