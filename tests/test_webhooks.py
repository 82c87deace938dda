"""Webhook delivery through the ledger outbox, against a real HTTP receiver on 127.0.0.1 and a
real ledger (a SQLite file, and a fresh PostgreSQL database where marked)."""

from __future__ import annotations

import asyncio
import base64
import itertools
import logging
import os
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import formatdate
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiohttp import web
from alembic import command
from prometheus_client import CollectorRegistry
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from alerting.delivery import Deliverer
from alerting.metrics import Metrics
from alerting.outbox import (
    Outbox,
    claim,
    disabled_subscriptions,
    enable_subscription,
    enqueue,
    list_attempts,
    list_deliveries,
)
from alerting.retry import RetryPolicy, parse_retry_after
from alerting.signing import sign, verify
from alerting.subscriptions import Subscription, SubscriptionFileError, load_subscriptions
from monitor.broker import free_port
from monitor.ledger.models import DeliveryRow, NoticeRow
from monitor.ledger.schema import alembic_config, upgrade
from monitor.ledger.store import connect
from tests.databases import ledger_database

SECRET_A = "whsec_" + base64.b64encode(os.urandom(32)).decode()
SECRET_B = "whsec_" + base64.b64encode(os.urandom(32)).decode()
MARKER = "body-marker-7f3c"  # in every payload: must never appear in the logs
FAST = RetryPolicy(schedule=(0.05, 0.1, 0.2, 0.3), max_age=120, jitter=0.1)


