"""The real chain: a test target's 0/1 metric, scraped by a real Prometheus whose alert rule fires
when it is 0, routed by a real Alertmanager to ``slamon ingest``, whose status events reach the
uptime topic and a live worker's results. Everything on 127.0.0.1, nothing mocked."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from monitor.broker import DevBroker, free_port
from monitor.ledger.store import Ledger
from tests.conftest import LiveSetup
from tests.ingest_service import Ingest, running_ingest
from tests.monitoring_tools import alertmanager, get_json, prometheus, wait_until

SERVICE = "checkout"
TOKEN = "alertmanager-token-for-the-test"


class Target:
    """A scrape target exposing ``checkout_up{service="checkout"}``, 1 or 0 as the test sets it."""

    def __init__(self) -> None:
        self.up = 1
        self.port = free_port()
        target = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = f'# TYPE checkout_up gauge\ncheckout_up{{service="{SERVICE}"}} {target.up}\n'.encode()
                self.send_response(200)
                self.send_header("content-type", "text/plain; version=0.0.4")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)

    @contextmanager
    def serving(self) -> Iterator[Target]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.server.shutdown()
            self.server.server_close()


def _contract(directory: Path) -> None:
    directory.mkdir()
    (directory / "checkout.yaml").write_text(
        "id: checkout-shop\ncustomer: Shop\nprovider: CloudCo Ltd\ntimezone: UTC\ncurrency: EUR\n"
        'monthly_fee: "1000.00"\neffective_from: 2026-01-01\nclauses:\n'
        f"  - id: checkout-uptime\n    kind: uptime\n    service: {SERVICE}\n    target_percent: 99.5\n"
    )


def _prometheus_config(target: int, alertmanager_url: str, rules: Path) -> dict:
    rules.write_text(
        "groups:\n  - name: test\n    interval: 1s\n    rules:\n"
        "      - alert: ServiceDown\n        expr: checkout_up == 0\n        labels: {severity: page}\n"
    )
    return {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(rules)],
        "scrape_configs": [{"job_name": "target", "static_configs": [{"targets": [f"127.0.0.1:{target}"]}]}],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [alertmanager_url.removeprefix("http://")]}]}]
        },
    }


def _alertmanager_config(ingest_url: str) -> dict:
    return {
        "route": {
            "receiver": "slamon",
            "group_by": ["alertname", "service"],
            "group_wait": "1s",
            "group_interval": "1s",
            "repeat_interval": "1h",
        },
        "receivers": [
            {
                "name": "slamon",
                "webhook_configs": [
                    {
                        "url": f"{ingest_url}/v1/alertmanager",
                        "send_resolved": True,
                        "http_config": {"authorization": {"credentials": TOKEN}},
                    }
                ],
            }
        ],
    }


def _instant(text: str) -> datetime:
    """An RFC 3339 time with up to nanoseconds, cut to microseconds (as the service cuts it)."""
    whole, _, rest = text.replace("Z", "+00:00").partition(".")
    if rest:
        digits = re.match(r"\d*", rest).group(0)  # type: ignore[union-attr]
        whole += "." + digits[:6].ljust(6, "0") + rest[len(digits) :]
    return datetime.fromisoformat(whole)


def test_a_target_going_down_and_up_reaches_the_topic_and_the_worker(
    dev_broker: DevBroker, tmp_path: Path
) -> None:
    setup = LiveSetup(dev_broker, f"sqlite:///{tmp_path / 'ledger.db'}", tmp_path)
    _contract(tmp_path / "contracts")
    setup.start_worker()  # it joins its group while the rest starts
    try:
        events, fired, keys = _run_the_chain(dev_broker, setup, tmp_path)
        # Alertmanager may send a notification more than once: the same ids each time
        distinct = {event["event_id"]: event for event in events}
        assert len(distinct) == 2, events
        down, up = sorted(distinct.values(), key=lambda event: event["status"])
        fingerprint, starts = fired["fingerprint"], _instant(fired["startsAt"])
        # the down is at the alert's startsAt, the up (at its endsAt) after it
        assert (down["status"], _instant(down["at"])) == ("down", starts)
        assert down["event_id"] == f"alertmanager:{fingerprint}:down:{down['at']}"
        assert up["event_id"] == f"alertmanager:{fingerprint}:up:{up['at']}"
        assert _instant(up["at"]) > starts
        assert keys == {SERVICE.encode()}
        # the worker counted the outage: the contract's open month is below 100%
        setup.wait_for(lambda: _attained(setup) < 100, 120)
    finally:
        for process in setup.workers:
            setup.stop(process)


def _run_the_chain(dev_broker: DevBroker, setup: LiveSetup, workdir: Path) -> tuple[list[dict], dict, set]:
    """Target up, then down until Alertmanager has the alert and the down event is on the topic,
    then up until the up event is: the events on the topic, the alert as Alertmanager had it,
    and the record keys."""
    selector = 'alertname="ServiceDown"'
    with (
        running_ingest(
            dev_broker, workdir, prefix=setup.name, tokens=TOKEN, alert_selector=selector
        ) as ingest,
        alertmanager(workdir / "alertmanager", _alertmanager_config(ingest.url)) as am,
        Target().serving() as target,
        prometheus(
            workdir / "prometheus", _prometheus_config(target.port, am, workdir / "rules.yml")
        ) as prom,
    ):
        scraped = f"{prom}/api/v1/query?query=checkout_up"
        wait_until(lambda: _values(get_json(scraped)) == ["1"], 30, "the first scrape")
        target.up = 0
        wait_until(
            lambda: bool(_firing(am)),
            30,
            "the alert in Alertmanager",
            workdir / "alertmanager" / "alertmanager.log",
        )
        fired = _firing(am)[0]
        wait_until(lambda: "down" in _statuses(ingest), 30, "the down event", ingest.log)
        target.up = 1
        wait_until(lambda: "up" in _statuses(ingest), 30, "the up event", ingest.log)
        records = ingest.records("uptime")
    return [json.loads(value) for _, value in records], fired, {key for key, _ in records}


def _values(answer: dict) -> list[str]:
    return [sample["value"][1] for sample in answer["data"]["result"]]


def _firing(am: str) -> list[dict]:
    return [a for a in get_json(f"{am}/api/v2/alerts") if a["labels"].get("alertname") == "ServiceDown"]


def _statuses(ingest: Ingest) -> set[str]:
    return {json.loads(value)["status"] for _, value in ingest.records("uptime")}


def _attained(setup: LiveSetup) -> float:
    ledger = Ledger(setup.database)
    try:
        clauses = [
            r for r in ledger.read_results() if r["record"] == "clause" and r["clause"] == "checkout-uptime"
        ]
    finally:
        ledger.close()
    now = datetime.now(UTC).strftime("%Y-%m")
    return min((r["attained_percent"] for r in clauses if r["period"] == now), default=100.0)
