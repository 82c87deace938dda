"""An uptime clause explained: excluded windows with their sources, the outages that count with
the events at their edges, and eligible time against downtime (SPEC.md sections 4 and 14)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from fractions import Fraction
from typing import Any

from monitor.contract import Clause, Contract, UptimeClause
from monitor.engine.calendar import ContractCalendar
from monitor.engine.intervals import Interval, clip, covered, merge
from monitor.engine.schedule import MaintenanceSchedule
from monitor.events import Event, MaintenanceEvent, StatusEvent
from monitor.explain.common import ClauseContext, minutes
from monitor.explain.kinds import Derived
from monitor.explain.model import Section, Step
from monitor.timeutil import span_us, to_us
from monitor.wording import duration_words

OLD_LEDGER = "the ledger was written before they were kept"
NOT_KEPT = "the outage began before the worker restored a snapshot written before they were kept"


@dataclass(frozen=True)
class DownSpan:
    start: int
    start_event: str
    end: int | None  # None: still down at the clock
    end_event: str | None


class UptimeExplainer:
    def relevant(self, contract: Contract, clause: Clause, event: Event) -> bool:
        assert isinstance(clause, UptimeClause)
        return isinstance(event, StatusEvent | MaintenanceEvent) and event.service == clause.service

    def terms(self, ctx: ClauseContext) -> list[Step]:
        clause = _uptime(ctx)
        notice = ctx.contract.maintenance.announced_min_notice
        steps = [
            Step(
                f"Service {clause.service!r}; outages shorter than "
                f"{duration_words(clause.min_outage)} are ignored."
            ),
            Step(
                "Scheduled and announced maintenance is excluded."
                if clause.exclude_maintenance
                else "Maintenance is not excluded (exclude_maintenance: false)."
            ),
        ]
        if clause.exclude_maintenance:
            steps.append(
                Step(
                    f"Announced maintenance counts with at least {duration_words(notice)} notice."
                    if notice is not None
                    else "Announced maintenance is not excluded: the contract sets no announced_min_notice."
                )
            )
        return steps

    # from the events ---------------------------------------------------------------------
    def from_events(self, ctx: ClauseContext, events: Sequence[Event]) -> Derived:
        clause = _uptime(ctx)
        lo, hi = ctx.start, ctx.until
        statuses = sorted(
            (to_us(e.at), e.event_id, e.status == "down") for e in events if isinstance(e, StatusEvent)
        )
        announced = [
            (to_us(e.start), to_us(e.end), to_us(e.at), e.event_id)
            for e in events
            if isinstance(e, MaintenanceEvent)
        ]
        window_steps, excluded = self._excluded(ctx, announced)
        outage_steps: list[Step] = []
        downtime = 0
        for span in down_spans(statuses):
            end = span.end if span.end is not None else ctx.clock
            if end <= lo or span.start >= hi:
                continue
            length = end - span.start
            edges = (span.start_event,) if span.end_event is None else (span.start_event, span.end_event)
            if length < span_us(clause.min_outage):
                outage_steps.append(
                    Step(
                        f"Ignored: down from {ctx.both(span.start)} to {_until(ctx, end, span.end is None)}, "
                        f"{minutes(length)} min is shorter than min_outage.",
                        edges,
                    )
                )
                continue
            counted = sum(b - a - covered(excluded, a, b) for a, b in clip([(span.start, end)], lo, hi))
            downtime += counted
            outage_steps.append(outage_step(ctx, span.start, end, counted, span.end is None, edges))
        return self._derived(ctx, window_steps, excluded, outage_steps, downtime)

    def _excluded(
        self, ctx: ClauseContext, announced: Sequence[Sequence[Any]]
    ) -> tuple[list[Step], list[Interval]]:
        if not _uptime(ctx).exclude_maintenance:
            return [], []
        return excluded_windows(ctx, announced)

    # from the ledger ---------------------------------------------------------------------
    def from_details(self, ctx: ClauseContext, details: dict[str, Any]) -> Derived:
        data = details["details"]
        if "announcements" in data:  # the announcements themselves, with their event ids
            window_steps, excluded = self._excluded(ctx, data["announcements"])
        else:  # a ledger written before they were kept: the merged windows only
            window_steps = recorded_windows(ctx, data["maintenance"])
            excluded = merge((start, end) for start, end, _ in data["maintenance"])
        lines = data["outages"]
        found = data.get("outage_events")
        edges = found if found is not None and len(found) == len(lines) else [[None, None]] * len(lines)
        outage_steps, missing = [], []
        for (start, end, counted, still_open), (start_event, end_event) in zip(lines, edges, strict=True):
            ids = [start_event] if still_open else [start_event, end_event]
            outage_steps.append(outage_step(ctx, start, end, counted, still_open, tuple(i for i in ids if i)))
            if None in ids:
                missing.append(ctx.both(start))
        downtime = sum(counted for _, _, counted, _ in lines)
        derived = self._derived(ctx, window_steps, excluded, outage_steps, downtime)
        if missing:
            why = OLD_LEDGER if found is None else NOT_KEPT
            derived.sections[-1].steps.append(
                Step(
                    f"The ledger has no ids of the status events at the edges of the outage(s) from "
                    f"{', '.join(missing)}: {why}. `slamon explain --events FILE` names them."
                )
            )
        return derived

    # both ------------------------------------------------------------------------------------
    def _derived(
        self,
        ctx: ClauseContext,
        window_steps: list[Step],
        excluded: list[Interval],
        outage_steps: list[Step],
        downtime: int,
    ) -> Derived:
        lo, hi = ctx.start, ctx.until
        excluded_us = covered(merge(excluded), lo, hi)
        eligible = (hi - lo) - excluded_us
        attained = Fraction(100) if eligible <= 0 else Fraction(100 * (eligible - downtime), eligible)
        if window_steps:
            window_steps = [
                *window_steps,
                Step(f"Excluded in total (overlaps once): {minutes(excluded_us)} min."),
            ]
        windows = Section("Excluded windows", window_steps, empty="No time excluded.")
        outages = Section("Outages counted", outage_steps, empty="No outage.")
        formula = Step(
            f"Eligible time: {minutes(hi - lo)} − {minutes(excluded_us)} = {minutes(eligible)} min; downtime "
            f"{minutes(downtime)} min. attained = 100 × ({minutes(eligible)} − {minutes(downtime)}) / "
            f"{minutes(eligible)}" + (" (100 when nothing is eligible)" if eligible <= 0 else "") + "."
        )
        return Derived([windows, outages], attained, formula)


def outage_step(
    ctx: ClauseContext, start: int, end: int, counted: int, still_open: bool, edges: tuple[str, ...]
) -> Step:
    """A counted outage (``end``: the clock when it is still down), resting on the ids of the
    status events at its edges."""
    return Step(
        f"Outage from {ctx.both(start)} to {_until(ctx, end, still_open)}: {minutes(end - start)} min; "
        f"counted in {ctx.period} outside excluded time: {minutes(counted)} min.",
        edges,
    )


def _until(ctx: ClauseContext, end: int, still_open: bool) -> str:
    return f"still down at the clock {ctx.both(end)}" if still_open else ctx.both(end)


def excluded_windows(
    ctx: ClauseContext, announced: Sequence[Sequence[Any]]
) -> tuple[list[Step], list[Interval]]:
    """The scheduled windows and the announcements (start, end, announced at, event id) of the
    period, each named by its source, and the excluded time they make (merged)."""
    lo, hi = ctx.start, ctx.until
    steps, intervals = scheduled_windows(ctx)
    notice = ctx.contract.maintenance.announced_min_notice
    for start, end, at, event_id in sorted(tuple(a) for a in announced):
        if start >= hi or end <= lo:
            continue
        given = start - at
        window = f"{ctx.both(start)} to {ctx.both(end)}"
        if notice is None or given < span_us(notice):
            required = "none is accepted" if notice is None else f"{duration_words(notice)} required"
            steps.append(
                Step(
                    f"Not excluded: maintenance {window} announced {_ahead(given)} ahead ({required}).",
                    (event_id,),
                )
            )
            continue
        piece = clip([(start, end)], lo, hi)[0]
        intervals.append(piece)
        steps.append(
            Step(
                f"Announced maintenance {window}, announced {_ahead(given)} ahead: "
                f"{minutes(piece[1] - piece[0])} min in the period.",
                (event_id,),
            )
        )
    return steps, merge(intervals)


def scheduled_windows(ctx: ClauseContext) -> tuple[list[Step], list[Interval]]:
    """The contract's scheduled maintenance in the period: occurrence and window index of each."""
    schedule = MaintenanceSchedule(ctx.contract, ContractCalendar(ctx.contract))
    steps, intervals = [], []
    for index, start, end, local in schedule.sources(ctx.start, ctx.until):
        window = ctx.contract.maintenance.windows[index]
        source = (
            f"occurrence {local} of maintenance.windows[{index}] ({getattr(window, 'rrule', '')})"
            if local is not None
            else f"one-off window maintenance.windows[{index}]"
        )
        steps.append(
            Step(f"Scheduled: {ctx.both(start)} to {ctx.both(end)}, {minutes(end - start)} min, {source}.")
        )
        intervals.append((start, end))
    return steps, intervals


