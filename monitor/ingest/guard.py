"""ASGI middleware in front of the ingest routes: the body size limit (413 naming it) and the
request metrics (count by status code, duration), for every answer including the 413s."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
from fastapi import HTTPException

from monitor.ingest.metrics import IngestMetrics

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

KNOWN_PATHS = ("/v1/events", "/v1/alertmanager", "/healthz", "/metrics")


def body_limit_message(limit: int) -> str:
    return f"the body is larger than max_body_bytes = {limit} bytes (SLAMON_INGEST_MAX_BODY_BYTES)"


class Guard:
    def __init__(self, app: ASGIApp, max_body_bytes: int, metrics: IngestMetrics) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        endpoint = scope["path"] if scope["path"] in KNOWN_PATHS else "other"
        began = time.perf_counter()
        status = [500]

        async def send_and_count(message: Message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            if self._declared_length(scope) > self.max_body_bytes:
                await self._too_large(send_and_count)
            else:
                await self.app(scope, self._limited(receive), send_and_count)
        finally:
            self.metrics.requests.labels(endpoint, str(status[0])).inc()
            self.metrics.duration.labels(endpoint).observe(time.perf_counter() - began)

    @staticmethod
    def _declared_length(scope: Scope) -> int:
        for name, value in scope.get("headers", ()):
            if name == b"content-length" and value.isdigit():
                return int(value)
        return 0

    def _limited(self, receive: Receive) -> Receive:
        """``receive`` that raises a 413 once a body without (or with a false) length grows past
        the limit; FastAPI and Starlette pass an HTTPException raised while reading on as it is."""
        received = 0
        limit = self.max_body_bytes

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, body_limit_message(limit))
            return message

        return limited

    async def _too_large(self, send: Send) -> None:
        body = orjson.dumps({"detail": body_limit_message(self.max_body_bytes)})
        headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
        await send({"type": "http.response.start", "status": 413, "headers": headers})
        await send({"type": "http.response.body", "body": body})
