"""``slamon demo``: the whole product on its embedded default, in about two minutes.

Starts the bundled broker, a worker (SQLite ledger, /metrics) and a local webhook receiver
that prints the notices it gets, then feeds the sample contracts two months of events
compressed into ``--duration`` seconds. Everything stops on Ctrl-C (or, with
``--exit-when-done``, once October has closed and its notices have arrived).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import shlex
import shutil
import signal
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import orjson
from aiokafka import AIOKafkaProducer

from alerting.signing import verify
from monitor.broker import DevBroker, free_port, port_is_free
from monitor.demo_stream import sample_events
from monitor.produce import route
from monitor.settings import Settings
from monitor.wording import money_words, percent_words

SECRET_ENV = "SLAMON_DEMO_WEBHOOK_SECRET"
CLOSING_PERIOD = "2026-10"  # the sample stream's last month: its close carries the credit
# what a support desk and a change calendar would send over HTTP: these go through `slamon ingest`
INGESTED_TYPES = frozenset({"ticket", "maintenance"})
PROGRESS_EVERY = 3.0


def out(message: str) -> None:
    print(message, flush=True)


@dataclass
class DemoReceiver:
    """Prints each notice once (receivers deduplicate by webhook-id), after checking its signature."""

    secret: str
    port: int = field(default_factory=free_port)
    seen: dict[str, dict[str, Any]] = field(default_factory=dict)
    rejected: int = 0
    _server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                receiver.receive({k.lower(): v for k, v in self.headers.items()}, body)
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def receive(self, headers: dict[str, str], body: bytes) -> None:
        notice_id = headers.get("webhook-id", "")
        stamp = headers.get("webhook-timestamp", "")
        if not verify(
            self.secret, notice_id, stamp, body, headers.get("webhook-signature", ""), tolerance=300
        ):
            self.rejected += 1
            return
        if notice_id in self.seen:
            return
        payload = json.loads(body)
        self.seen[notice_id] = payload
        out(f"  webhook  {payload['type']:<18} {payload['data']['summary']}")

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/notices"


@dataclass
class Demo:
    contracts: Path
    workdir: Path
    duration: float = 60.0
    exit_when_done: bool = False
    metrics_port: int = 0
    idle_timeout: str = "15s"
    broker: DevBroker | None = None
    worker: subprocess.Popen[bytes] | None = None
    ingest: subprocess.Popen[bytes] | None = None
    ingest_port: int = 0
    receiver: DemoReceiver | None = None

    # setup -------------------------------------------------------------------------
    def _prepare_workdir(self) -> None:
        if self.workdir.exists():
            shutil.rmtree(self.workdir)  # a fresh run: the broker keeps nothing either
        self.workdir.mkdir(parents=True)

    @property
    def database(self) -> str:
        return f"sqlite:///{self.workdir.resolve() / 'ledger.db'}"

    def _worker_env(self, secret: str) -> dict[str, str]:
        assert self.broker is not None and self.receiver is not None
        subscriptions = self.workdir / "subscriptions.yaml"
        subscriptions.write_text(
            "subscriptions:\n"
            f"  - name: demo-receiver\n    url: {self.receiver.url}\n    secret_env: {SECRET_ENV}\n"
        )
        return {
            **os.environ,
            "SLAMON_BROKER": self.broker.url,
            "SLAMON_BROKER_KIND": "dev",
            "SLAMON_DATABASE": self.database,
            "SLAMON_CONTRACTS": str(self.contracts),
            "SLAMON_DATA_DIR": str(self.workdir / "worker-data"),
            "SLAMON_METRICS_PORT": str(self.metrics_port),
            "SLAMON_WEB_PORT": str(free_port()),
            # longer than any gap between two events of a partition while the stream is fed,
            # so only the quiet after it moves clocks to the wall clock (never back: a wall
            # clock before the sample months changes nothing; the stream closes October itself)
            "SLAMON_IDLE_TIMEOUT": self.idle_timeout,
            "SLAMON_SUBSCRIPTIONS": str(subscriptions),
            "SLAMON_WEBHOOK_RETRY_SCHEDULE": "1s,5s,30s",
            SECRET_ENV: secret,
        }

    def start(self) -> None:
        self._prepare_workdir()
        if not self.metrics_port:
            self.metrics_port = 9464 if port_is_free(9464) else free_port()
        out("Starting the bundled Kafka-compatible broker ...")
        self.broker = DevBroker(log_path=self.workdir / "broker.log").start()
        secret = "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
        self.receiver = DemoReceiver(secret)
        self.receiver.start()
        out(f"Webhook receiver listening on {self.receiver.url}")
        out(f"Starting the worker (ledger {self.database}) ...")
        log = (self.workdir / "worker.log").open("ab")
        self.worker = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "worker"],
            env=self._worker_env(secret),
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._wait(lambda: self._scrape() is not None, 60, "the worker's metrics endpoint")
        out(f"Metrics at {self.metrics_url}")
        self._start_ingest()

    def _start_ingest(self) -> None:
        """``slamon ingest`` on 127.0.0.1 (no tokens: loopback only), for tickets and maintenance."""
        assert self.broker is not None
        self.ingest_port = free_port()
        log = (self.workdir / "ingest.log").open("ab")
        env = {**os.environ, "SLAMON_BROKER": self.broker.url, "SLAMON_BROKER_KIND": "dev"}
        self.ingest = subprocess.Popen(
            [sys.executable, "-m", "monitor.cli", "ingest", "--port", str(self.ingest_port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        self._wait(lambda: _answers(f"{self.ingest_url}/healthz"), 60, "the ingest service")
        out(f"Ingest service at {self.ingest_url} (OpenAPI at {self.ingest_url}/docs)")

    @property
    def ingest_url(self) -> str:
        return f"http://127.0.0.1:{self.ingest_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}/metrics"

    def _scrape(self) -> str | None:
        try:
            with urllib.request.urlopen(self.metrics_url, timeout=2) as response:
                return response.read().decode()
        except OSError:
            return None

    def _wait(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        deadline = time.monotonic() + timeout
        while not condition():
            if self.worker is not None and self.worker.poll() is not None:
                code = self.worker.returncode
                raise DemoError(f"the worker stopped (exit {code}); see {self.workdir}/worker.log")
            if time.monotonic() > deadline:
                raise DemoError(f"gave up waiting for {what} after {timeout:.0f} s; see {self.workdir}")
            time.sleep(0.5)

    # the stream --------------------------------------------------------------------
    def feed(self) -> None:
        events = sample_events()
        out(
            f"Feeding {len(events):,} events (two months of heartbeats, outages, maintenance and "
            f"tickets) in about {self.duration:.0f} s ..."
        )
        out(f"  (tickets and maintenance through POST {self.ingest_url}/v1/events, the rest to Kafka)")
        settings = Settings(broker=self.broker.url, broker_kind="dev")  # type: ignore[union-attr]
        asyncio.run(
            _paced_send(settings, events, self.duration, self._progress, f"{self.ingest_url}/v1/events")
        )

    def _progress(self, sent: int, total: int, stream_time: str) -> None:
        applied = _applied(self._scrape() or "")
        out(f"  ... {sent:>6,}/{total:,} events sent, stream at {stream_time[:16]}, applied {applied:,}")

    def wait_for_month_close(self) -> None:
        out(f"Stream done; waiting for {CLOSING_PERIOD} to close (the stream ran into November) ...")
        self._wait(self._closed, 180, f"the {CLOSING_PERIOD} month close")

    def _closed(self) -> bool:
        """Every contract's record of the month is final (its notices were then sent)."""
        from monitor.ledger.store import Ledger

        ledger = Ledger(self.database)
        try:
            records = [r for r in ledger.read_results() if r["record"] == "contract"]
        finally:
            ledger.close()
        month = [r for r in records if r["period"] == CLOSING_PERIOD]
        return bool(month) and all(r["final"] for r in month) and self._closing_notices_arrived()

    def _closing_notices_arrived(self) -> bool:
        assert self.receiver is not None
        return any(
            p["type"] == "sla.period_closed" and p["data"]["period"]["month"] == CLOSING_PERIOD
            for p in list(self.receiver.seen.values())
        )

    def summary(self) -> None:
        from monitor.ledger.store import Ledger

        ledger = Ledger(self.database)
        try:
            records = ledger.read_results()
        finally:
            ledger.close()
        out("\nWhat the ledger says:")
        for record in records:
            if record["record"] == "contract" and record["credit_percent"]:
                state = "final" if record["final"] else "provisional"
                amount = money_words(record["credit_amount"], record["currency"])
                credit = f"{percent_words(record['credit_percent'])} = {amount}"
                out(f"  {record['contract']} {record['period']} ({state}): credit {credit}")
        received = self.receiver.seen if self.receiver is not None else {}
        out(f"  {len(received)} notices received by the webhook receiver, each signature checked")
        out("\nWhere to look:")
        out(f"  metrics:    {self.metrics_url}")
        out(f"  ingest:     {self.ingest_url}/docs (POST /v1/events, /v1/alertmanager)")
        for label, command in where_to_look(self.database, self.contracts, self.workdir).items():
            out(f"  {label + ':':<11} {command}")
        out(f"  logs:       {self.workdir}/worker.log")

    # stopping ----------------------------------------------------------------------
    def stop(self) -> None:
        """Stop the ingest service and the worker (SIGTERM, SIGKILL after 30 s), then the
        receiver and the broker; further SIGINT/SIGTERM are ignored until that is done."""
        with _signals_ignored(signal.SIGINT, signal.SIGTERM):
            self._stop_processes()
        if self.receiver is not None:
            self.receiver.stop()
        if self.broker is not None:
            self.broker.stop()

    def _stop_processes(self) -> None:
        running = [p for p in (self.ingest, self.worker) if p is not None and p.poll() is None]
        for process in running:
            process.send_signal(signal.SIGTERM)
        for process in running:
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)


