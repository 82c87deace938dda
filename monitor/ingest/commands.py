"""The command-line parts of ingest: ``slamon ingest`` and ``slamon import prometheus``."""

from __future__ import annotations

import argparse
from typing import Any

INGEST_FLAGS = {
    "host": "address to listen on (SLAMON_INGEST_HOST; default 127.0.0.1, others need tokens)",
    "port": "port to listen on (SLAMON_INGEST_PORT; default 8088)",
}


def add_commands(commands: Any) -> None:
    """Register ``ingest`` and ``import`` on the ``slamon`` sub-command parser."""
    from monitor.cli import _add_setting_flags

    ingest = commands.add_parser("ingest", help="HTTP service: events and Alertmanager alerts to the topics")
    for name, text in INGEST_FLAGS.items():
        ingest.add_argument(f"--{name}", dest=f"ingest_{name}", help=text)
    _add_setting_flags(ingest, ["broker", "broker_kind", "partitions"])
    ingest.set_defaults(handler=cmd_ingest)


def cmd_ingest(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from monitor.cli import SettingsError, _settings, settings_problems
    from monitor.ingest.serve import run_ingest
    from monitor.ingest.settings import IngestSettings

    given = {name: getattr(args, f"ingest_{name}") for name in INGEST_FLAGS}
    try:
        ingest = IngestSettings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as error:
        raise SettingsError(settings_problems(error)) from None
    return run_ingest(_settings(args), ingest)