# ledgers -----------------------------------------------------------------------------------
def _ledger(url: str) -> Engine:
    upgrade(url)
    return connect(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def ledger_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A fresh migrated ledger: a SQLite file, or a new PostgreSQL database dropped afterwards."""
    with ledger_database(request.param, tmp_path, prefix="slamon_hooks") as url:
        upgrade(url)
        yield url


@pytest.fixture
def ledger(ledger_url: str) -> Iterator[Engine]:
    engine = connect(ledger_url)
    yield engine
    engine.dispose()


@pytest.fixture
def sqlite_ledger(tmp_path: Path) -> Iterator[Engine]:
    engine = _ledger(f"sqlite:///{tmp_path / 'ledger.db'}")
    yield engine
    engine.dispose()


def add_notices(engine: Engine, count: int, kind: str = "sla.breached", contract: str = "acme") -> list[str]:
    ids = [f"{contract}/api-uptime/2026-{month:02d}/{kind}" for month in range(1, count + 1)]
    with Session(engine) as session, session.begin():
        for notice_id in ids:
            payload = {
                "type": kind,
                "timestamp": "2026-10-12T09:30:00Z",
                "data": {"notice_id": notice_id, "summary": f"{MARKER} Ünïcode ✓", "figures": {"x": 1.5}},
            }
            session.add(
                NoticeRow(
                    id=notice_id,
                    type=kind,
                    contract=contract,
                    clause="api-uptime",
                    period=notice_id.split("/")[2],
                    created_at=datetime.now(UTC).replace(tzinfo=None),
                    payload=payload,
                )
            )
    return ids


# the receiver ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


@dataclass(frozen=True)
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    status: int | None  # what the receiver answered (None: it hung)


class Receiver:
    """A real HTTP server on 127.0.0.1: per path, queued replies first, then a steady one."""

    def __init__(self) -> None:
        self.port = free_port()
        self.steady: dict[str, Reply] = {}
        self.default = Reply(200)
        self.queued: dict[str, list[Reply]] = {}
        self.received: list[Received] = []
        self.delay = 0.0
        self.release = asyncio.Event()
        self.runner: web.AppRunner | None = None

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def set_default(self, reply: Reply) -> None:
        self.default = reply
        if not reply.hang:
            self.release.set()
            self.release = asyncio.Event()

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self.runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5, handler_cancellation=True)
        await self.runner.setup()
        await web.TCPSite(self.runner, "127.0.0.1", self.port, reuse_address=True).start()

    async def stop(self) -> None:
        self.release.set()
        if self.runner is not None:
            await self.runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        queue = self.queued.get(request.path) or []
        reply = queue.pop(0) if queue else self.steady.get(request.path, self.default)
        headers = dict(request.headers)
        if reply.hang:
            self.received.append(Received(request.path, headers, body, None))
            await self.release.wait()  # released in time (before the sender gave up): answered
            self.received.append(Received(request.path, headers, body, 200))
            return web.Response(status=200)
        if self.delay:
            await asyncio.sleep(self.delay)
        self.received.append(Received(request.path, headers, body, reply.status))
        return web.Response(status=reply.status, headers=reply.headers)

    def ok_ids(self, path: str) -> Counter[str]:
        return Counter(r.headers["webhook-id"] for r in self.received if r.path == path and r.status == 200)


async def until(check: Callable[[], bool], timeout: float = 20.0) -> None:
    """Wait (generously) for a condition read from the ledger."""
    deadline = time.monotonic() + timeout
    while not await asyncio.to_thread(check):
        if time.monotonic() > deadline:
            raise AssertionError("timed out waiting for the condition")
        await asyncio.sleep(0.02)


def subs(receiver: Receiver, **extra: Any) -> list[Subscription]:
    return [
        Subscription("sub-a", receiver.url("/a"), SECRET_A, **extra),
        Subscription("sub-b", receiver.url("/b"), SECRET_B, **extra),
    ]


def secret_of(path: str) -> str:
    return {"/a": SECRET_A, "/b": SECRET_B}[path]


def assert_verifies(received: Received) -> None:
    secret = secret_of(received.path)
    payload = Webhook(secret).verify(received.body, received.headers)
    assert payload == orjson.loads(received.body)
    assert verify(
        secret,
        received.headers["webhook-id"],
        received.headers["webhook-timestamp"],
        received.body,
        received.headers["webhook-signature"],
        tolerance=300,
    )


# signing -----------------------------------------------------------------------------------
def test_sign_matches_standard_webhooks_and_verify_is_strict() -> None:
    body = orjson.dumps({"type": "sla.breached", "data": {"text": "Ünïcode ✓"}})
    stamp = int(time.time())
    signature = sign(SECRET_A, "n-1", stamp, body)
    reference = Webhook(SECRET_A).sign("n-1", datetime.fromtimestamp(stamp, UTC), body.decode())
    assert signature == reference
    assert verify(SECRET_A, "n-1", stamp, body, f"v1,AAAA v2,xyz {signature}")
    assert not verify(SECRET_B, "n-1", stamp, body, signature)
    assert not verify(SECRET_A, "n-2", stamp, body, signature)
    assert not verify(SECRET_A, "n-1", stamp + 1, body, signature)
    assert not verify(SECRET_A, "n-1", stamp, body + b" ", signature)
    assert not verify(SECRET_A, "n-1", stamp, body, "v1,not-base64!")
    assert not verify(SECRET_A, "n-1", stamp - 3600, body, signature, tolerance=300)


async def test_each_webhook_verifies_and_tampering_fails(sqlite_ledger: Engine) -> None:
    receiver = Receiver()
    await receiver.start()
    metrics = Metrics(CollectorRegistry())
    try:
        ids = add_notices(sqlite_ledger, 2)
        assert (
            Outbox(sqlite_ledger, subs(receiver)).enqueue_all(
                [{"id": i, "type": "sla.breached", "contract": "acme"} for i in ids]
            )
            == 4
        )
        async with Deliverer(sqlite_ledger, subs(receiver), metrics=metrics) as deliverer:
            assert await deliverer.deliver_due() == 4
            assert await deliverer.deliver_due() == 0
    finally:
        await receiver.stop()
    assert len(receiver.received) == 4
    for received in receiver.received:
        assert received.headers["Content-Type"] == "application/json"
        assert received.headers["webhook-signature"].startswith("v1,")
        assert_verifies(received)
        webhook = Webhook(secret_of(received.path))
        with pytest.raises(WebhookVerificationError):
            webhook.verify(received.body.replace(b"1.5", b"2.5"), received.headers)
        later = {**received.headers, "webhook-timestamp": str(int(received.headers["webhook-timestamp"]) + 1)}
        with pytest.raises(WebhookVerificationError):
            webhook.verify(received.body, later)
        other = Webhook(secret_of("/b" if received.path == "/a" else "/a"))
        with pytest.raises(WebhookVerificationError):
            other.verify(received.body, received.headers)
    rows = list_deliveries(sqlite_ledger)
    assert {(r["status"], r["attempts"], r["last_status_code"]) for r in rows} == {("delivered", 1, 200)}
    assert all(r["delivered_at"] is not None and r["next_attempt_at"] is None for r in rows)
    assert (
        metrics.registry.get_sample_value(
            "slamon_webhook_deliveries_total", {"subscription": "sub-a", "outcome": "delivered"}
        )
        == 2
    )


# the outbox --------------------------------------------------------------------------------
def test_enqueue_is_idempotent_and_filters(ledger: Engine) -> None:
    breached = add_notices(ledger, 2)
    closed = add_notices(ledger, 1, kind="sla.period_closed", contract="globex")
    subscriptions = [
        Subscription("all", "https://hooks.example.com/a", SECRET_A),
        Subscription(
            "closing", "https://hooks.example.com/b", SECRET_A, types=frozenset({"sla.period_closed"})
        ),
        Subscription("acme-only", "https://hooks.example.com/c", SECRET_A, contracts=frozenset({"acme"})),
    ]
    assert enqueue(ledger, breached[0], "sla.breached", "acme", subscriptions) == 2
    assert enqueue(ledger, breached[0], "sla.breached", "acme", subscriptions) == 0
    assert enqueue(ledger, closed[0], "sla.period_closed", "globex", subscriptions) == 2
    with Session(ledger) as session:  # on a caller's session: nothing is kept without its commit
        assert enqueue(session, breached[1], "sla.breached", "acme", subscriptions) == 2
        session.rollback()
    notices = [{"id": breached[1], "type": "sla.breached", "contract": "acme"}]
    assert Outbox(ledger, subscriptions).enqueue_all(notices * 2) == 2
    assert Outbox(ledger, subscriptions).enqueue_all(notices) == 0
    pairs = sorted((r["notice_id"], r["subscription"], r["status"]) for r in list_deliveries(ledger))
    assert pairs == sorted(
        [
            (breached[0], "acme-only", "pending"),
            (breached[0], "all", "pending"),
            (breached[1], "acme-only", "pending"),
            (breached[1], "all", "pending"),
            (closed[0], "all", "pending"),
            (closed[0], "closing", "pending"),
        ]
    )


def test_notices_stored_without_deliveries_are_queued_by_the_sweep(ledger: Engine) -> None:
    """A worker killed between storing notices and queueing them: the sweep queues them once."""
    queued, forgotten = add_notices(ledger, 1), add_notices(ledger, 2, kind="sla.period_closed")
    subscriptions = [
        Subscription("all", "https://hooks.example.com/a", SECRET_A),
        Subscription("breaches", "https://hooks.example.com/b", SECRET_A, types=frozenset({"sla.breached"})),
    ]
    outbox = Outbox(ledger, subscriptions)
    assert outbox.enqueue_all([{"id": queued[0], "type": "sla.breached", "contract": "acme"}]) == 2
    assert outbox.enqueue_unqueued() == 2  # each forgotten notice, to the one subscription it matches
    assert outbox.enqueue_unqueued() == 0
    pairs = sorted((r["notice_id"], r["subscription"]) for r in list_deliveries(ledger))
    assert pairs == sorted(
        [(queued[0], "all"), (queued[0], "breaches"), (forgotten[0], "all"), (forgotten[1], "all")]
    )


def race_for_claim(engines: list[Engine], delivery_id: int, now: float) -> list[bool]:
    """Each engine (a worker) tries to claim the delivery at the same moment, from its own thread."""
    gate = threading.Barrier(len(engines))
    wins: list[bool] = []

    def attempt(engine: Engine, worker: str) -> None:
        gate.wait()
        wins.append(claim(engine, delivery_id, worker, now, 60) is not None)

    threads = [threading.Thread(target=attempt, args=(e, f"w{i}")) for i, e in enumerate(engines)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return wins


def test_one_claim_wins_among_racing_workers(ledger_url: str) -> None:
    engines = [connect(ledger_url) for _ in range(6)]
    try:
        ids = add_notices(engines[0], 3)
        for notice_id in ids:
            enqueue(
                engines[0],
                notice_id,
                "sla.breached",
                "acme",
                [Subscription("s", "https://x.example/h", SECRET_A)],
            )
        now = time.time() + 1
        for row in list_deliveries(engines[0]):
            wins = race_for_claim(engines, row["id"], now)
            assert sorted(wins) == [False] * (len(engines) - 1) + [True]
            assert claim(engines[0], row["id"], "late", now + 30, 60) is None  # still held
            assert claim(engines[0], row["id"], "late", now + 61, 60) is not None  # the lease ran out
    finally:
        for engine in engines:
            engine.dispose()


async def test_two_deliverers_never_send_one_delivery_twice(ledger_url: str) -> None:
    receiver = Receiver()
    receiver.delay = 0.01
    await receiver.start()
    engines = [connect(ledger_url), connect(ledger_url)]
    stop = asyncio.Event()
    try:
        ids = add_notices(engines[0], 20)
        outbox = Outbox(engines[0], subs(receiver))
        outbox.enqueue_all([{"id": i, "type": "sla.breached", "contract": "acme"} for i in ids])
        workers = [
            Deliverer(e, subs(receiver), policy=FAST, poll_interval=0.02, batch_size=8, concurrency=4)
            for e in engines
        ]
        tasks = [asyncio.create_task(w.run(stop)) for w in workers]
        await until(lambda: all(r["status"] == "delivered" for r in list_deliveries(engines[0])))
        stop.set()
        await asyncio.gather(*tasks)
    finally:
        stop.set()
        await receiver.stop()
        for engine in engines:
            engine.dispose()
    for path in ("/a", "/b"):
        assert receiver.ok_ids(path) == Counter(dict.fromkeys(ids, 1))
    assert len(receiver.received) == 40
    with Session(engines[0]) as session:
        assert session.scalar(select(func.max(DeliveryRow.attempts))) == 1


# failures and retries ----------------------------------------------------------------------
async def test_receiver_outage_loses_nothing(ledger: Engine) -> None:
    receiver = Receiver()  # not listening yet: connection refused
    ids = add_notices(ledger, 3)
    subscriptions = subs(receiver, timeout=0.5)
    Outbox(ledger, subscriptions).enqueue_all(
        [{"id": i, "type": "sla.breached", "contract": "acme"} for i in ids]
    )
    deliverer = Deliverer(ledger, subscriptions, policy=FAST, poll_interval=0.02)
    stop = asyncio.Event()
    task = asyncio.create_task(deliverer.run(stop))

    def every(predicate: Callable[[dict[str, Any]], bool]) -> Callable[[], bool]:
        return lambda: all(predicate(r) for r in list_deliveries(ledger))

    try:
        await until(every(lambda r: r["attempts"] >= 2 and "ConnectError" in (r["last_error"] or "")))
        receiver.set_default(Reply(500))
        await receiver.start()
        await until(every(lambda r: r["last_status_code"] == 500))
        receiver.set_default(Reply(hang=True))
        await until(every(lambda r: "timed out" in (r["last_error"] or "")))
        receiver.set_default(Reply(200))
        await until(every(lambda r: r["status"] == "delivered"))
    finally:
        stop.set()
        await task
        await receiver.stop()
    for path in ("/a", "/b"):  # at least once: after dedup by webhook-id, each id exactly once
        assert set(receiver.ok_ids(path)) == set(ids)
    for received in receiver.received:
        assert_verifies(received)
    for notice_id in ids:
        for name in ("sub-a", "sub-b"):
            attempts = [a for a in list_attempts(ledger, notice_id) if a["subscription"] == name]
            times = [a["attempted_at"].timestamp() for a in attempts]
            assert times == sorted(times) and len(set(times)) == len(times)
            for number, (before, after) in enumerate(itertools.pairwise(times), start=1):
                wait = FAST.schedule[min(number, len(FAST.schedule)) - 1]
                assert after - before >= wait * (1 - FAST.jitter) - 0.001
            assert "ConnectError" in attempts[0]["error"]
            assert 500 in [a["status_code"] for a in attempts]
            assert any("timed out" in (a["error"] or "") for a in attempts)
            assert attempts[-1]["status_code"] == 200 and attempts[-1]["error"] is None


async def test_failing_past_max_age_is_dead_and_listed(
    ledger: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = Receiver()
    receiver.default = Reply(500)
    await receiver.start()
    metrics = Metrics(CollectorRegistry())
    policy = RetryPolicy(schedule=(1, 2), max_age=10, jitter=0)
    t0 = time.time()
    [notice] = add_notices(ledger, 1)
    enqueue(ledger, notice, "sla.breached", "acme", subs(receiver)[:1], now=t0)
    deliverer = Deliverer(ledger, subs(receiver)[:1], metrics=metrics, policy=policy)

    def next_at() -> float:
        return list_deliveries(ledger)[0]["next_attempt_at"].timestamp()

    try:
        assert await deliverer.deliver_due(now=t0) == 1
        assert next_at() == pytest.approx(t0 + 1, abs=0.5)
        assert await deliverer.deliver_due(now=t0 + 0.5) == 0  # not due yet
        assert await deliverer.deliver_due(now=t0 + 1.5) == 1
        assert next_at() == pytest.approx(t0 + 3.5, abs=0.5)
        assert await deliverer.deliver_due(now=t0 + 4) == 1
        assert next_at() == pytest.approx(t0 + 6, abs=0.5)  # the last wait repeats
        deliverer.refresh_gauges(now=t0 + 5)
        sample = metrics.registry.get_sample_value
        assert sample("slamon_webhook_outbox_backlog", {}) == 1
        assert sample("slamon_webhook_outbox_oldest_age_seconds", {}) == pytest.approx(5, abs=0.01)
        assert await deliverer.deliver_due(now=t0 + 9.5) == 1
        assert next_at() == pytest.approx(t0 + 10, abs=0.01)  # never planned past the max age
        with caplog.at_level(logging.WARNING, logger="alerting.delivery"):
            assert await deliverer.deliver_due(now=t0 + 10.2) == 1
        assert await deliverer.deliver_due(now=t0 + 1000) == 0
        deliverer.refresh_gauges(now=t0 + 1000)
    finally:
        await deliverer.aclose()
        await receiver.stop()
    [dead] = list_deliveries(ledger, status="dead")
    assert (dead["notice_id"], dead["subscription"], dead["attempts"]) == (notice, "sub-a", 5)
    assert dead["last_status_code"] == 500 and dead["next_attempt_at"] is None
    assert list_deliveries(ledger, status="pending") == []
    assert len(list_attempts(ledger, notice)) == 5
    assert f"webhook {notice} to sub-a is dead" in caplog.text
    assert sample("slamon_webhook_deliveries_total", {"subscription": "sub-a", "outcome": "failed"}) == 4
    assert sample("slamon_webhook_deliveries_total", {"subscription": "sub-a", "outcome": "dead"}) == 1
    assert sample("slamon_webhook_dead_deliveries", {}) == 1
    assert sample("slamon_webhook_outbox_backlog", {}) == 0


async def test_gone_disables_the_subscription_visibly(
    ledger: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = Receiver()
    receiver.steady["/a"] = Reply(410)
    await receiver.start()
    metrics = Metrics(CollectorRegistry())
    ids = add_notices(ledger, 3)
    subscriptions = subs(receiver)
    outbox = Outbox(ledger, subscriptions)
    outbox.enqueue_all([{"id": i, "type": "sla.breached", "contract": "acme"} for i in ids[:2]])
    try:
        async with Deliverer(ledger, subscriptions, metrics=metrics, concurrency=1) as deliverer:
            with caplog.at_level(logging.WARNING, logger="alerting.delivery"):
                assert await deliverer.deliver_due() == 3  # a's second delivery is never sent
            deliverer.refresh_gauges()
            assert outbox.enqueue_all([{"id": ids[2], "type": "sla.breached", "contract": "acme"}]) == 1
            assert await deliverer.deliver_due() == 1
    finally:
        await receiver.stop()
    assert [r.path for r in receiver.received].count("/a") == 1
    assert receiver.ok_ids("/b") == Counter(dict.fromkeys(ids, 1))
    statuses = {
        (r["notice_id"], r["subscription"]): (r["status"], r["attempts"]) for r in list_deliveries(ledger)
    }
    assert statuses[(ids[0], "sub-a")] == ("disabled", 1)
    assert statuses[(ids[1], "sub-a")] == ("disabled", 0)
    assert (ids[2], "sub-a") not in statuses
    [(name, state)] = disabled_subscriptions(ledger).items()
    assert name == "sub-a" and "410" in state["reason"] and state["disabled_at"] is not None
    assert "subscription sub-a disabled" in caplog.text
    assert metrics.registry.get_sample_value("slamon_webhook_dead_deliveries", {}) == 2
    assert enable_subscription(ledger, "sub-a")
    assert disabled_subscriptions(ledger) == {}


async def test_retry_after_is_honoured_and_bounded(sqlite_ledger: Engine) -> None:
    receiver = Receiver()
    await receiver.start()
    t0 = time.time()
    receiver.queued["/a"] = [
        Reply(429, {"Retry-After": "120"}),
        Reply(503, {"Retry-After": formatdate(t0 + 3600, usegmt=True)}),
        Reply(429, {"Retry-After": "99999999"}),
    ]
    [notice] = add_notices(sqlite_ledger, 1)
    enqueue(sqlite_ledger, notice, "sla.breached", "acme", subs(receiver)[:1], now=t0)
    deliverer = Deliverer(sqlite_ledger, subs(receiver)[:1], policy=RetryPolicy(max_age=7200))

    def row() -> dict[str, Any]:
        return list_deliveries(sqlite_ledger)[0]

    try:
        assert await deliverer.deliver_due(now=t0) == 1
        assert row()["next_attempt_at"].timestamp() == pytest.approx(t0 + 120, abs=1)
        assert row()["last_error"] == "HTTP 429, Retry-After 120"
        assert await deliverer.deliver_due(now=t0 + 100) == 0
        assert await deliverer.deliver_due(now=t0 + 121) == 1
        assert row()["next_attempt_at"].timestamp() == pytest.approx(t0 + 3600, abs=1.5)
        assert await deliverer.deliver_due(now=t0 + 3601) == 1
        assert row()["next_attempt_at"].timestamp() == pytest.approx(t0 + 7200, abs=0.01)
        assert await deliverer.deliver_due(now=t0 + 7200) == 1
    finally:
        await deliverer.aclose()
        await receiver.stop()
    assert row()["status"] == "delivered" and row()["attempts"] == 4
    assert [a["status_code"] for a in list_attempts(sqlite_ledger, notice)] == [429, 503, 429, 200]
    assert parse_retry_after("soon", t0) is None and parse_retry_after(" 7 ", t0) == t0 + 7


async def test_redirects_are_failures_and_not_followed(sqlite_ledger: Engine) -> None:
    receiver = Receiver()
    receiver.steady["/a"] = Reply(302, {"Location": "/b"})
    await receiver.start()
    [notice] = add_notices(sqlite_ledger, 1)
    enqueue(sqlite_ledger, notice, "sla.breached", "acme", subs(receiver)[:1])
    try:
        async with Deliverer(sqlite_ledger, subs(receiver)[:1], policy=FAST) as deliverer:
            assert await deliverer.deliver_due() == 1
    finally:
        await receiver.stop()
    assert [r.path for r in receiver.received] == ["/a"]
    [row] = list_deliveries(sqlite_ledger)
    assert (row["status"], row["last_status_code"], row["last_error"]) == ("pending", 302, "HTTP 302")


async def test_logs_hold_no_secret_signature_or_body(
    sqlite_ledger: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    receiver = Receiver()
    receiver.queued["/a"] = [Reply(500), Reply(429, {"Retry-After": "0"})]
    receiver.steady["/b"] = Reply(410)
    await receiver.start()
    ids = add_notices(sqlite_ledger, 2)
    subscriptions = subs(receiver)
    Outbox(sqlite_ledger, subscriptions).enqueue_all(
        [{"id": i, "type": "sla.breached", "contract": "acme"} for i in ids]
    )
    stop = asyncio.Event()
    with caplog.at_level(logging.DEBUG):
        deliverer = Deliverer(
            sqlite_ledger,
            subscriptions,
            policy=FAST,
            poll_interval=0.02,
            metrics=Metrics(CollectorRegistry()),
        )
        task = asyncio.create_task(deliverer.run(stop))
        try:
            await until(lambda: not list_deliveries(sqlite_ledger, status="pending"))
        finally:
            stop.set()
            await task
            await receiver.stop()
    logs = caplog.text
    assert ids[0] in logs and "sub-a" in logs and "sub-b" in logs  # it did log
    for secret in (SECRET_A, SECRET_B):
        assert secret not in logs and secret.removeprefix("whsec_") not in logs
    for received in receiver.received:
        for signature in received.headers["webhook-signature"].split():
            assert signature.split(",", 1)[1] not in logs
    assert MARKER not in logs
    assert SECRET_A not in repr(subscriptions)


# subscription files ------------------------------------------------------------------------
ENV = {"HOOK_A": SECRET_A, "HOOK_B": SECRET_B}
GOOD = """
subscriptions:
  - name: ops
    url: https://hooks.example.com/sla
    secret_env: HOOK_A
    types: [sla.breached]
    contracts: [acme-hosting]
    timeout: 5s
  - name: local-1
    url: http://[::1]:8080/hooks
    secret_env: HOOK_B
"""


def test_a_good_file_loads_with_defaults(tmp_path: Path) -> None:
    path = tmp_path / "subs.yaml"
    path.write_text(GOOD)
    ops, local = load_subscriptions(path, ENV)
    assert (ops.name, ops.secret, ops.types, ops.contracts, ops.timeout) == (
        "ops",
        SECRET_A,
        frozenset({"sla.breached"}),
        frozenset({"acme-hosting"}),
        5.0,
    )
    assert local.timeout == 15.0 and local.contracts is None and len(local.types) == 3
    assert local.matches("sla.at_risk", "anything") and not ops.matches("sla.at_risk", "acme-hosting")
    example = Path(__file__).resolve().parent.parent / "alerting" / "subscriptions.example.yaml"
    names = ("SLAMON_WEBHOOK_SECRET_OPS", "SLAMON_WEBHOOK_SECRET_BILLING", "SLAMON_WEBHOOK_SECRET_DEV")
    assert len(load_subscriptions(example, dict.fromkeys(names, SECRET_A))) == 3


ENTRY = "subscriptions:\n  - name: ops\n    url: https://hooks.example.com/sla\n    secret_env: HOOK_A\n"


@pytest.mark.parametrize(
    ("document", "where", "message"),
    [
        (ENTRY + "    colour: red\n", "subscriptions[0].colour", "Extra inputs are not permitted"),
        (ENTRY + "    secret: whsec_abc\n", "subscriptions[0].secret", "never put a secret in the file"),
        (ENTRY.replace("name: ops", "name: Ops_1"), "subscriptions[0].name", "should match pattern"),
        (ENTRY + ENTRY.split("\n", 1)[1], "subscriptions[1].name", "duplicate subscription name 'ops'"),
        (
            ENTRY.replace("https://hooks", "http://hooks"),
            "subscriptions[0].url",
            "use https for hooks.example.com",
        ),
        (ENTRY.replace("https://", "ftp://"), "subscriptions[0].url", "must start with https://"),
        (ENTRY.replace("https://", "https://user:pw@"), "subscriptions[0].url", "credentials in the URL"),
        (ENTRY + "    types: [sla.late]\n", "subscriptions[0].types[0]", "Input should be"),
        (ENTRY + "    types: []\n", "subscriptions[0].types", "at least 1 item"),
        (ENTRY + "    timeout: fast\n", "subscriptions[0].timeout", "invalid duration 'fast'"),
        (ENTRY + "    timeout: 1d\n", "subscriptions[0].timeout", "at most 300s"),
        (
            ENTRY.replace("    url: https://hooks.example.com/sla\n", ""),
            "subscriptions[0].url",
            "Field required",
        ),
        (ENTRY + "extra: 1\n", "extra", "Extra inputs are not permitted"),
        ("- name: ops\n", "", "must hold one YAML mapping; it holds a list"),
        ("subscriptions: [\n", "", "invalid YAML at line"),
        (ENTRY + "    url: https://other.example.com\n", "", "duplicate key 'url'"),
    ],
)
def test_file_errors_name_file_and_field(tmp_path: Path, document: str, where: str, message: str) -> None:
    path = tmp_path / "subs.yaml"
    path.write_text(document)
    with pytest.raises(SubscriptionFileError) as caught:
        load_subscriptions(path, ENV)
    problem = caught.value.problems[0]
    assert (problem.file, problem.field) == (str(path), where)
    assert message in problem.message
    assert str(caught.value).startswith(f"{path}: {where + ': ' if where else ''}")


def test_missing_or_bad_secret_names_subscription_and_variable(tmp_path: Path) -> None:
    path = tmp_path / "subs.yaml"
    path.write_text(GOOD)
    with pytest.raises(SubscriptionFileError) as caught:
        load_subscriptions(path, {"HOOK_A": SECRET_A})
    assert str(caught.value) == (
        f"{path}: subscriptions[1].secret_env: subscription 'local-1': environment variable HOOK_B is not set"
    )
    bad = "whsec_!!not-base64-at-all!!"
    with pytest.raises(SubscriptionFileError) as caught:
        load_subscriptions(path, {"HOOK_A": "plain-password-1234", "HOOK_B": bad})
    text_ = str(caught.value)
    assert "subscription 'ops': environment variable HOOK_A" in text_
    assert "subscription 'local-1': environment variable HOOK_B" in text_
    assert "plain-password-1234" not in text_ and bad not in text_
    with pytest.raises(ValueError, match="use https"):
        Subscription("x", "http://10.0.0.5/hook", SECRET_A)


def test_migration_downgrades_and_upgrades_again(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'ledger.db'}"
    upgrade(url)
    command.downgrade(alembic_config(url), "0001")
    upgrade(url)
    engine = connect(url)
    try:
        assert list_deliveries(engine) == [] and disabled_subscriptions(engine) == {}
    finally:
        engine.dispose()


async def test_a_month_close_waits_for_its_at_risk_warning(ledger: Engine) -> None:
    # The at-risk warning of api-uptime in 2026-10 fails once (500); its month close is queued
    # at the same time. The receiver must see the warning delivered before any close attempt.
    receiver = Receiver()
    await receiver.start()
    receiver.queued["/a"] = [Reply(500)]
    warning = add_notices(ledger, 10, kind="sla.at_risk")[-1]  # ids end in 2026-10/<type>
    close = add_notices(ledger, 10, kind="sla.period_closed")[-1]
    subscriptions = subs(receiver)[:1]
    Outbox(ledger, subscriptions).enqueue_all(
        [{"id": i, "type": i.rsplit("/", 1)[1], "contract": "acme"} for i in (close, warning)]
    )
    deliverer = Deliverer(ledger, subscriptions, policy=FAST, poll_interval=0.02)
    stop = asyncio.Event()
    task = asyncio.create_task(deliverer.run(stop))
    try:
        await until(lambda: all(r["status"] == "delivered" for r in list_deliveries(ledger)))
    finally:
        stop.set()
        await task
        await receiver.stop()
    assert {r.headers["webhook-id"] for r in receiver.received} == {warning, close}
    order = [(r.headers["webhook-id"].rsplit("/", 1)[1], r.status) for r in receiver.received]
    assert order == [("sla.at_risk", 500), ("sla.at_risk", 200), ("sla.period_closed", 200)]
