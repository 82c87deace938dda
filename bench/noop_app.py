"""A faust app that does nothing with the events: the baseline for worker throughput.

Configured like `slamon worker` from the same ``SLAMON_*`` variables (``SLAMON_BROKER_KIND``
chooses Apache Kafka's settings or the bundled broker's), with the same fetch wait.
"""

from __future__ import annotations

import os

import faust

from monitor.settings import Settings
from monitor.stream.app import faust_options
from monitor.stream.faust_patches import shorten_fetch_wait

settings = Settings()
if settings.broker_kind == "dev":
    shorten_fetch_wait()  # as monitor.stream.run does for the worker
app = faust.App(os.environ["BENCH_APP_ID"], **faust_options(settings))
topic = app.topic(*settings.topics.inputs(), value_type=bytes, key_type=bytes)


@app.agent(topic)
async def swallow(stream: faust.StreamT) -> None:
    async for _ in stream:
        pass


if __name__ == "__main__":
    faust.Worker(app, loglevel="warning").execute_from_commandline()