@contextlib.contextmanager
def _signals_ignored(*signals: signal.Signals) -> Iterator[None]:
    previous = {number: signal.signal(number, signal.SIG_IGN) for number in signals}
    try:
        yield
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _interrupt(*_: object) -> None:
    """SIGTERM handler: stop the demo wherever it is, as Ctrl-C does (while the stream is fed,
    asyncio's SIGINT handler cancels the feed, so its producer closes cleanly)."""
    if not callable(signal.getsignal(signal.SIGINT)):  # ignored, e.g. started in the background
        raise KeyboardInterrupt
    signal.raise_signal(signal.SIGINT)


class DemoError(RuntimeError):
    pass


def slamon_command() -> str:
    """How to run ``slamon`` from the current directory, as a shell word that works as printed:
    the ``slamon`` script next to this Python (relative when it is below the current directory,
    e.g. ``.venv/bin/slamon``), else ``python -m monitor.cli``."""
    script = Path(sys.executable).parent / "slamon"
    if not script.is_file():
        return f"{shlex.quote(sys.executable)} -m monitor.cli"
    try:
        shown = str(script.relative_to(Path.cwd()))
    except ValueError:
        shown = str(script)
    return shlex.quote(shown)


def where_to_look(database: str, contracts: Path, workdir: Path) -> dict[str, str]:
    """The commands the demo prints for its ledger, ready to paste (a PDF goes to ``workdir``)."""
    slamon = slamon_command()
    flags = f"--database {shlex.quote(database)} --contracts {shlex.quote(str(contracts))}"
    pdf = shlex.quote(str(workdir / f"acme-hosting-{CLOSING_PERIOD}.pdf"))
    return {
        "statement": f"{slamon} report --contract acme-hosting --period {CLOSING_PERIOD} --format md {flags}",
        "pdf": (
            f"{slamon} report --contract acme-hosting --period {CLOSING_PERIOD} --format pdf -o {pdf} {flags}"
        ),
        "liability": f"{slamon} liability {flags}",
    }


