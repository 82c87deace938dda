"""Live alerting on Apache Kafka (notices also on the bundled broker): notices in the ledger,
webhooks, and the metrics endpoint."""

from __future__ import annotations

import base64
import json
import os
import shutil
import signal
import subprocess
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from alerting.outbox import list_attempts, list_deliveries
from monitor.broker import free_port
from monitor.ledger.store import Ledger
from tests.conftest import LiveSetup, live_on
from tests.test_live import prepared_stream


def replay_notice_ids(live: LiveSetup, events: Path) -> set[str]:
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    notices = live.workdir / "replay-notices.jsonl"
    live.slamon(
        "replay",
        "--contracts",
        str(live.workdir / "contracts"),
        "--events",
        str(events),
        "--as-of",
        now,
        "--notices",
        str(notices),
    )
    return {json.loads(line)["id"] for line in notices.read_text().splitlines()}


def ledger_notice_ids(live: LiveSetup) -> set[str]:
    ledger = Ledger(live.database)
    try:
        return {notice["id"] for notice in ledger.read_notices()}
    finally:
        ledger.close()


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.read().decode()


@pytest.fixture
def stream(live: LiveSetup) -> Path:
    return prepared_stream(live.workdir)


@live_on("dev-sqlite", "kafka-sqlite")  # notice writes on both databases: test_ledger
def test_the_ledger_holds_the_notices_replay_gives(live: LiveSetup, stream: Path) -> None:
    expected = replay_notice_ids(live, stream)
    assert {i.rsplit("/", 1)[1] for i in expected} == {"sla.at_risk", "sla.breached", "sla.period_closed"}
    live.slamon("produce", "--events", str(stream))
    live.start_worker()
    live.wait_for(
        lambda: ledger_notice_ids(live) == expected,
        240,
        lambda: f"missing {expected - ledger_notice_ids(live)}, extra {ledger_notice_ids(live) - expected}",
    )


@live_on("kafka-sqlite")  # metrics depend neither on the broker nor on the database
def test_the_metrics_endpoint_passes_promtool(live: LiveSetup, stream: Path) -> None:
    promtool = shutil.which("promtool")
    assert promtool, "promtool is missing: apt-get install prometheus (./dev test installs it)"
    live.slamon("produce", "--events", str(stream))
    token = base64.urlsafe_b64encode(os.urandom(24)).decode()
    live.start_worker(SLAMON_WEB_TOKEN=token)
    port = live.metrics_ports[0]
    live.wait_for(
        lambda: 'slamon_contract_credit_final_amount{contract="acme-hosting"' in _safe(scrape, port), 180
    )
    body = scrape(port)
    for name in (
        "slamon_clause_attainment_ratio",
        "slamon_clause_target_ratio",
        "slamon_clause_error_budget_remaining_ratio",
        "slamon_clause_breached",
        "slamon_clause_consecutive_breaches",
        "slamon_contract_credit_projected_amount",
        "slamon_events_total",
        "slamon_watermark_timestamp_seconds",
        "slamon_notices_total",
        "slamon_webhook_outbox_backlog",
    ):
        assert f"\n{name}" in body, name
    assert 'outcome="duplicate"' in body and 'outcome="invalid"' in body
    checked = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # /metrics is open (above); faust's web views, which show table contents, need the token
    web = f"http://127.0.0.1:{live.web_ports[0]}/router/"
    assert _status(web) == 401
    assert _status(web, {"Authorization": f"Bearer {token[:-1]}"}) == 401
    assert _status(web, {"Authorization": f"Bearer {token}"}) == 200
    assert token not in live.full_logs()


def _status(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _safe(read, port: int) -> str:  # type: ignore[no-untyped-def]
    try:
        return read(port)
    except OSError:
        return ""


class Receiver:
    """A real HTTP receiver on 127.0.0.1 that keeps every webhook it gets."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[tuple[dict[str, str], bytes]] = []
        self._server: ThreadingHTTPServer | None = None

    def start(self) -> None:
        received = self.received

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *_: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def ids(self) -> set[str]:
        return {headers["webhook-id"] for headers, _ in self.received}


# the outbox on PostgreSQL: test_webhooks
@live_on("dev-sqlite", "kafka-sqlite")
def test_webhooks_arrive_signed_even_when_the_worker_dies_before_delivering(
    live: LiveSetup, stream: Path
) -> None:
    secret = "whsec_" + base64.b64encode(os.urandom(24)).decode()
    port = free_port()
    subscriptions = live.workdir / "subscriptions.yaml"
    subscriptions.write_text(
        f"subscriptions:\n  - name: legal\n    url: http://127.0.0.1:{port}/hook\n"
        "    secret_env: SLAMON_TEST_WEBHOOK_SECRET\n"
    )
    env = {
        "SLAMON_SUBSCRIPTIONS": str(subscriptions),
        "SLAMON_TEST_WEBHOOK_SECRET": secret,
        "SLAMON_WEBHOOK_RETRY_SCHEDULE": "1s,2s",
    }
    expected = replay_notice_ids(live, stream)
    live.slamon("produce", "--events", str(stream))
    worker = live.start_worker(**env)
    # the receiver is down: notices are written and their deliveries fail (connection refused)
    live.wait_for(lambda: any(d["attempts"] > 0 for d in deliveries(live)), 180)
    live.stop(worker, signal.SIGKILL)
    assert any(d["status"] == "pending" for d in deliveries(live))
    receiver = Receiver(port)
    receiver.start()
    try:
        live.start_worker(**env)
        live.wait_for(
            lambda: receiver.ids() == expected and all(d["status"] == "delivered" for d in deliveries(live)),
            240,
            lambda: (
                f"missing {expected - receiver.ids()}, statuses {[d['status'] for d in deliveries(live)]}"
            ),
        )
    finally:
        receiver.stop()
    logs = live.full_logs()
    assert secret not in logs and secret.removeprefix("whsec_") not in logs
    for headers, _ in receiver.received:
        assert headers["webhook-signature"].split(",", 1)[1] not in logs  # no signature is logged
    verifier = Webhook(secret)
    for headers, body in receiver.received:
        payload = verifier.verify(body, headers)
        assert payload["data"]["notice_id"] == headers["webhook-id"]
        with pytest.raises(WebhookVerificationError):
            verifier.verify(body.replace(b"sla.", b"sla_", 1), headers)
        with pytest.raises(WebhookVerificationError):
            verifier.verify(
                body, {**headers, "webhook-timestamp": str(int(headers["webhook-timestamp"]) + 1)}
            )
    ledger = Ledger(live.database)
    try:
        retried = [d for d in list_deliveries(ledger.engine) if d["attempts"] > 1]
        assert retried, "some deliveries failed before the receiver came up"
        attempts = list_attempts(ledger.engine, retried[0]["notice_id"])
    finally:
        ledger.close()
    assert len(attempts) == retried[0]["attempts"]  # the retry schedule is visible in the ledger


def deliveries(live: LiveSetup) -> list[dict]:
    ledger = Ledger(live.database)  # migrated, even before the worker has written anything
    try:
        return list_deliveries(ledger.engine)
    finally:
        ledger.close()
