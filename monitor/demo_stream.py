"""A deterministic sample stream for the shipped contracts: two months with outages,
maintenance, and support tickets, enough to show a breach, a consecutive-breach credit
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
# Heartbeats and tickets go on a day past that, so every input partition's clock passes it.
CLOSES_OCTOBER = datetime(2026, 11, 4, 5, tzinfo=UTC)
END = CLOSES_OCTOBER + timedelta(days=1)

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


def _ticket(ticket: str, action: str, priority: str, moment: datetime) -> dict[str, Any]:
    return {
        "event_id": f"{ticket}-{action}",
        "type": "ticket",
        "ticket_id": ticket,
        "contract": "globex-support",
        "action": action,
        "priority": priority,
        "at": _stamp(moment),
    }


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


def sample_events(seed: int = 7) -> list[dict[str, Any]]:
    """All sample events, ordered by ``at`` (the order a live feed would send them in)."""
    events = [*_status_events(), *_ticket_events(random.Random(seed)), *_maintenance_events()]
    events.sort(key=lambda event: (event["at"], event["event_id"]))
    return events