def run_demo(demo: Demo) -> int:
    previous = signal.signal(signal.SIGTERM, _interrupt)
    try:
        demo.start()
        demo.feed()
        demo.wait_for_month_close()
        demo.summary()
        if not demo.exit_when_done:
            out("\nThe worker keeps running (metrics stay live). Press Ctrl-C to stop everything.")
            while True:
                time.sleep(3600)
        return 0
    except KeyboardInterrupt:
        out("\nStopping ...")
        return 130
    except DemoError as error:
        print(f"slamon demo: {error}", file=sys.stderr)
        return 1
    finally:
        demo.stop()
        signal.signal(signal.SIGTERM, previous)
        out("Stopped: broker, worker and receiver are down.")


async def _paced_send(
    settings: Settings,
    events: list[dict[str, Any]],
    duration: float,
    progress: Callable[[int, int, str], None],
    ingest_url: str,
) -> None:
    """Send the events in time order, spreading their event-time span over ``duration`` seconds;
    those of INGESTED_TYPES through the ingest service."""
    producer = AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap, acks="all", max_batch_size=1, linger_ms=0
    )
    await producer.start()
    ingest = _IngestSender(ingest_url)
    try:
        first, last = _instant(events[0]["at"]), _instant(events[-1]["at"])
        span = max(last - first, 1.0)
        began = time.monotonic()
        shown = began
        pending: list[asyncio.Future[Any]] = []
        for sent, event in enumerate(events, start=1):
            due = began + (_instant(event["at"]) - first) / span * duration
            delay = due - time.monotonic()
            if delay > 0:
                await asyncio.gather(*pending)
                pending.clear()
                await asyncio.sleep(delay)
            line = orjson.dumps(event)
            if event["type"] in INGESTED_TYPES:
                ingest.send(line)
                continue
            topic, key = route(line, settings)
            pending.append(await producer.send(topic, value=line, key=key))
            if time.monotonic() - shown >= PROGRESS_EVERY:
                shown = time.monotonic()
                await asyncio.to_thread(progress, sent, len(events), event["at"])
        await asyncio.gather(*pending)
        await ingest.drain()
        progress(len(events), len(events), events[-1]["at"])
    finally:
        await ingest.close()
        await producer.stop()


