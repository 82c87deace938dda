"""A deterministic sample stream for the shipped contracts: two months with outages,
maintenance, support tickets and request counts, enough to show a breach, a consecutive-breach credit
and a month close; it runs into November far enough to close October by itself."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

HEARTBEAT = timedelta(minutes=5)
START = datetime(2026, 9, 1, tzinfo=UTC) - timedelta(hours=2)
# October closes by event time alone, whatever the wall clock: its last deadline is globex's
# (New York) month end, 1 Nov 04:00Z, + 72 h (support-resolution) + 1 h lateness = 4 Nov 05:00Z.
# (initech-helpdesk's October settles earlier: its resolution clause at the month end, 1 Nov
# 00:00 CET, + settle_after 3d + 1 h = 4 Nov 00:00Z, with its tickets still paused then left
# undecided.) Heartbeats and tickets go on a day past that, so every input partition's clock passes it.
CLOSES_OCTOBER = datetime(2026, 11, 4, 5, tzinfo=UTC)
END = CLOSES_OCTOBER + timedelta(days=1)
HELPDESK = "initech-helpdesk"  # the contract in business hours, with pauses

# (service, start, length): api misses 99.5% in September and October (two in a row)
OUTAGES = [
    ("api", datetime(2026, 9, 9, 13, 0, tzinfo=UTC), timedelta(hours=3, minutes=50)),
    ("api", datetime(2026, 10, 14, 8, 0, tzinfo=UTC), timedelta(hours=2, minutes=30)),
    ("api", datetime(2026, 10, 27, 19, 0, tzinfo=UTC), timedelta(hours=2)),
    ("web", datetime(2026, 10, 3, 2, 0, tzinfo=UTC), timedelta(minutes=1)),  # under min_outage
    ("web", datetime(2026, 10, 20, 15, 0, tzinfo=UTC), timedelta(minutes=50)),
]
MAINTENANCE = [  # (service, announced, start, length)
    ("api", datetime(2026, 10, 1, 9, tzinfo=UTC), datetime(2026, 10, 7, 1, tzinfo=UTC), timedelta(hours=1)),
    (
        "web",
        datetime(2026, 10, 21, 9, tzinfo=UTC),
        datetime(2026, 10, 21, 20, tzinfo=UTC),
        timedelta(hours=1),
    ),
]


def _stamp(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def _is_down(service: str, moment: datetime) -> bool:
    return any(s == service and start <= moment < start + length for s, start, length in OUTAGES)


def _status_events() -> Iterator[dict[str, Any]]:
    changes = sorted(
        {(s, start) for s, start, _ in OUTAGES} | {(s, start + length) for s, start, length in OUTAGES},
        key=lambda item: item[1],
    )
    moment = START
    pending = iter(changes)
    change = next(pending, None)
    while moment < END:
        while change is not None and change[1] <= moment:
            yield _status(change[0], change[1])
            change = next(pending, None)
        for service in ("api", "web"):
            yield _status(service, moment)
        moment += HEARTBEAT


def _status(service: str, moment: datetime) -> dict[str, Any]:
    status = "down" if _is_down(service, moment) else "up"
    return {
        "event_id": f"{service}-{moment:%Y%m%dT%H%M%S}",
        "type": "status",
        "service": service,
        "status": status,
        "at": _stamp(moment),
    }


def _ticket_events(rng: random.Random) -> Iterator[dict[str, Any]]:
    moment = START + timedelta(hours=3)
    number = 0
    while moment < END:
        number += 1
        priority = rng.choice(["P1", "P1", "P2", "P3"])
        ticket = f"T-{number:04d}"
        delays = {
            "responded": timedelta(minutes=rng.choice([10, 25, 40, 55, 75])),
            "resolved": timedelta(hours=rng.choice([4, 20, 50, 80])),
        }
        yield _ticket(ticket, "opened", priority, moment)
        for action, delay in delays.items():
            yield _ticket(ticket, action, priority, moment + delay)
        moment += timedelta(hours=rng.choice([7, 11, 17, 29]))


def _ticket(
    ticket: str, action: str, priority: str, moment: datetime, contract: str = "globex-support", tag: str = ""
) -> dict[str, Any]:
    return {
        "event_id": f"{ticket}-{action}{tag}",
        "type": "ticket",
        "ticket_id": ticket,
        "contract": contract,
        "action": action,
        "priority": priority,
        "at": _stamp(moment),
    }


def _helpdesk_events(rng: random.Random) -> Iterator[dict[str, Any]]:
    """Tickets of the business-hours contract (initech-helpdesk) up to half a day past END (the
    other tickets end there too): past October's settlement, so its partition's clock closes it."""
    last = _stamp(END + timedelta(hours=12))
    return (event for event in _helpdesk_tickets(rng) if event["at"] <= last)


def _helpdesk_tickets(rng: random.Random) -> Iterator[dict[str, Any]]:
    """Opened at any hour, some waiting on the customer (`paused` ... `resumed`), a few paused
    twice or resumed without a pause, and the October ones paused near its end never resumed
    (undecided at settlement)."""
    moment = START + timedelta(hours=5)
    number = 0
    while moment < END:
        number += 1
        ticket = f"H-{number:04d}"
        priority = rng.choice(["P1", "P1", "P2"])
        yield _ticket(ticket, "opened", priority, moment, HELPDESK)
        respond = moment + timedelta(minutes=rng.choice([20, 45, 90, 200, 600, 1500]))
        yield _ticket(ticket, "responded", priority, respond, HELPDESK)
        resolve = respond + timedelta(hours=rng.choice([2, 6, 30, 80]))
        if number % 3 == 0:  # waits on the customer after the first response
            paused = respond + timedelta(minutes=30)
            yield _ticket(ticket, "paused", priority, paused, HELPDESK)
            if number % 9 == 0:
                yield _ticket(ticket, "paused", priority, paused + timedelta(hours=2), HELPDESK, "again")
            wait = timedelta(hours=rng.choice([5, 20, 50]))
            if paused + wait < END - timedelta(days=4):
                yield _ticket(ticket, "resumed", priority, paused + wait, HELPDESK)
                yield _ticket(ticket, "resolved", priority, resolve + wait, HELPDESK)
        else:
            if number % 7 == 0:  # a `resumed` without a pause: changes nothing
                yield _ticket(ticket, "resumed", priority, moment + timedelta(minutes=5), HELPDESK)
            yield _ticket(ticket, "resolved", priority, resolve, HELPDESK)
        moment += timedelta(hours=rng.choice([5, 9, 14, 23]))


def _maintenance_events() -> Iterator[dict[str, Any]]:
    for number, (service, announced, start, length) in enumerate(MAINTENANCE):
        yield {
            "event_id": f"maint-{number}",
            "type": "maintenance",
            "service": service,
            "start": _stamp(start),
            "end": _stamp(start + length),
            "at": _stamp(announced),
        }


# request counts of the service "functions" (nimbus-functions): the first minute of every
# hour (few events: the demo and the live tests send them one per batch), and every minute
# of this incident, 40% of requests failing: 290 down minutes in September, past the 216
# its 99.5% allows (99.33%: the 10% tier)
FUNCTIONS_INCIDENT = (datetime(2026, 9, 9, 13, 0, tzinfo=UTC), datetime(2026, 9, 9, 17, 50, tzinfo=UTC))


def _requests_events() -> Iterator[dict[str, Any]]:
    minute = timedelta(minutes=1)
    moment = START
    while moment < END:
        incident = FUNCTIONS_INCIDENT[0] <= moment < FUNCTIONS_INCIDENT[1]
        if incident or moment.minute == 0:
            total = 1200 + (moment.hour * 37 + moment.minute * 11) % 400
            failed = total * 2 // 5 if incident else (moment.minute * 7 + moment.hour) % 3
            yield {
                "event_id": f"functions-{moment:%Y%m%dT%H%M}",
                "type": "requests",
                "service": "functions",
                "start": _stamp(moment),
                "end": _stamp(moment + minute),
                "total": total,
                "failed": failed,
                "at": _stamp(moment + minute),
            }
        moment += minute


def sample_events(seed: int = 7) -> list[dict[str, Any]]:
    """All sample events, ordered by ``at`` (the order a live feed would send them in)."""
    events = [
        *_status_events(),
        *_ticket_events(random.Random(seed)),
        *_helpdesk_events(random.Random(seed + 1)),
        *_maintenance_events(),
        *_requests_events(),
    ]
    events.sort(key=lambda event: (event["at"], event["event_id"]))
    return events
