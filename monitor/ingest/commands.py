"""The command-line parts of ingest: ``slamon ingest`` and ``slamon import prometheus``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import orjson

INGEST_FLAGS = {
    "host": "address to listen on (SLAMON_INGEST_HOST; default 127.0.0.1, others need tokens)",
    "port": "port to listen on (SLAMON_INGEST_PORT; default 8088)",
}


def add_commands(commands: Any) -> None:
    """Register ``ingest`` and ``import`` on the ``slamon`` sub-command parser."""
    from monitor.cli import _add_setting_flags, _aware_timestamp, _duration

    ingest = commands.add_parser("ingest", help="HTTP service: events and Alertmanager alerts to the topics")
    for name, text in INGEST_FLAGS.items():
        ingest.add_argument(f"--{name}", dest=f"ingest_{name}", help=text)
    _add_setting_flags(ingest, ["broker", "broker_kind", "partitions"])
    ingest.set_defaults(handler=cmd_ingest)

    importer = commands.add_parser("import", help="events from the tools teams keep their data in")
    sources = importer.add_subparsers(dest="source", required=True, metavar="SOURCE")
    prometheus = sources.add_parser(
        "prometheus",
        help="status events from a 0/1 series (e.g. probe_success), or requests events from two counters",
    )
    prometheus.add_argument("--url", required=True, help="Prometheus base URL, e.g. http://127.0.0.1:9090")
    what = prometheus.add_mutually_exclusive_group(required=True)
    what.add_argument("--query", help="PromQL giving 1 (up) or 0 (down) per service: status events")
    what.add_argument("--total-query", help="PromQL counter of all requests per service: requests events")
    prometheus.add_argument("--failed-query", help="PromQL counter of failed requests (with --total-query)")
    prometheus.add_argument("--service-label", required=True, help="the label naming the service")
    prometheus.add_argument("--from", dest="start", required=True, type=_aware_timestamp, help="RFC 3339")
    prometheus.add_argument("--to", dest="end", required=True, type=_aware_timestamp, help="RFC 3339")
    prometheus.add_argument("--step", type=_duration, help="status events: default 15s (requests: 1m, fixed)")
    output = prometheus.add_mutually_exclusive_group()
    output.add_argument("--out", metavar="FILE", help="write JSON Lines here (default: standard output)")
    output.add_argument("--produce", action="store_true", help="produce them to the topics instead")
    _add_setting_flags(prometheus, ["broker", "broker_kind"])
    prometheus.set_defaults(handler=cmd_import_prometheus)


def cmd_ingest(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from monitor.cli import SettingsError, _fail, _settings, settings_problems
    from monitor.ingest.serve import run_ingest
    from monitor.ingest.settings import IngestSettings

    given = {name: getattr(args, f"ingest_{name}") for name in INGEST_FLAGS}
    try:
        ingest = IngestSettings(**{k: v for k, v in given.items() if v is not None})
        settings = _settings(args)
    except ValidationError as error:
        return _fail(f"invalid setting: {settings_problems(error)}")
    except SettingsError as error:  # caught here: under ``python -m monitor.cli`` main's class differs
        return _fail(f"invalid setting: {error}")
    return run_ingest(settings, ingest)


def cmd_import_prometheus(args: argparse.Namespace) -> int:
    from monitor.cli import _fail
    from monitor.ingest.prometheus import PrometheusError
    from monitor.ingest.series import SeriesError

    if args.end < args.start:
        return _fail("--to is before --from")
    if args.total_query is not None and args.failed_query is None:
        return _fail("--total-query needs --failed-query (the counter of failed requests)")
    if args.query is not None and args.failed_query is not None:
        return _fail("--failed-query goes with --total-query, not with --query")
    try:
        if args.query is not None:
            if args.step is not None and args.step <= timedelta(0):
                return _fail("--step must be positive")
            events = _status_import(args)
        else:
            if args.step is not None:
                return _fail("requests events are per minute: --step is for --query only")
            events = _requests_import(args)
    except (PrometheusError, SeriesError) as error:
        return _fail(str(error))
    return _deliver(args, events)


def _status_import(args: argparse.Namespace) -> list[dict[str, Any]]:
    from monitor.ingest.prometheus import RangeQuery, query_range
    from monitor.ingest.series import status_events
    from monitor.timeutil import span_us, to_us

    step = args.step or timedelta(seconds=15)
    request = RangeQuery(args.query, to_us(args.start), to_us(args.end), span_us(step))
    return status_events(query_range(args.url, request), args.service_label)


def _requests_import(args: argparse.Namespace) -> list[dict[str, Any]]:
    """The counters at every epoch-aligned minute from ``--from`` (rounded up) to ``--to``
    (rounded down)."""
    from monitor.ingest.prometheus import RangeQuery, query_range
    from monitor.ingest.series import MINUTE_US, request_events
    from monitor.timeutil import to_us

    start = -(-to_us(args.start) // MINUTE_US) * MINUTE_US
    end = to_us(args.end) // MINUTE_US * MINUTE_US
    totals = query_range(args.url, RangeQuery(args.total_query, start, end, MINUTE_US))
    failures = query_range(args.url, RangeQuery(args.failed_query, start, end, MINUTE_US))
    events, capped = request_events(totals, failures, args.service_label)
    if capped:
        print(f"{capped} minute(s) had more failed requests than requests: capped", file=sys.stderr)
    return events


def _deliver(args: argparse.Namespace, events: Sequence[dict[str, Any]]) -> int:
    """Write the events as JSON Lines (``--out`` or standard output), or produce them."""
    from monitor.cli import _fail, _settings

    lines = [orjson.dumps(event) + b"\n" for event in events]
    if args.produce:
        import asyncio

        from monitor.cli import SettingsError
        from monitor.produce import produce_lines

        try:
            settings = _settings(args)
        except SettingsError as error:  # see cmd_ingest
            return _fail(f"invalid setting: {error}")
        sent = asyncio.run(produce_lines(settings, lines))
        summary = ", ".join(f"{topic}: {count}" for topic, count in sorted(sent.items())) or "nothing"
        print(f"produced {summary}", file=sys.stderr)
        return 0
    if args.out is None:
        sys.stdout.buffer.write(b"".join(lines))
        sys.stdout.flush()
    else:
        try:
            Path(args.out).write_bytes(b"".join(lines))
        except OSError as error:
            return _fail(f"cannot write {args.out}: {error.strerror}")
    print(f"{len(lines)} event(s)", file=sys.stderr)
    return 0
