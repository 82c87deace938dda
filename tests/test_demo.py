"""`slamon demo` stops everything it started when it is told to stop, also in mid-stream."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from monitor.broker import free_port
from tests.conftest import REPO

pytestmark = pytest.mark.live

TOTAL_EVENTS_LINE = "40,239/40,239 events sent"  # the feed's last progress line
# `slamon` as a terminal starts it, with Python's SIGINT handler, even when this test runs where
# SIGINT is ignored (and a child would inherit that)
AS_FROM_A_TERMINAL = (
    "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
    "sys.argv[0] = 'slamon'; runpy.run_module('monitor.cli', run_name='__main__')"
)


def children(pid: int) -> set[int]:
    tasks = Path(f"/proc/{pid}/task")
    return {int(child) for task in tasks.iterdir() for child in (task / "children").read_text().split()}


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_signal_while_the_stream_is_fed_stops_the_demo_and_its_processes(
    tmp_path: Path, stop_signal: signal.Signals
) -> None:
    args = ["demo", "--duration", "30", "--metrics-port", str(free_port())]
    args += ["--workdir", str(tmp_path / "run")]
    process = subprocess.Popen(
        [sys.executable, "-c", AS_FROM_A_TERMINAL, *args],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    output = []
    for line in process.stdout:
        output.append(line)
        if "events sent" in line:
            break
    else:
        pytest.fail("the demo stopped before feeding:\n" + "".join(output))
    started = children(process.pid)
    assert len(started) >= 3, f"broker, worker and ingest expected, found {started}"

    process.send_signal(stop_signal)
    rest, _ = process.communicate(timeout=120)
    text = "".join(output) + rest

    assert process.returncode == 130, text
    assert TOTAL_EVENTS_LINE not in text, "the demo fed the whole stream before it stopped"
    assert "Stopped: broker, worker and receiver are down." in text
    assert not [pid for pid in started if alive(pid)], f"left running: {started}\n{text}"
