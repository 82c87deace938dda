"""A response-time clause explained: each ticket of the period with its deadline and the events
that decided it (SPEC.md sections 4 and 14)."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from monitor.contract import Clause, Contract, ResponseTimeClause
from monitor.engine.business_hours import AlwaysOpen, CalendarHours, OpenHours
from monitor.engine.calendar import ContractCalendar
from monitor.engine.response import KEPT_TICKET_LINES, TICKET_ID_REUSE_AFTER_US, ResponseClauseState
from monitor.engine.ticket_clock import PauseLog, deadline, decisive_toggles
from monitor.events import Event, TicketEvent
from monitor.explain.common import ClauseContext
from monitor.explain.kinds import Derived
from monitor.explain.model import Section, Step
from monitor.timeutil import span_us, to_us
from monitor.wording import duration_words

OLD_LEDGER_TICKETS = (
    "The ledger was written before the counted tickets and the ids of their events were kept: it "
    "lists the missed tickets only, without ids. `slamon explain --events FILE` lists every ticket "
    "with its events."
)


@dataclass
class TicketStory:
    ticket_id: str
    opened: tuple[int, str, str | None]  # (at, event id, priority) of its first `opened`
    measure: tuple[int, str] | None = None  # its first `responded`/`resolved` (the clause's measure)


class ResponseExplainer:
    def relevant(self, contract: Contract, clause: Clause, event: Event) -> bool:
        return isinstance(event, TicketEvent) and event.contract == contract.id

    def terms(self, ctx: ClauseContext) -> list[Step]:
        clause = _response(ctx)
        which = ", ".join(clause.priorities) if clause.priorities else "all priorities"
        return [
            Step(
                f"Tickets opened in the period ({which}) must be {clause.measure} within "
                f"{duration_words(clause.within)} of their first `opened` event."
            )
        ]

    # from the events ---------------------------------------------------------------------
    def from_events(self, ctx: ClauseContext, events: Sequence[Event]) -> Derived:
        clause = _response(ctx)
        within = span_us(clause.within)
        calendar = ContractCalendar(ctx.contract)
        tickets = [e for e in events if isinstance(e, TicketEvent)]
        # as the engine: nothing is decided after the period settled, a later response not shown
        settles = ResponseClauseState(ctx.contract, clause, calendar).settles_at(ctx.period)
        limit = min(ctx.clock, settles)
        steps, skipped = [], []
        counted = on_time = 0
        for story in ticket_stories(tickets, clause.measure, within):
            opened_at, opened_id, priority = story.opened
            if calendar.key_of(opened_at) != ctx.period or opened_at >= ctx.clock:
                continue
            if clause.priorities is not None and priority not in clause.priorities:
                skipped.append(
                    Step(f"Not counted: {story.ticket_id} has priority {priority or 'none'}.", (opened_id,))
                )
                continue
            measure = story.measure if story.measure is not None and story.measure[0] <= settles else None
            due, toggles = _deadline(ctx.contract, clause, story, tickets, measure[0] if measure else None)
            ids = (opened_id, *toggles) + ((measure[1],) if measure is not None else ())
            line = TicketWords(story.ticket_id, priority, opened_at, due, measure[0] if measure else None)
            if measure is not None and (due is None or measure[0] <= due) and measure[0] <= limit:
                counted, on_time = counted + 1, on_time + 1
                steps.append(ticket_step(ctx, line, True, ids))
            elif due is not None and limit > due:
                counted += 1
                steps.append(ticket_step(ctx, line, False, ids))
            else:
                steps.append(Step(f"{line.head(ctx)}: not decided at the clock, not counted yet.", ids))
        return self._derived(steps + skipped, counted, on_time)

    # from the ledger ---------------------------------------------------------------------
    def from_details(self, ctx: ClauseContext, details: dict[str, Any]) -> Derived:
        data = details["details"]
        if "tickets" not in data:
            return self._from_older_details(ctx, data)
        steps, missing = [], []
        for ticket_id, priority, opened, opened_id, measure, measure_id, due, on_time, toggles in data[
            "tickets"
        ]:
            line = TicketWords(ticket_id, priority, opened, due, measure)
            ids = (opened_id, *toggles) + ((measure_id,) if measure_id is not None else ())
            steps.append(ticket_step(ctx, line, on_time, ids))
            if measure is not None and measure_id is None:
                missing.append(ticket_id)
        derived = self._derived(steps, data["counted"], data["on_time"])
        notes = derived.sections[-1].steps
        if missing:
            notes.append(
                Step(
                    f"The ledger has no id of the {_response(ctx).measure} event of {', '.join(missing)}: "
                    "the worker restored a snapshot written before those ids were kept. "
                    "`slamon explain --events FILE` names them."
                )
            )
        more = data["counted"] - len(steps)
        if more > 0:
            notes.append(
                Step(
                    f"… and {more} more counted tickets: the ledger lists the first {len(steps)} by ticket "
                    "id. `slamon explain --events FILE` lists every ticket."
                    if len(steps) >= KEPT_TICKET_LINES
                    else f"The ledger has no ids of {more} counted tickets: they were counted before the "
                    "worker restored a snapshot written before the ids were kept. "
                    "`slamon explain --events FILE` lists every ticket."
                )
            )
        return derived

    def _from_older_details(self, ctx: ClauseContext, data: dict[str, Any]) -> Derived:
        """A ledger written before the counted tickets were kept: its missed tickets, no ids."""
        within = data["within_us"]
        steps = [
            Step(
                f"{ticket_id} ({priority or 'no priority'}) opened {ctx.both(opened)}, deadline "
                f"{ctx.both(rest[0] if rest else opened + within)}: "
                + (f"{_response(ctx).measure} {ctx.both(measure)}" if measure is not None else "no response")
                + ", missed."
            )
            for ticket_id, priority, opened, measure, *rest in data["missed"]
        ]
        derived = self._derived(steps, data["counted"], data["on_time"])
        derived.sections[-1].steps.append(Step(OLD_LEDGER_TICKETS))
        return derived

    def _derived(self, steps: list[Step], counted: int, on_time: int) -> Derived:
        attained = Fraction(100) if counted == 0 else Fraction(100 * on_time, counted)
        summary = Step(f"Counted {counted}, on time {on_time}, missed {counted - on_time}.")
        formula = Step(
            f"attained = 100 × {on_time} / {counted}"
            + (" (100 when none is counted)" if counted == 0 else "")
            + "."
        )
        return Derived([Section("Tickets", [*steps, summary])], attained, formula)


@dataclass(frozen=True)
class TicketWords:
    """What a ticket's step says: the ticket, its deadline (None: paused short of it) and its
    first measure event (None: none, or none before its period settled)."""

    ticket_id: str
    priority: str | None
    opened: int
    deadline: int | None
    measure: int | None

    def head(self, ctx: ClauseContext) -> str:
        due = (
            f"deadline {ctx.both(self.deadline)}" if self.deadline is not None else "no deadline yet (paused)"
        )
        return f"{self.ticket_id} ({self.priority or 'no priority'}) opened {ctx.both(self.opened)}, {due}"


def ticket_step(ctx: ClauseContext, line: TicketWords, on_time: bool, ids: tuple[str, ...]) -> Step:
    """A counted ticket, on time or missed, resting on the ids of its first `opened`, the pauses
    and resumes before its deadline that paused or resumed it, and its first measure event."""
    measure = _response(ctx).measure
    answer = f"{measure} {ctx.both(line.measure)}" if line.measure is not None else f"not {measure}"
    return Step(f"{line.head(ctx)}: {answer}, {'on time' if on_time else 'missed'}.", ids)


def _deadline(
    contract: Contract,
    clause: ResponseTimeClause,
    story: TicketStory,
    tickets: Sequence[TicketEvent],
    measure: int | None,
) -> tuple[int | None, list[str]]:
    """The ticket's deadline in counted time (SPEC.md section 10): the clause's calendar and,
    on a pausable clause, the ticket's pauses before its first ``measure`` (later ones change
    neither the verdict nor, as the engine keeps it, the deadline shown); elapsed time without
    them. With it, the ids of the pauses and resumes before it that paused or resumed the ticket."""
    opened_at = story.opened[0]
    within = span_us(clause.within)
    hours: OpenHours = AlwaysOpen()
    if clause.calendar is not None:
        hours = CalendarHours(contract.calendars[clause.calendar], contract.zone)
    log = PauseLog()
    if clause.pausable:
        for event in tickets:
            before = measure is None or to_us(event.at) < measure
            if event.ticket_id == story.ticket_id and event.action in ("paused", "resumed") and before:
                log.add((to_us(event.at), event.event_id, event.action == "paused"))
    due = deadline(opened_at, log, within, hours)
    return due, decisive_toggles(opened_at, log if log.toggles else None, due)


def ticket_stories(events: Sequence[TicketEvent], measure: str, within: int) -> Iterator[TicketStory]:
    """Each ticket's first `opened` and first measure event, as the engine keeps them; an event
    more than 62 days after a ticket's first `opened` (and past its deadline) starts a new
    ticket with the same id."""
    by_id: dict[str, list[TicketEvent]] = {}
    for event in events:
        by_id.setdefault(event.ticket_id, []).append(event)
    for ticket_id, found in sorted(by_id.items()):
        story: TicketStory | None = None
        pending_measure: tuple[int, str] | None = None
        for event in sorted(found, key=lambda e: (to_us(e.at), e.event_id)):
            at = to_us(event.at)
            if story is not None and at > story.opened[0] + max(TICKET_ID_REUSE_AFTER_US, within):
                yield story
                story, pending_measure = None, None
            if event.action == "opened":
                if story is None:
                    story = TicketStory(ticket_id, (at, event.event_id, event.priority), pending_measure)
            elif event.action == measure:
                if story is None:
                    pending_measure = pending_measure or (at, event.event_id)
                elif story.measure is None:
                    story.measure = (at, event.event_id)
        if story is not None:
            yield story


def _response(ctx: ClauseContext) -> ResponseTimeClause:
    assert isinstance(ctx.clause, ResponseTimeClause)
    return ctx.clause
