"""Uptime clause: downtime outside excluded time, per period, with the ``min_outage`` rule."""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from monitor.contract import Contract, UptimeClause
from monitor.engine.calendar import ContractCalendar, PeriodKey
from monitor.engine.exclusion import ServiceExclusions
from monitor.engine.intervals import Interval, covered
from monitor.engine.schedule import MaintenanceSchedule
from monitor.engine.tally import EventTally
from monitor.engine.timeline import EndedSpan, Segment, ServiceTimeline
from monitor.timeutil import span_us

OUTAGE_HISTORY_US = 70 * 86400 * 1_000_000  # outage lines kept for statements: two months and more
# (span start, span end, downtime counted in the period, id of the status event that started
# the span, id of the one that ended it): an id is None for a span still down (its end) or one
# that began before a snapshot that kept no ids
OutageLine = tuple[int, int, int, str | None, str | None]


@dataclass(frozen=True)
class UptimeFigures:
    """Eligible and down microseconds of a period (or of its part before the clock)."""

    eligible: int
    downtime: int

    @property
    def attained(self) -> Fraction:
        if self.eligible <= 0:
            return Fraction(100)
        return Fraction(100 * (self.eligible - self.downtime), self.eligible)


@dataclass(frozen=True)
class ClauseFigures:
    periods: dict[PeriodKey, UptimeFigures]
    undecided: set[PeriodKey]


@dataclass
class _SpanProgress:
    """Downtime of the down span still open at the settled point, until it is known to count."""

    qualified: bool = False
    held: dict[PeriodKey, int] = field(default_factory=dict)


