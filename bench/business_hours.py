"""Cost of response times in business hours with pauses, against elapsed-time clauses, in one run.

    python bench/business_hours.py [--tickets 5000] [--repeat 3]

Generates the same ticket stream (opened, responded, paused/resumed, resolved; a ticket every
~2 h over about a year) for two contracts that differ only in their response clauses:
(a) elapsed time, no pauses (the baseline); (b) the same clauses with a support calendar
(weekday hours with a lunch break, Saturday mornings, Berlin public holidays) and pauses.
Prints events/s of each (best of N, engine only, events already decoded), the ratio b/a,
and how many open tickets each engine holds at the end (bounded by open tickets, not events).
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from monitor.contract import Contract
from monitor.engine import Engine
from monitor.events import Event, TicketEvent

START = datetime(2026, 1, 5, tzinfo=UTC)
CALENDAR = {
    "hours": {"mon-fri": ["08:00-12:00", "13:00-17:30"], "sat": "09:00-13:00"},
    "holidays": {"country": "DE", "subdivision": "BE"},
}


def contract(business: bool) -> Contract:
    extra: dict[str, Any] = {"calendar": "support", "pausable": True} if business else {}
    clauses = [
        {"id": "first", "kind": "response_time", "measure": "responded", "within": "4h", "target_percent": 95}
        | extra,
        {
            "id": "resolve",
            "kind": "response_time",
            "measure": "resolved",
            "within": "17h",
            "target_percent": 90,
        }
        | extra,
    ]
    return Contract.model_validate(
        {
            "id": "bench",
            "customer": "C",
            "provider": "P",
            "timezone": "Europe/Berlin",
            "currency": "EUR",
            "monthly_fee": "1000",
            "effective_from": "2026-01-01",
            "calendars": {"support": CALENDAR},
            "clauses": clauses,
        }
    )


def tickets(count: int, seed: int = 1) -> list[Event]:
    rng = random.Random(seed)
    timed: list[tuple[datetime, str, str]] = []
    moment = START
    for number in range(count):
        ticket = f"T{number}"
        respond = moment + timedelta(minutes=rng.choice([20, 90, 300, 1500]))
        timed += [(moment, ticket, "opened"), (respond, ticket, "responded")]
        resolve = respond + timedelta(hours=rng.choice([2, 10, 40]))
        if number % 3 == 0:
            wait = timedelta(hours=rng.choice([3, 20, 60]))
            timed += [(respond + timedelta(minutes=5), ticket, "paused"), (respond + wait, ticket, "resumed")]
            resolve += wait
        timed.append((resolve, ticket, "resolved"))
        moment += timedelta(minutes=rng.choice([30, 90, 150, 210]))
    return [
        TicketEvent(
            event_id=f"e{i}", type="ticket", ticket_id=t, contract="bench", action=a, priority="P1", at=at
        )
        for i, (at, t, a) in enumerate(sorted(timed))
    ]


def measure(chosen: Contract, events: list[Event], repeat: int) -> tuple[float, int]:
    best, held = float("inf"), 0
    for _ in range(repeat):
        started = time.perf_counter()
        engine = Engine([chosen], timedelta(hours=1))
        for event in events:
            engine.apply(event)
        engine.results()
        best = min(best, time.perf_counter() - started)
        held = sum(len(state.tickets) for states in engine._responses.values() for state in states)
    return best, held


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    events = tickets(args.tickets)
    plain, plain_held = measure(contract(False), events, args.repeat)
    business, business_held = measure(contract(True), events, args.repeat)
    print(f"{len(events)} ticket events, {args.tickets} tickets")
    print(f"(a) elapsed time      : {len(events) / plain:10,.0f} events/s, {plain_held} tickets held")
    print(f"(b) business + pauses : {len(events) / business:10,.0f} events/s, {business_held} tickets held")
    print(f"(b) takes {business / plain:.2f}x the time of (a)")


if __name__ == "__main__":
    main()
