"""``slamon ingest``: the ingest service under uvicorn, with the input topics' producer."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import uvicorn

from monitor.ingest.app import create_app
from monitor.ingest.publisher import KafkaPublisher
from monitor.ingest.settings import IngestSettings
from monitor.settings import Settings


def run_ingest(settings: Settings, ingest: IngestSettings) -> int:
    """Serve until SIGINT/SIGTERM; exit non-zero when the broker cannot be reached at start."""
    publisher = KafkaPublisher(settings)

    @asynccontextmanager
    async def producer() -> AsyncIterator[None]:
        await publisher.start()
        try:
            yield
        finally:
            await publisher.stop()

    app = create_app(settings, ingest, publisher, lifespan=producer())
    config = uvicorn.Config(
        app, host=ingest.host, port=ingest.port, lifespan="on", access_log=False, log_level="info"
    )
    server = uvicorn.Server(config)
    server.run()
    return 0 if server.started else 1