def recorded_windows(ctx: ClauseContext, lines: Sequence[Sequence[Any]]) -> list[Step]:
    """The scheduled windows with their sources and the announced maintenance a ledger's
    ``maintenance`` lines (start, end, ``scheduled``|``announced``) hold, without event ids."""
    steps, _ = scheduled_windows(ctx)
    for start, end, kind in lines:
        if kind != "scheduled":
            steps.append(
                Step(
                    f"Announced maintenance {ctx.both(start)} to {ctx.both(end)}: {minutes(end - start)} min."
                )
            )
    return steps


def down_spans(statuses: Sequence[tuple[int, str, bool]]) -> list[DownSpan]:
    """Maximal down spans of sorted (at, event id, down) changes: at one instant the last one
    (by event id) decides; before the first change the service is up."""
    spans: list[DownSpan] = []
    down_since: tuple[int, str] | None = None
    index = 0
    while index < len(statuses):
        at = statuses[index][0]
        while index + 1 < len(statuses) and statuses[index + 1][0] == at:
            index += 1
        _, event_id, is_down = statuses[index]
        if is_down and down_since is None:
            down_since = (at, event_id)
        elif not is_down and down_since is not None:
            spans.append(DownSpan(down_since[0], down_since[1], at, event_id))
            down_since = None
        index += 1
    if down_since is not None:
        spans.append(DownSpan(down_since[0], down_since[1], None, None))
    return spans


def _ahead(span: int) -> str:
    return duration_words(timedelta(microseconds=span)) if span >= 0 else "after it started"


def _uptime(ctx: ClauseContext) -> UptimeClause:
    assert isinstance(ctx.clause, UptimeClause)
    return ctx.clause
