"""The webhook deliverer: claims due deliveries from the outbox and POSTs them, signed.

Outcomes (SPEC.md section 6): any 2xx is delivered; 410 Gone disables the subscription; anything
else (3xx included, redirects are not followed), a connection error or a timeout is a failure,
retried by the :class:`RetryPolicy` (429/503 at the time ``Retry-After`` asks for) until the
maximum age, after which the delivery is dead. Logs name the notice, the subscription and the
status code; never a secret, a signature or a body.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import socket
import time
import uuid
from collections.abc import Callable, Sequence

import httpx
import orjson
from sqlalchemy import Engine

from alerting.metrics import Metrics
from alerting.outbox import Attempt, Claimed, claim, due, outbox_stats, record_attempt
from alerting.retry import RetryPolicy, parse_retry_after
from alerting.signing import sign
from alerting.subscriptions import Subscription

log = logging.getLogger(__name__)

USER_AGENT = "sla-monitor-webhooks/0.1"
CLAIM_MARGIN = 30.0  # seconds a claim outlives the request timeout
MAX_ERROR_TEXT = 500


class Deliverer:
    def __init__(
        self,
        engine: Engine,
        subscriptions: Sequence[Subscription],
        *,
        metrics: Metrics | None = None,
        policy: RetryPolicy | None = None,
        poll_interval: float = 0.5,
        batch_size: int = 100,
        concurrency: int = 10,
        worker_id: str | None = None,
        clock: Callable[[], float] = time.time,
        rng: random.Random | None = None,
    ) -> None:
        self.engine = engine
        self.subscriptions = {s.name: s for s in subscriptions}
        self.metrics = metrics
        self.policy = policy or RetryPolicy()
        self.poll_interval = poll_interval
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self.clock = clock
        self.rng = rng or random.Random()
        self._client: httpx.AsyncClient | None = None
        self._wakeup = asyncio.Event()

    async def __aenter__(self) -> Deliverer:
        return self

    async def __aexit__(self, *_: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                follow_redirects=False, headers={"user-agent": USER_AGENT}, trust_env=False
            )
        return self._client

    # the loop ----------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        """Deliver until ``stop`` is set: a pass whenever the last one did something, else
        every ``poll_interval``. A failing database is logged and retried, not fatal."""
        try:
            while not stop.is_set():
                made = 0
                try:
                    made = await self.deliver_due()
                    if self.metrics is not None:
                        await asyncio.to_thread(self.refresh_gauges)
                except Exception:
                    log.exception("webhook delivery pass failed; trying again")
                if made == 0:
                    await self._idle(stop)
        finally:
            await self.aclose()

    def wake(self) -> None:
        """New deliveries are in the outbox: look now rather than at the next poll."""
        self._wakeup.set()

    async def _idle(self, stop: asyncio.Event) -> None:
        waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wakeup.wait())]
        try:
            await asyncio.wait(waiters, timeout=self.poll_interval, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiter in waiters:
                waiter.cancel()
        self._wakeup.clear()

    async def deliver_due(self, now: float | None = None) -> int:
        """One pass: claim and send every due delivery (up to ``batch_size``), ``concurrency`` at
        a time. ``now`` (Unix seconds) replaces the clock for scheduling. Returns the attempts made."""
        start = self.clock() if now is None else now
        began = time.monotonic()
        found = await asyncio.to_thread(due, self.engine, start, list(self.subscriptions), self.batch_size)
        if not found:
            return 0
        gate = asyncio.Semaphore(self.concurrency)

        async def one(delivery_id: int, name: str) -> int:
            async with gate:
                now = start + (time.monotonic() - began)
                return await self._deliver_one(delivery_id, self.subscriptions[name], now)

        return sum(await asyncio.gather(*(one(i, name) for i, name in found)))

    async def _deliver_one(self, delivery_id: int, subscription: Subscription, now: float) -> int:
        lease = subscription.timeout + CLAIM_MARGIN
        claimed = await asyncio.to_thread(claim, self.engine, delivery_id, self.worker_id, now, lease)
        if claimed is None:
            return 0
        attempt = await self._attempt(subscription, claimed, now)
        await asyncio.to_thread(record_attempt, self.engine, claimed, self.worker_id, attempt)
        self._report(subscription, claimed, attempt)
        return 1

    # one attempt -------------------------------------------------------------------------
    async def _attempt(self, subscription: Subscription, claimed: Claimed, now: float) -> Attempt:
        body = orjson.dumps(claimed.payload)
        stamp = int(time.time())  # the receiver checks it against its own clock
        headers = {
            "webhook-id": claimed.notice_id,
            "webhook-timestamp": str(stamp),
            "webhook-signature": sign(subscription.secret, claimed.notice_id, stamp, body),
            "content-type": "application/json",
        }
        code: int | None = None
        error: str | None = None
        retry_after: str | None = None
        began = time.monotonic()
        try:
            async with asyncio.timeout(subscription.timeout):
                request = self._http().stream(
                    "POST", subscription.url, content=body, headers=headers, timeout=subscription.timeout
                )
                async with request as response:  # the reply's body is not read
                    code = response.status_code
                    retry_after = response.headers.get("retry-after")
        except (TimeoutError, httpx.TimeoutException):
            error = f"timed out after {subscription.timeout:g} s"
        except httpx.HTTPError as problem:
            error = f"{type(problem).__name__}: {problem}"[:MAX_ERROR_TEXT]
        duration = time.monotonic() - began
        return self._judge(claimed, now, code, error, retry_after, duration)

    def _judge(
        self,
        claimed: Claimed,
        now: float,
        code: int | None,
        error: str | None,
        retry_after: str | None,
        duration: float,
    ) -> Attempt:
        if code is not None and 200 <= code < 300:
            return Attempt(now, code, None, duration, "delivered")
        if code == 410:
            return Attempt(now, code, "410 Gone: subscription disabled", duration, "disabled")
        asked = parse_retry_after(retry_after, now) if code in (429, 503) else None
        if code is not None:
            error = f"HTTP {code}"
            if asked is not None and retry_after is not None:
                error += f", Retry-After {retry_after.strip()[:40]}"
        failures = claimed.attempts + 1
        following = self.policy.next_attempt(claimed.created, now, failures, self.rng, asked)
        outcome = "dead" if following is None else "failed"
        return Attempt(now, code, error, duration, outcome, following)

    def _report(self, subscription: Subscription, claimed: Claimed, attempt: Attempt) -> None:
        name, notice = subscription.name, claimed.notice_id
        shown = attempt.status_code if attempt.status_code is not None else attempt.error
        if attempt.outcome == "delivered":
            log.info("webhook %s delivered to %s: %s", notice, name, shown)
        elif attempt.outcome == "failed":
            wait = (attempt.next_attempt or attempt.at) - attempt.at
            log.info("webhook %s to %s failed (%s); next attempt in %.0f s", notice, name, shown, wait)
        elif attempt.outcome == "dead":
            log.warning(
                "webhook %s to %s is dead after %d attempts (%s)", notice, name, claimed.attempts + 1, shown
            )
        else:
            log.warning("subscription %s disabled: 410 Gone in reply to webhook %s", name, notice)
        if self.metrics is not None:
            self.metrics.deliveries.labels(name, attempt.outcome).inc()

    def refresh_gauges(self, now: float | None = None) -> None:
        """Set the outbox gauges (backlog, oldest pending age, dead or disabled) from the ledger."""
        if self.metrics is None:
            return
        stats = outbox_stats(self.engine, self.clock() if now is None else now)
        self.metrics.outbox_backlog.set(stats.backlog)
        self.metrics.outbox_oldest_age.set(stats.oldest_age)
        self.metrics.dead_deliveries.set(stats.dead)
