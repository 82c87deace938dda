"""``slamon replay``: the engine driven over a JSON Lines file read as one partition."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from monitor.contract import Contract
from monitor.engine import DEFAULT_LATENESS, DEFAULT_MAX_FUTURE_SKEW, Engine, Outcome
from monitor.engine.core import APPLIED
from monitor.events import InvalidEvent, decode_event
from monitor.timeutil import format_instant, span_us, to_us


class ReplayError(ValueError):
    pass


@dataclass
class ReplayReport:
    records: list[dict[str, Any]]
    outcomes: Counter[Outcome] = field(default_factory=Counter)
    invalid_lines: list[tuple[int, str]] = field(default_factory=list)
    future_lines: list[tuple[int, str]] = field(default_factory=list)
    late_lines: list[tuple[int, str]] = field(default_factory=list)
    watermark: int | None = None
    notices: list[dict[str, Any]] = field(default_factory=list)


def run_engine(
    engine: Engine, lines: Iterable[bytes | str], report: ReplayReport, not_after: int | None = None
) -> None:
    """Feed non-blank lines to the engine, counting every outcome and noting invalid lines, late
    lines and lines refused as ``future`` (after ``not_after``, microseconds since the epoch)."""
    apply, decode, applied_verdict = engine.apply, decode_event, APPLIED  # (locals: per line)
    tally: dict[Outcome, int] = dict.fromkeys(Outcome, 0)
    applied = 0  # most lines: counted apart, by the engine's one APPLIED verdict
    for number, line in enumerate(lines, start=1):
        try:
            verdict = apply(decode(line), not_after)
        except InvalidEvent as error:
            if line.strip():
                tally[Outcome.INVALID] += 1
                report.invalid_lines.append((number, error.reason))
            continue
        if verdict is applied_verdict:
            applied += 1
            continue
        outcome = verdict.outcome
        tally[outcome] += 1
        if outcome is Outcome.INVALID:
            report.invalid_lines.append((number, verdict.reason or "invalid"))
        elif outcome is Outcome.FUTURE:
            report.future_lines.append((number, verdict.reason or "future"))
        elif outcome is Outcome.LATE:
            report.late_lines.append((number, verdict.reason or "late"))
    tally[Outcome.APPLIED] += applied
    report.outcomes.update({outcome: count for outcome, count in tally.items() if count})


def replay(
    contracts: Sequence[Contract],
    lines: Iterable[bytes | str],
    as_of: datetime | None = None,
    allowed_lateness: timedelta = DEFAULT_LATENESS,
    max_future_skew: timedelta = DEFAULT_MAX_FUTURE_SKEW,
) -> ReplayReport:
    """Results as SPEC.md section 5 says. With ``as_of``, events whose ``at`` is more than
    ``max_future_skew`` after it are refused as ``future``, as the live worker refuses those
    ahead of its wall clock; without it, a file has no clock to be ahead of."""
    engine = Engine(contracts, allowed_lateness)
    report = ReplayReport(records=[])
    not_after = to_us(as_of) + span_us(max_future_skew) if as_of is not None else None
    run_engine(engine, lines, report, not_after)
    report.watermark = engine.watermark
    clock = engine.watermark
    if as_of is not None:
        clock = to_us(as_of)
        if engine.watermark is not None and clock < engine.watermark:
            raise ReplayError(
                f"--as-of {as_of.isoformat()} is earlier than the events' watermark "
                f"{format_instant(engine.watermark)}"
            )
    if clock is not None:
        engine.advance_to(clock)  # closes the periods final by then: their notices
    report.records = [result.to_record() for result in engine.results(clock)]
    report.notices = [notice.to_record() for notice in engine.take_notices()]
    return report
