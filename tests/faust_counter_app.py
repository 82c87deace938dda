"""A tiny faust app for tests/test_faust_on_dev_broker.py, run as ``python -m tests.faust_counter_app
worker`` with the settings of ``monitor.stream.faust_settings`` (configured by environment).

One agent over a 4-partition input topic counts events per (string) key in a plain table, reassigning
the value so every change reaches the changelog, and reports each count on an output topic:
``{"key", "count", "event", "partition", "offset", "pid"}`` keyed by the input key. With a web port,
``/counts/`` shows the table (as recovered, before any new event) and ``/assignment/`` the input
partitions this worker holds. ``fix_faust_recovery_seek_order`` is applied unless
COUNTER_SEEK_FIX=0; COUNTER_TRACE=1 prints every changelog batch applied to the table.
"""

from __future__ import annotations

import os

import faust
import orjson

from monitor.stream.faust_patches import fix_faust_recovery_seek_order
from monitor.stream.faust_settings import faust_app_settings

SEEK_FIX = os.environ.get("COUNTER_SEEK_FIX", "1") == "1" and fix_faust_recovery_seek_order()

web_port = os.environ.get("COUNTER_WEB_PORT")
settings = faust_app_settings(
    os.environ.get("COUNTER_BOOTSTRAP", "127.0.0.1:9092"),
    dev_broker=os.environ.get("COUNTER_DEV_BROKER", "1") == "1",
    app_id=os.environ.get("COUNTER_APP_ID", "counter"),
    data_dir=os.environ.get("COUNTER_DATA_DIR", "/tmp/counter-data"),
    web_port=int(web_port) if web_port else None,
    partitions=4,
)
if os.environ.get("COUNTER_MULTI_RECORD_BATCHES"):  # diagnostics: without the dev broker's fix
    settings.pop("producer_max_batch_size", None)
app = faust.App(**settings)
PID = os.getpid()

raw = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}
events_topic = app.topic(os.environ.get("COUNTER_INPUT", "counter-in"), **raw)
counts_topic = app.topic(os.environ.get("COUNTER_OUTPUT", "counter-out"), **raw)
counts = app.Table("counts", default=int, partitions=4, key_type=str, value_type=int)


if os.environ.get("COUNTER_TRACE"):  # diagnostics: every changelog batch applied to the table
    _apply = counts.apply_changelog_batch

    def _traced_apply(batch: list) -> None:
        applied = [(e.message.partition, e.message.offset, e.message.key, e.message.value) for e in batch]
        print(f"TRACE apply in_recovery={app.tables.recovery.in_recovery} {applied}", flush=True)
        _apply(batch)

    counts.apply_changelog_batch = _traced_apply


@app.agent(events_topic)
async def count(stream: faust.StreamT) -> None:
    async for event in stream.events():
        message = event.message
        key = message.key.decode()
        counts[key] = counts[key] + 1  # reassigned: the change reaches the changelog
        report = {
            "key": key,
            "count": counts[key],
            "event": message.value.decode(),
            "partition": message.partition,
            "offset": message.offset,
            "pid": PID,
        }
        await counts_topic.send(key=message.key, value=orjson.dumps(report))


@app.page("/counts/")
async def show_counts(web: faust.web.Web, request: faust.web.Request) -> faust.web.Response:
    return web.json({key: value for key, value in counts.items()})


@app.page("/assignment/")
async def show_assignment(web: faust.web.Web, request: faust.web.Request) -> faust.web.Response:
    assigned = app.consumer.assignment() if app.consumer else set()
    return web.json(
        {
            "pid": PID,
            "seek_fix": SEEK_FIX,
            "ready": not app.rebalancing and not app.tables.recovery.in_recovery,
            "partitions": sorted(
                tp.partition for tp in assigned if tp.topic == events_topic.get_topic_name()
            ),
        }
    )


if __name__ == "__main__":
    app.main()