class _IngestSender:
    """POSTs lines to the ingest service in the order given, without holding up the pacing: one
    request takes every line queued while the previous one was answered (NDJSON)."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.queue: asyncio.Queue[bytes] = asyncio.Queue()
        self.client = httpx.AsyncClient(timeout=60)
        self.task = asyncio.create_task(self._run())

    def send(self, line: bytes) -> None:
        if self.task.done():
            self.task.result()  # raises what stopped it
        self.queue.put_nowait(line)

    async def _run(self) -> None:
        while True:
            batch = [await self.queue.get()]
            while not self.queue.empty():
                batch.append(self.queue.get_nowait())
            answer = await self.client.post(self.url, content=b"\n".join(batch))
            if answer.status_code != 200 or answer.json()["accepted"] != len(batch):
                raise DemoError(f"the ingest service did not take every event: {answer.text[:500]}")
            for _ in batch:
                self.queue.task_done()

    async def drain(self) -> None:
        """Wait until every line sent so far was accepted (or raise why not)."""
        joined = asyncio.ensure_future(self.queue.join())
        await asyncio.wait([joined, self.task], return_when=asyncio.FIRST_COMPLETED)
        if self.task.done():
            joined.cancel()
            self.task.result()

    async def close(self) -> None:
        self.task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.task
        await self.client.aclose()


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _instant(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _applied(metrics: str) -> int:
    total = 0.0
    for line in metrics.splitlines():
        if line.startswith("slamon_events_total{") and 'outcome="applied"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return int(total)
