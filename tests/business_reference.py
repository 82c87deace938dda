"""A brute-force reference for SPEC.md section 10, written independently of the engine.

It walks time minute by minute: a minute counts for a ticket when it is open time (some
range of a non-closed local day, both ends resolved with ``fold=0``, contains it) and the
ticket is not paused at its start. Every instant of the tests' events, ranges and DST
changes falls on a whole minute, so counting whole minutes is exact. Slow and obvious.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

import holidays as holiday_package

from monitor.contract import Contract, ResponseTimeClause
from monitor.events import Event, TicketEvent
from tests.reference import periods, us

MINUTE = 60_000_000
DAY_NAMES = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class OpenTime:
    """Is an instant open in a calendar? (Every instant is, without one.)"""

    def __init__(self, contract: Contract, name: str | None) -> None:
        self.zone = ZoneInfo(contract.timezone)
        self.calendar = contract.calendars[name] if name is not None else None
        self._ranges: dict[date, list[tuple[int, int]]] = {}

    def _day_ranges(self, day: date) -> list[tuple[int, int]]:
        if day not in self._ranges:
            self._ranges[day] = self._resolve(day)
        return self._ranges[day]

    def _resolve(self, day: date) -> list[tuple[int, int]]:
        calendar = self.calendar
        assert calendar is not None
        closed = set(calendar.holidays.dates)
        if calendar.holidays.country is not None:
            table = holiday_package.country_holidays(
                calendar.holidays.country, subdiv=calendar.holidays.subdivision, years=day.year
            )
            closed |= set(table)
        if day in closed:
            return []
        found = []
        for key, texts in calendar.hours.items():
            first, _, last = key.partition("-")
            names = DAY_NAMES[DAY_NAMES.index(first) : DAY_NAMES.index(last or first) + 1]
            if DAY_NAMES[day.weekday()] not in names:
                continue
            for text in [texts] if isinstance(texts, str) else texts:
                start, end = text.split("-")
                found.append((self._wall(day, start), self._wall(day, end)))
        return found

    def _wall(self, day: date, text: str) -> int:
        hour, minute = (int(part) for part in text.split(":"))
        moment = datetime(day.year, day.month, day.day, tzinfo=self.zone)  # fold=0
        if hour == 24:
            following = day + timedelta(days=1)
            moment = datetime(following.year, following.month, following.day, tzinfo=self.zone)
        else:
            moment = moment.replace(hour=hour, minute=minute)
        return us(moment)

    def is_open(self, instant: int) -> bool:
        if self.calendar is None:
            return True
        local = datetime.fromtimestamp(instant / 1e6, tz=self.zone).date()
        return any(
            a <= instant < b for day in (local - timedelta(days=1), local) for a, b in self._day_ranges(day)
        )


def first_reaching(open_time: OpenTime, start: int, within: int, limit: int, toggles=()) -> int | None:
    """Walk minutes from ``start``: the instant counted time reaches ``within``, or None if it
    does not by ``limit``. ``toggles``: (at, event_id, is a pause) in order; a minute counts
    when it is open and the last toggle at or before its start (if any) is not a pause."""
    counted, minute = 0, start
    if within <= 0:
        return start
    pending = list(toggles)
    paused = False
    while minute < limit:
        while pending and pending[0][0] <= minute:
            paused = pending.pop(0)[2]
        if paused:  # nothing counts until the next toggle: skip there
            if not pending:
                return None
            minute = max(minute + MINUTE, pending[0][0])
            continue
        if open_time.is_open(minute):
            counted += MINUTE
            if counted >= within:
                return minute + MINUTE
        minute += MINUTE
    return None


def counted_between(open_time: OpenTime, start: int, end: int, toggles) -> int:
    """Counted microseconds in ``[start, end)``, minute by minute (``end`` on a whole minute)."""
    counted, minute = 0, start
    while minute < end:
        state = [is_pause for at, _, is_pause in toggles if at <= minute]
        if open_time.is_open(minute) and not (state and state[-1]):
            counted += MINUTE
        minute += MINUTE
    return counted


def business_response_figures(
    contract: Contract, clause: ResponseTimeClause, events: list[Event], clock, lateness_us
):
    """Per period: (attained percent, final), for the counted events (no ticket id is reused)."""
    return _business(contract, clause, events, clock, lateness_us)[0]


def business_missed(contract: Contract, clause: ResponseTimeClause, events: list[Event], clock, lateness_us):
    """The missed tickets at ``clock``: (period, ticket id, deadline, counted µs at the first measure)."""
    return _business(contract, clause, events, clock, lateness_us)[1]


def _business(contract: Contract, clause: ResponseTimeClause, events: list[Event], clock, lateness_us):
    open_time = OpenTime(contract, clause.calendar)
    within = clause.within // timedelta(microseconds=1)
    settle_after = clause.settle_after // timedelta(microseconds=1)
    mine = sorted(
        (e for e in events if isinstance(e, TicketEvent) and e.contract == contract.id),
        key=lambda e: (us(e.at), e.event_id),
    )
    by_ticket: dict[str, list[TicketEvent]] = {}
    for event in mine:
        by_ticket.setdefault(event.ticket_id, []).append(event)
    plist = periods(contract, clock)
    settles: dict[str, tuple[int, int]] = {}
    for period in plist:
        due = first_reaching(open_time, period.end, within, period.end + 60 * 1440 * MINUTE)
        latest = period.end + settle_after
        settles[period.key] = (due if due is not None else latest, max(due or latest, latest))

    def decide(ticket_events: list[TicketEvent], at_clock: int):
        """(period, on time) decided at ``at_clock``, "undecided", or None (not counted)."""
        opened_events = [e for e in ticket_events if e.action == "opened"]
        if not opened_events:
            return None
        first = opened_events[0]
        opened = us(first.at)
        if opened >= at_clock:
            return None
        if clause.priorities is not None and first.priority not in clause.priorities:
            return None
        holder = [p for p in plist if p.start <= opened < p.end]
        if not holder:
            return None
        key = holder[0].key
        limit = min(at_clock, settles[key][1])
        toggles = [
            (us(e.at), e.event_id, e.action == "paused")
            for e in ticket_events
            if clause.pausable and e.action in ("paused", "resumed") and us(e.at) >= opened
        ]
        due = first_reaching(open_time, opened, within, limit + MINUTE, toggles)
        measures = [us(e.at) for e in ticket_events if e.action == clause.measure]
        measure = min(measures) if measures else None
        if measure is not None and measure <= limit and (due is None or measure <= due):
            return key, True
        if due is not None and limit > due:
            shown = measure is not None and measure <= settles[key][1]  # a later one is not in the statement
            counted = counted_between(open_time, opened, measure, toggles) if shown else None
            missed.append((key, first.ticket_id, due, counted))
            return key, False
        return key, "undecided"

    missed: list[tuple[str, str, int, int | None]] = []
    settled = clock - lateness_us
    then = [decide(ticket_events, settled) for ticket_events in by_ticket.values()]
    missed.clear()  # the missed tickets at the clock, not at the settled point
    now = [decide(ticket_events, clock) for ticket_events in by_ticket.values()]
    figures = {}
    for period in plist:
        counted = [d for d in now if d is not None and d[0] == period.key and d[1] != "undecided"]
        on_time = sum(1 for d in counted if d[1] is True)
        attained = Fraction(100) if not counted else Fraction(100 * on_time, len(counted))
        due, settles_at = settles[period.key]
        all_decided = all(d is None or d[0] != period.key or d[1] != "undecided" for d in then)
        final = settled >= settles_at or (settled >= due and all_decided)
        figures[period.key] = (attained, final)
    return figures, sorted(missed)
