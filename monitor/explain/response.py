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
from monitor.engine.response import TICKET_ID_REUSE_AFTER_US
from monitor.engine.ticket_clock import PauseLog, deadline
from monitor.events import Event, TicketEvent
from monitor.explain.common import ClauseContext
from monitor.explain.kinds import Derived
from monitor.explain.model import Section, Step
from monitor.timeutil import span_us, to_us
from monitor.wording import duration_words

LEDGER_TICKETS = (
    "The ledger keeps the counts and the missed tickets, not the tickets on time nor the ids of "
    "the events behind them: `slamon explain --events FILE` lists every ticket with its events."
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
            due = _deadline(ctx.contract, clause, story, tickets)
            ids = (opened_id,) if story.measure is None else (opened_id, story.measure[1])
            head = f"{story.ticket_id} ({priority or 'no priority'}) opened {ctx.both(opened_at)}, " + (
                f"deadline {ctx.both(due)}" if due is not None else "no deadline yet (paused)"
            )
            measure = story.measure
            if measure is not None and (due is None or measure[0] <= due) and measure[0] <= ctx.clock:
                counted, on_time = counted + 1, on_time + 1
                steps.append(Step(f"{head}: {clause.measure} {ctx.both(measure[0])}, on time.", ids))
            elif due is not None and ctx.clock > due:
                counted += 1
                late = (
                    f"{clause.measure} {ctx.both(measure[0])}"
                    if measure is not None
                    else f"not {clause.measure}"
                )
                steps.append(Step(f"{head}: {late}, missed.", ids))
            else:
                steps.append(Step(f"{head}: not decided at the clock, not counted yet.", ids))
        return self._derived(steps + skipped, counted, on_time)

    # from the ledger ---------------------------------------------------------------------
    def from_details(self, ctx: ClauseContext, details: dict[str, Any]) -> Derived:
        data = details["details"]
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
        derived.sections[-1].steps.append(Step(LEDGER_TICKETS))
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


def _deadline(
    contract: Contract, clause: ResponseTimeClause, story: TicketStory, tickets: Sequence[TicketEvent]
) -> int | None:
    """The ticket's deadline in counted time (SPEC.md section 10): the clause's calendar and,
    on a pausable clause, the ticket's pauses; elapsed time without them."""
    opened_at = story.opened[0]
    within = span_us(clause.within)
    hours: OpenHours = AlwaysOpen()
    if clause.calendar is not None:
        hours = CalendarHours(contract.calendars[clause.calendar], contract.zone)
    log = PauseLog()
    if clause.pausable:
        for event in tickets:
            if event.ticket_id == story.ticket_id and event.action in ("paused", "resumed"):
                log.add((to_us(event.at), event.event_id, event.action == "paused"))
    return deadline(opened_at, log, within, hours)


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
