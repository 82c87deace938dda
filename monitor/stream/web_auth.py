"""A bearer token in front of faust's web views, which show table contents.

``/metrics`` is served by prometheus-client on its own port and stays open, as Prometheus
expects; every path of faust's web server needs ``Authorization: Bearer <token>`` once
``SLAMON_WEB_TOKEN`` is set.
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable

from aiohttp import web

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def bearer_token_middleware(token: str) -> Callable[[web.Request, Handler], Awaitable[web.StreamResponse]]:
    """aiohttp middleware that answers 401 unless the request carries exactly this token."""
    if not token:
        raise ValueError("the web token must not be empty")
    expected = f"Bearer {token}".encode()

    @web.middleware
    async def require_bearer_token(request: web.Request, handler: Handler) -> web.StreamResponse:
        given = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(given, expected):  # constant time: no guessing by timing
            return web.json_response(
                {"error": "a bearer token is required"},
                status=401,
                headers={"WWW-Authenticate": 'Bearer realm="slamon"'},
            )
        return await handler(request)

    return require_bearer_token
