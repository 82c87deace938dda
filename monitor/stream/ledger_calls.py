"""Blocking ledger (and outbox) calls from the event loop, retried while the database is away."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError

log = logging.getLogger("slamon.worker")
T = TypeVar("T")

LEDGER_RETRY_FIRST_SECONDS = 0.5
LEDGER_RETRY_MAX_SECONDS = 10.0


async def call_until_done(function: Callable[..., T], *args: Any) -> T:
    """Run a ledger write in a thread; a lost database connection is retried (with backoff)
    until it works, so no result or notice is skipped, and the batch is acknowledged only then."""
    loop = asyncio.get_running_loop()
    wait = LEDGER_RETRY_FIRST_SECONDS
    while True:
        try:
            return await loop.run_in_executor(None, function, *args)
        except DBAPIError as error:
            log.warning("ledger unavailable (%s); retrying in %.1f s", type(error.orig).__name__, wait)
            await asyncio.sleep(wait)
            wait = min(wait * 2, LEDGER_RETRY_MAX_SECONDS)