class UptimeClauseState:
    def __init__(
        self,
        contract: Contract,
        clause: UptimeClause,
        calendar: ContractCalendar,
        schedule: MaintenanceSchedule,
        timeline: ServiceTimeline,
    ) -> None:
        self.contract = contract
        self.clause = clause
        self.calendar = calendar
        self.timeline = timeline
        self._exclusions = ServiceExclusions(contract, clause.exclude_maintenance, schedule, timeline)
        self._min_outage = span_us(clause.min_outage)
        self.downtime: dict[PeriodKey, int] = {}
        self.frozen: dict[PeriodKey, UptimeFigures] = {}
        self._open_span = _SpanProgress()
        self._first_open: PeriodKey | None = None  # earliest period not frozen yet
        self._all_frozen = False
        self._next_freeze_at = calendar.starts_at  # end of ``_first_open``, once known
        self.outages: dict[PeriodKey, list[OutageLine]] = {}  # settled spans that count, per period
        self.received = EventTally(calendar)  # status and maintenance events of the service

    # excluded time -----------------------------------------------------------------
    def excluded(self, lo: int, hi: int) -> list[Interval]:
        return self._exclusions.excluded(lo, hi)

    def figures(self, key: PeriodKey, clock: int, downtime: int) -> UptimeFigures:
        start, end = self.calendar.bounds(key)
        end = min(end, clock)
        eligible = (end - start) - covered(self.excluded(start, end), start, end)
        return UptimeFigures(eligible, downtime)

    # sweeping status segments ------------------------------------------------------
    def _effective_down(self, lo: int, hi: int) -> dict[PeriodKey, int]:
        per_period: dict[PeriodKey, int] = {}
        for key, a, b in self.calendar.pieces(lo, hi):
            down = (b - a) - covered(self.excluded(a, b), a, b)
            if down:
                per_period[key] = per_period.get(key, 0) + down
        return per_period

    def sweep(
        self,
        segments: list[Segment],
        down_since: int | None,
        *,
        downtime: dict[PeriodKey, int],
        span: _SpanProgress,
    ) -> None:
        """Add the counted downtime of ``segments`` into ``downtime``.

        A span still down at the end is left open: its downtime is held in ``span`` until
        its length reaches ``min_outage``.
        """
        span_start = down_since
        for a, b, is_down in segments:
            if not is_down:
                if span_start is not None:
                    _end_span(span)
                    span_start = None
                continue
            if span_start is None:
                span_start = a
            pieces = self._effective_down(a, b)
            if span.qualified:
                _add_into(downtime, pieces)
                continue
            _add_into(span.held, pieces)
            if b - span_start >= self._min_outage:
                span.qualified = True
                _add_into(downtime, span.held)
                span.held = {}
        if span_start is None:
            _end_span(span)

    def fold(self, lo: int, hi: int) -> None:
        """Fold the settled segment ``[lo, hi)`` into the running totals."""
        if self.timeline.has_down_before(hi):
            self.sweep(
                self.timeline.segments(lo, hi),
                self.timeline.down_since,
                downtime=self.downtime,
                span=self._open_span,
            )

    def freeze_final(self, settled: int) -> None:
        """Periods that ended by the settled point can no longer change: keep only their figures.

        A period holding part of a down span not yet known to reach ``min_outage`` waits.
        """
        if self._all_frozen or settled < self._next_freeze_at:
            return
        for key in self.calendar.keys_from(self._first_open):
            end = self.calendar.bounds(key)[1]
            if end > settled or key in self._open_span.held:
                self._first_open, self._next_freeze_at = key, end
                return
            self.frozen[key] = self.figures(key, settled, self.downtime.pop(key, 0))
        self._all_frozen = True  # the contract has ended and every period is final

    def downtime_until(
        self, clock: int, settled: int | None
    ) -> tuple[dict[PeriodKey, int], dict[PeriodKey, int]]:
        """Downtime per period counted before ``clock``, and the downtime held by a down span
        open at the clock that is still shorter than ``min_outage`` (it counts once it is not)."""
        downtime = dict(self.downtime)
        span = _SpanProgress(self._open_span.qualified, dict(self._open_span.held))
        if settled is not None and clock > settled and self.timeline.has_down_before(clock):
            self.sweep(
                self.timeline.segments(settled, clock),
                self.timeline.down_since,
                downtime=downtime,
                span=span,
            )
        return downtime, span.held

    def whole_period_eligible(self, key: PeriodKey) -> int:
        """Eligible time of the whole period, with the maintenance known so far."""
        return self.figures(key, self.calendar.bounds(key)[1], 0).eligible

    # outage lines (for statements) -----------------------------------------------------
    def record_outages(self, spans: list[EndedSpan]) -> None:
        """Keep the settled down spans that count (``min_outage``), split by period."""
        for span in spans:
            if span[1] - span[0] >= self._min_outage:
                self._add_outage(self.outages, span)
        if spans:
            horizon = self.calendar.key_of(spans[-1][1] - OUTAGE_HISTORY_US)
            if horizon is not None:
                self.outages = {key: lines for key, lines in self.outages.items() if key >= horizon}

    def _add_outage(self, target: dict[PeriodKey, list[OutageLine]], span: EndedSpan) -> None:
        start, end, start_event, end_event = span
        for key, a, b in self.calendar.pieces(start, end):
            counted = (b - a) - covered(self.excluded(a, b), a, b)
            target.setdefault(key, []).append((start, end, counted, start_event, end_event))

    def outages_until(self, clock: int) -> tuple[dict[PeriodKey, list[OutageLine]], int | None]:
        """Outage lines before ``clock``: the settled ones and those in front of the settled
        point; a span still down at the clock ends there (its start is returned as open), one
        that an "up" at the clock ends is not open."""
        lines = {key: list(found) for key, found in self.outages.items()}
        timeline = self.timeline
        span: tuple[int, str | None] | None = None
        if timeline.down_before and timeline.down_since is not None:
            span = (timeline.down_since, timeline.down_since_event)
        for at, event_id, is_down in timeline.decisive_changes(clock + 1):  # an "up" at the clock ends a span
            if is_down and span is None and at < clock:
                span = (at, event_id)
            elif not is_down and span is not None:
                if at - span[0] >= self._min_outage:
                    self._add_outage(lines, (span[0], at, span[1], event_id))
                span = None
        open_start = None
        if span is not None and clock - span[0] >= self._min_outage:
            self._add_outage(lines, (span[0], clock, span[1], None))
            open_start = span[0]
        return lines, open_start

    def excluded_lines(self, key: PeriodKey, clock: int) -> list[tuple[int, int, str]]:
        """The maintenance excluded from a period before ``clock``: scheduled and announced."""
        start, end = self.calendar.bounds(key)
        return self._exclusions.lines(start, min(end, clock))

    def announcements_in(self, key: PeriodKey, clock: int) -> list[tuple[int, int, int, str]]:
        """The maintenance announcements of the service overlapping a period before ``clock``
        (with or without enough notice), for explanations; none when maintenance is not excluded."""
        if not self.clause.exclude_maintenance:
            return []
        start, end = self.calendar.bounds(key)
        hi = min(end, clock)
        return [a for a in self.timeline.announcements if a[0] < hi and a[1] > start]

    def results(self, clock: int, settled: int | None) -> ClauseFigures:
        """Figures of every period started before ``clock``, over its part before ``clock``.

        A down span still open at the clock ends there; periods holding part of it while it
        is shorter than ``min_outage`` are undecided and so not final.
        """
        downtime, held = self.downtime_until(clock, settled)
        undecided = set(held)
        figures: dict[PeriodKey, UptimeFigures] = {}
        for key in self.calendar.started_before(clock):
            frozen = self.frozen.get(key)
            figures[key] = frozen or self.figures(key, clock, downtime.get(key, 0))
        return ClauseFigures(figures, undecided)

    def is_final(self, key: PeriodKey, clock: int, lateness: int, undecided: set[PeriodKey]) -> bool:
        return clock >= self.calendar.bounds(key)[1] + lateness and key not in undecided


def _end_span(span: _SpanProgress) -> None:
    """A span that never reached ``min_outage`` is ignored: drop what it held."""
    span.qualified = False
    span.held = {}


def _add_into(target: dict[PeriodKey, int], source: dict[PeriodKey, int]) -> None:
    for key, value in source.items():
        target[key] = target.get(key, 0) + value
