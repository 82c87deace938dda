"""A faust app that does nothing with the events: the baseline for worker throughput."""

from __future__ import annotations

import os

import faust

from monitor.settings import Settings
from monitor.stream.app import faust_options

settings = Settings()
app = faust.App(os.environ["BENCH_APP_ID"], **faust_options(settings))
topic = app.topic(*settings.topics.inputs(), value_type=bytes, key_type=bytes)


@app.agent(topic)
async def swallow(stream: faust.StreamT) -> None:
    async for _ in stream:
        pass


if __name__ == "__main__":
    faust.Worker(app, loglevel="warning").execute_from_commandline()
