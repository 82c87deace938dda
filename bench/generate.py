"""Generate a benchmark data set: contract files for N services and a year of their events.

    python bench/generate.py --out DIR --services 100 --scale 1 --seed 1 [--requests-services 50]

writes ``DIR/contracts/*.yaml`` (SPEC section 2: two services per contract, zones
Europe/Berlin, America/New_York, Asia/Tokyo (JPY) and UTC), ``DIR/events.jsonl`` (SPEC
section 3) and ``DIR/manifest.json`` (what was written, and the counters replay should
report).

The events cover 2026-01-01T00:00Z to 2027-01-01T00:00Z (both ends included):

- a status heartbeat per service every ``300 / scale`` seconds (``--scale 10``: every
  30 s, 10x the lines), ``down`` during the service's down spans, ``up`` otherwise;
- a status event at the exact start (``down``) and end (``up``) of every down span:
  outages (1-4 per service per month, from a minute to hours; some shorter than the
  ``min_outage: 5m`` of half the clauses), downtime inside announced maintenance and
  inside the contract's weekly maintenance window;
- announced maintenance events, most with at least the contracts' 48h notice, some with
  less (those do not count as excluded time);
- support tickets per contract, about two a day: P1/P2/P3, responded after a random
  delay (most within the 24h of the response-time clause, some late, some at exactly
  24h, a few never), sometimes responded twice and often resolved later;
- noise: ~1% of lines held back 30 s to 4 min (disorder far below the 1h allowed
  lateness, so nothing is late), ~0.5% of lines written twice (a redelivery: same line,
  same ``event_id``), and a handful of invalid lines (not JSON, missing fields, a naive
  timestamp, an unknown type, ...).

With ``--requests-services N`` the first N services also report their request counts every
minute (SPEC section 11, ``requests`` events: a diurnal load of a few hundred to a few
thousand requests, a few failures in about a third of the minutes, 20-100% failed during
the service's down spans) and get an ``availability`` clause each, the three methods and
the four interval lengths in turn. The counts are the same at every scale.

Every event of the data set except the heartbeats (down spans, maintenance, tickets,
invalid lines) comes from random streams seeded by ``--seed`` and the service or
contract name only, so the data sets of every scale describe the same year: denser
heartbeats repeat what the status transitions already say, and ``slamon replay``
should print the same records for ``--scale 1`` and ``--scale 10``.

The file is written streaming, one heartbeat time step across all services at a time:
memory does not grow with the number of events.
"""

from __future__ import annotations

import argparse
import heapq
import itertools
import json
import os
import random
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import orjson
import yaml
from dateutil.rrule import SA, SU, WE, WEEKLY, rrule

GENERATOR_VERSION = 2  # bump when the output changes: cached data sets are keyed by it
START = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp())
END = int(datetime(2027, 1, 1, tzinfo=UTC).timestamp())
BASE_INTERVAL = 300  # seconds between heartbeats at scale 1
MINUTE, HOUR, DAY = 60, 3600, 86400

# (zone, currency, monthly fee)
ZONES = [
    ("Europe/Berlin", "EUR", "12000.00"),
    ("America/New_York", "USD", "9500.00"),
    ("Asia/Tokyo", "JPY", "1500000"),
    ("UTC", "GBP", "7000.00"),
]
# weekly scheduled maintenance: (BYDAY, weekday for dateutil, local hour, duration seconds)
WINDOWS = [("SU", SU, 2, 2 * HOUR), ("SA", SA, 23, HOUR), ("WE", WE, 3, 30 * MINUTE), ("SU", SU, 4, 2 * HOUR)]
REMEDIES = ["contract_review", "termination_right", "none"]
# offsets (minutes) used in ``at``: "Z" and "+02:00"-style, a half-hour one too
OFFSETS = [0, 120, -300, 540, 0, 330, -420, 60]

P_DUPLICATE = 0.005  # a line written twice
P_DELAY = 0.01  # a line held back 30 s .. 4 min
MAX_DELAY = 4 * MINUTE
INVALID_EVERY = 13 * DAY  # one invalid line every 13 days (28 in the year)


def service_names(services: int) -> list[str]:
    return [f"svc-{n:03d}" for n in range(services)]


def contract_of_service(index: int) -> int:
    return index // 2


def contract_id(number: int) -> str:
    return f"bench-{number:03d}"


def _duration_text(seconds: int) -> str:
    return f"{seconds // HOUR}h" if seconds % HOUR == 0 else f"{seconds // MINUTE}m"


AVAILABILITY_METHODS = ["downtime_intervals", "mean_error_rate", "request_ratio"]
AVAILABILITY_INTERVALS = ["1m", "5m", "15m", "3m"]


def availability_clause(index: int, service: str) -> dict:
    """The availability clause of the ``index``-th service that reports request counts."""
    method = AVAILABILITY_METHODS[index % len(AVAILABILITY_METHODS)]
    clause: dict = {"id": f"availability-{service}", "kind": "availability", "service": service}
    clause |= {"method": method, "interval": AVAILABILITY_INTERVALS[index % len(AVAILABILITY_INTERVALS)]}
    if method == "downtime_intervals":
        clause["error_rate_above_percent"] = 5
    clause |= {"min_requests": 10, "target_percent": 99.9 if index % 2 else 99.5}
    if index % 4 == 1:
        clause["min_downtime"] = "5m"
    clause["credits"] = [
        {"below_percent": 99.9, "credit_percent": 10},
        {"below_percent": 99.0, "credit_percent": 25},
    ]
    return clause


def contract_document(number: int, services: list[str], requests_services: int = 0) -> dict:
    """The contract of ``services`` (one or two), number ``number``, as a YAML-ready dict;
    the services among the first ``requests_services`` get an availability clause too."""
    zone, currency, fee = ZONES[number % len(ZONES)]
    byday, _, hour, duration = WINDOWS[number % len(WINDOWS)]
    clauses: list[dict] = []
    for index, service in enumerate(services):
        target = 99.5 if (number + index) % 2 == 0 else 99.9
        clause: dict = {"id": f"uptime-{service}", "kind": "uptime", "service": service}
        clause["target_percent"] = target
        if index == 1:
            clause["min_outage"] = "5m"
        if number % 5 != 0 or index == 1:  # every fifth contract: the SPEC's sample clause, no tiers
            tiers = (
                [(target, 10), (99.0, 25), (95.0, 50)]
                if target == 99.5
                else [(99.9, 5), (99.5, 10), (99.0, 25)]
            )
            clause["credits"] = [
                {"below_percent": bound, "credit_percent": credit} for bound, credit in tiers
            ]
        clause["consecutive"] = {
            "periods": 2 if number % 3 else 3,
            "credit_percent": 10,
            "remedy": REMEDIES[(number + index) % len(REMEDIES)],
        }
        clauses.append(clause)
        if 2 * number + index < requests_services:
            clauses.append(availability_clause(2 * number + index, service))
    clauses.append(
        {
            "id": "support-first-response",
            "kind": "response_time",
            "measure": "responded",
            "within": "24h",
            "priorities": ["P1", "P2"],
            "target_percent": 90,
            "credits": [
                {"below_percent": 90, "credit_percent": 5},
                {"below_percent": 75, "credit_percent": 10},
            ],
        }
    )
    document: dict = {
        "id": contract_id(number),
        "customer": f"Customer {number}",
        "provider": "CloudCo Ltd",
        "timezone": zone,
        "currency": currency,
        "monthly_fee": fee,
        "effective_from": date(2026, 1, 1),
    }
    if number % 2 == 0:
        document["credit_cap_percent"] = 50
    document["maintenance"] = {
        "windows": [
            {
                "rrule": f"FREQ=WEEKLY;BYDAY={byday};BYHOUR={hour};BYMINUTE=0;BYSECOND=0",
                "duration": _duration_text(duration),
            }
        ],
        "announced_min_notice": "48h",
    }
    document["clauses"] = clauses
    return document


def write_contracts(directory: Path, services: int, requests_services: int = 0) -> int:
    """Write one contract per two services; return the number of contracts."""
    directory.mkdir(parents=True, exist_ok=True)
    names = service_names(services)
    count = 0
    for number in range(0, (services + 1) // 2):
        document = contract_document(number, names[2 * number : 2 * number + 2], requests_services)
        text = yaml.safe_dump(document, sort_keys=False, default_flow_style=None)
        (directory / f"{contract_id(number)}.yaml").write_text(text)
        count += 1
    return count


# ---------------------------------------------------------------------------------------
# the plan of the year: down spans, maintenance, tickets (independent of the scale)


def stamp(seconds: int, offset_minutes: int) -> str:
    """RFC 3339 text of a Unix time, written with the given UTC offset."""
    local = datetime.fromtimestamp(seconds + offset_minutes * 60, UTC).strftime("%Y-%m-%dT%H:%M:%S")
    if offset_minutes == 0:
        return local + "Z"
    sign = "+" if offset_minutes > 0 else "-"
    hours, minutes = divmod(abs(offset_minutes), 60)
    return f"{local}{sign}{hours:02d}:{minutes:02d}"


def _outages(rng: random.Random) -> list[tuple[int, int]]:
    per_month = rng.choice([1, 2, 2, 3, 4])
    mean_gap = 30 * DAY / per_month
    spans, moment = [], START
    while True:
        moment += int(rng.expovariate(1 / mean_gap))
        if moment >= END:
            return spans
        kind = rng.random()
        if kind < 0.45:
            length = rng.randint(60, 4 * MINUTE)
        elif kind < 0.85:
            length = rng.randint(5 * MINUTE, 30 * MINUTE)
        elif kind < 0.98:
            length = rng.randint(30 * MINUTE, 2 * HOUR)
        else:
            length = rng.randint(2 * HOUR, 8 * HOUR)
        spans.append((moment, moment + length))


def _maintenance(rng: random.Random) -> list[tuple[int, int, int, bool]]:
    """Announced maintenance: (announced at, start, end, service down during it)."""
    plan, moment = [], START
    while True:
        moment += 5 * DAY + int(rng.expovariate(1 / (15 * DAY)))
        if moment >= END:
            return plan
        notice = rng.choice([72 * HOUR, 96 * HOUR, 50 * HOUR, 48 * HOUR, 24 * HOUR, 6 * HOUR, 47 * HOUR])
        begin = moment + notice
        length = rng.choice([30 * MINUTE, HOUR, 2 * HOUR, 3 * HOUR])
        plan.append((moment, begin, begin + length, rng.random() < 0.6))


def _window_downtime(rng: random.Random, contract_number: int) -> list[tuple[int, int]]:
    """Some downtime inside the contract's weekly scheduled window (local wall clock)."""
    zone = ZoneInfo(ZONES[contract_number % len(ZONES)][0])
    _, weekday, hour, duration = WINDOWS[contract_number % len(WINDOWS)]
    spans = []
    for occurrence in rrule(
        WEEKLY,
        byweekday=weekday,
        byhour=hour,
        byminute=0,
        bysecond=0,
        dtstart=datetime(2026, 1, 1),
        until=datetime(2027, 1, 1),
    ):
        if rng.random() < 0.25:
            begin = int(occurrence.replace(tzinfo=zone).timestamp()) + 5 * MINUTE
            spans.append((begin, begin + rng.randint(5 * MINUTE, duration - 10 * MINUTE)))
    return spans


def _merge(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for begin, end in sorted(spans):
        begin, end = max(begin, START), min(end, END + 1)
        if begin >= end:
            continue
        if merged and begin <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((begin, end))
    return merged


@dataclass
class ServicePlan:
    name: str
    offset: int  # minutes, for the ``at`` of this service's events
    down: list[tuple[int, int]]  # merged [start, end) spans; an end past END means still down
    maintenance: list[tuple[int, int, int, bool]]


def plan_service(seed: int, index: int, name: str) -> ServicePlan:
    rng = random.Random(f"{seed}:service:{name}")
    outages = _outages(rng)
    maintenance = _maintenance(rng)
    in_maintenance = [(begin + 2 * MINUTE, end - 2 * MINUTE) for _, begin, end, down in maintenance if down]
    windows = _window_downtime(rng, contract_of_service(index))
    return ServicePlan(
        name, OFFSETS[index % len(OFFSETS)], _merge(outages + in_maintenance + windows), maintenance
    )


Item = tuple[int, dict | bytes]  # (time that orders the stream, event or raw line)


class RequestCounts:
    """One service's request counts per minute: a diurnal load, sparse failures, and many
    failures while the service is down. Seeded by the service alone: the same at every scale."""

    def __init__(self, seed: int, plan: ServicePlan) -> None:
        self._rng = random.Random(f"{seed}:requests:{plan.name}")
        self._base = self._rng.randint(200, 2000)
        self._down = plan.down
        self._position = 0

    def minute(self, start: int) -> tuple[int, int]:
        """(total, failed) of the minute from ``start``; minutes are asked for in order."""
        rng = self._rng
        hour = (start // HOUR) % 24
        load = self._base * (3 + (hour >= 7) + (hour >= 9) - (hour >= 19) - (hour >= 22)) // 4
        total = load + rng.randint(0, load // 4)
        while self._position < len(self._down) and self._down[self._position][1] <= start:
            self._position += 1
        span = self._down[self._position] if self._position < len(self._down) else None
        if span is not None and span[0] <= start:
            return total, int(total * rng.uniform(0.2, 1.0))
        return total, (rng.randint(1, 3) if rng.random() < 0.3 else 0)


def requests_event(name: str, start: int, total: int, failed: int, stamps: tuple[str, str]) -> dict:
    return {
        "event_id": f"rq-{name}-{start}",
        "type": "requests",
        "service": name,
        "start": stamps[0],
        "end": stamps[1],
        "total": total,
        "failed": failed,
        "at": stamps[1],
    }


def service_events(plan: ServicePlan) -> Iterator[Item]:
    """Status transitions at the edges of down spans and maintenance announcements, in order."""
    items: list[Item] = []
    for begin, end in plan.down:
        items.append(
            (
                begin,
                {
                    "event_id": f"st-{plan.name}-{begin}-d",
                    "type": "status",
                    "service": plan.name,
                    "status": "down",
                    "at": stamp(begin, plan.offset),
                },
            )
        )
        if end <= END:
            items.append(
                (
                    end,
                    {
                        "event_id": f"st-{plan.name}-{end}-u",
                        "type": "status",
                        "service": plan.name,
                        "status": "up",
                        "at": stamp(end, plan.offset),
                    },
                )
            )
    for number, (announced, begin, end, _) in enumerate(plan.maintenance):
        items.append(
            (
                announced,
                {
                    "event_id": f"mnt-{plan.name}-{number}",
                    "type": "maintenance",
                    "service": plan.name,
                    "start": stamp(begin, plan.offset),
                    "end": stamp(end, 0),
                    "at": stamp(announced, plan.offset),
                },
            )
        )
    items.sort(key=lambda item: item[0])
    return iter(items)  # a few hundred per service: the plan, not the year's events


def ticket_events(seed: int, number: int) -> Iterator[Item]:
    """One contract's tickets (about two a day), lazily, in time order."""
    rng = random.Random(f"{seed}:tickets:{number}")
    contract = contract_id(number)
    offset = OFFSETS[(number * 3) % len(OFFSETS)]
    pending: list[tuple[int, int, dict]] = []  # follow-ups not yet due
    sequence, order = 0, itertools.count()
    opened = START
    while True:
        opened += int(rng.expovariate(1 / (12 * HOUR)))
        while pending and pending[0][0] <= min(opened, END):
            due, _, event = heapq.heappop(pending)
            yield due, event
        if opened > END:
            return
        sequence += 1
        ticket = f"{contract}-T{sequence}"
        priority = rng.choices(["P1", "P2", "P3"], weights=[2, 5, 3])[0]

        def later(due: int, action: str, suffix: str, ticket: str = ticket, priority: str = priority) -> None:
            if due <= END:  # what the year does not hold is never written, at any scale
                event = {
                    "event_id": f"{ticket}-{suffix}",
                    "type": "ticket",
                    "ticket_id": ticket,
                    "contract": contract,
                    "action": action,
                    "priority": priority,
                    "at": stamp(due, 0 if suffix.endswith("2") else offset),
                }
                heapq.heappush(pending, (due, next(order), event))

        yield (
            opened,
            {
                "event_id": f"{ticket}-o",
                "type": "ticket",
                "ticket_id": ticket,
                "contract": contract,
                "action": "opened",
                "priority": priority,
                "at": stamp(opened, offset),
            },
        )
        outcome = rng.random()
        if outcome < 0.02:
            continue  # never responded
        if outcome < 0.10:
            delay = rng.randint(24 * HOUR + 60, 60 * HOUR)  # late
        elif outcome < 0.12:
            delay = 24 * HOUR  # exactly at the bound: on time
        else:
            delay = rng.randint(2 * MINUTE, 23 * HOUR)
        later(opened + delay, "responded", "r")
        if rng.random() < 0.03:
            later(opened + delay + rng.randint(MINUTE, 6 * HOUR), "responded", "r2")
        if rng.random() < 0.5:
            later(opened + delay + rng.randint(HOUR, 72 * HOUR), "resolved", "z")


def invalid_lines(seed: int) -> Iterator[Item]:
    """A handful of lines that do not parse or do not validate."""
    rng = random.Random(f"{seed}:invalid")
    moment, number = START + 3 * HOUR, 0
    while moment <= END:
        number += 1
        at = stamp(moment, 0)
        kinds: list[bytes | dict] = [
            b"this line is not JSON",
            b'{"event_id": "bad-%d", "type": "status", "service": "svc-000"' % number,  # truncated
            {"event_id": f"bad-{number}", "type": "status", "service": "svc-000", "at": at},  # no status
            {
                "event_id": f"bad-{number}",
                "type": "status",
                "service": "svc-001",
                "status": "up",
                "at": at[:-1],
            },  # naive
            {"event_id": f"bad-{number}", "type": "heartbeat", "service": "svc-000", "at": at},
            {
                "event_id": f"bad-{number}",
                "type": "ticket",
                "ticket_id": "X",
                "action": "opened",
                "priority": "P1",
                "at": at,
            },  # no contract
            {"type": "status", "service": "svc-000", "status": "down", "at": at},  # no event_id
            {
                "event_id": f"bad-{number}",
                "type": "maintenance",
                "service": "svc-000",
                "start": stamp(moment + 3 * DAY, 0),
                "end": stamp(moment + 2 * DAY, 0),
                "at": at,
            },  # end < start
            b"[1, 2, 3]",
            {
                "event_id": f"bad-{number}",
                "type": "status",
                "service": "svc-000",
                "status": "sideways",
                "at": at,
            },
        ]
        line = kinds[(number - 1 + rng.randrange(2)) % len(kinds)]
        yield moment, line if type(line) is bytes else orjson.dumps(line)
        moment += INVALID_EVERY


# ---------------------------------------------------------------------------------------
# writing


@dataclass
class Stats:
    services: int
    contracts: int
    scale: int
    seed: int
    interval_seconds: int
    lines: int = 0
    bytes: int = 0
    status: int = 0
    heartbeats: int = 0
    requests: int = 0
    requests_services: int = 0
    maintenance: int = 0
    ticket: int = 0
    invalid: int = 0
    duplicates: int = 0
    delayed: int = 0
    seconds: float = 0.0
    generator_version: int = GENERATOR_VERSION

    @property
    def distinct_valid(self) -> int:
        return self.status + self.maintenance + self.ticket + self.requests

    def as_dict(self) -> dict:
        # what `slamon replay` should count: applied (counted) events, duplicates, invalid, late
        return asdict(self) | {
            "expected_replay_outcomes": {
                "distinct_valid_events": self.distinct_valid,
                "duplicate": self.duplicates,
                "invalid": self.invalid,
                "late": 0,
            }
        }


def write_events(
    path: Path, services: int, scale: int = 1, seed: int = 1, requests_services: int = 0
) -> Stats:
    """Stream the year's events into ``path`` (JSON Lines); return what was written."""
    if scale < 1 or BASE_INTERVAL % scale:
        raise ValueError(f"--scale must divide {BASE_INTERVAL} (heartbeats every {BASE_INTERVAL}/scale s)")
    interval = BASE_INTERVAL // scale
    names = service_names(services)
    plans = [plan_service(seed, index, name) for index, name in enumerate(names)]
    contracts = (services + 1) // 2
    stats = Stats(services, contracts, scale, seed, interval, requests_services=requests_services)
    counters = [RequestCounts(seed, plan) for plan in plans[:requests_services]]
    next_minute = START  # the first minute whose request counts are not written yet
    started = time.perf_counter()

    sources = [service_events(plan) for plan in plans]
    sources += [ticket_events(seed, number) for number in range(contracts)]
    sources.append(invalid_lines(seed))
    structural = heapq.merge(*sources, key=lambda item: item[0])
    upcoming = next(structural, None)

    # heartbeat status: a heap of (next change, service index), status flipped when due
    down = [False] * services
    position = [0] * services
    changes = [(plan.down[0][0], index) for index, plan in enumerate(plans) if plan.down]
    heapq.heapify(changes)

    noise = random.Random(f"{seed}:noise:{scale}")
    draw = noise.random
    delayed: list[tuple[int, int, bytes]] = []  # (release time, order, line)
    order = itertools.count()
    dumps, newline = orjson.dumps, orjson.OPT_APPEND_NEWLINE
    offsets = sorted({plan.offset for plan in plans})
    kind_counter = {"status": 0, "maintenance": 0, "ticket": 0}

    with open(path, "wb", buffering=1 << 20) as out:
        write = out.write

        def emit(line: bytes, now: int) -> None:
            chance = draw()
            if chance < P_DUPLICATE:
                write(line)
                stats.duplicates += 1
                if chance < P_DUPLICATE / 2:  # the redelivery follows a few minutes later
                    heapq.heappush(delayed, (now + noise.randint(30, MAX_DELAY), next(order), line))
                    return
            elif chance < P_DUPLICATE + P_DELAY:
                heapq.heappush(delayed, (now + noise.randint(30, MAX_DELAY), next(order), line))
                stats.delayed += 1
                return
            write(line)

        for now in range(START, END + 1, interval):
            while delayed and delayed[0][0] <= now:
                write(heapq.heappop(delayed)[2])
            while upcoming is not None and upcoming[0] <= now:
                event = upcoming[1]
                if type(event) is bytes:  # an invalid line: written once, in place
                    write(event + b"\n")
                    stats.invalid += 1
                else:
                    emit(dumps(event, option=newline), now)
                    kind_counter[event["type"]] += 1
                upcoming = next(structural, None)
            while changes and changes[0][0] <= now:
                _, index = heapq.heappop(changes)
                spans = plans[index].down
                if down[index]:
                    down[index] = False
                    position[index] += 1
                    if position[index] < len(spans):
                        heapq.heappush(changes, (spans[position[index]][0], index))
                else:
                    down[index] = True
                    heapq.heappush(changes, (spans[position[index]][1], index))
            while counters and next_minute + MINUTE <= now:  # minutes ended by now, counted at their end
                edges = {
                    offset: (stamp(next_minute, offset), stamp(next_minute + MINUTE, offset))
                    for offset in offsets
                }
                for plan, counter in zip(plans, counters, strict=False):
                    total, failed = counter.minute(next_minute)
                    event = requests_event(plan.name, next_minute, total, failed, edges[plan.offset])
                    emit(dumps(event, option=newline), now)
                stats.requests += len(counters)
                next_minute += MINUTE
            stamps = {offset: stamp(now, offset) for offset in offsets}
            for index, plan in enumerate(plans):
                emit(
                    dumps(
                        {
                            "event_id": f"hb-{plan.name}-{now}",
                            "type": "status",
                            "service": plan.name,
                            "status": "down" if down[index] else "up",
                            "at": stamps[plan.offset],
                        },
                        option=newline,
                    ),
                    now,
                )
            stats.heartbeats += services
        while delayed:
            write(heapq.heappop(delayed)[2])
        stats.bytes = out.tell()

    stats.status = kind_counter["status"] + stats.heartbeats
    stats.maintenance = kind_counter["maintenance"]
    stats.ticket = kind_counter["ticket"]
    stats.lines = stats.distinct_valid + stats.invalid + stats.duplicates
    stats.seconds = round(time.perf_counter() - started, 1)
    return stats


def generate(out: Path, services: int, scale: int = 1, seed: int = 1, requests_services: int = 0) -> Stats:
    """Write contracts, events and manifest into ``out``; the manifest is written last (it marks
    a complete data set), the events file under a temporary name until complete."""
    out.mkdir(parents=True, exist_ok=True)
    manifest = out / "manifest.json"
    manifest.unlink(missing_ok=True)
    write_contracts(out / "contracts", services, requests_services)
    partial = out / "events.jsonl.partial"
    stats = write_events(partial, services, scale, seed, requests_services)
    os.replace(partial, out / "events.jsonl")
    manifest.write_text(json.dumps(stats.as_dict(), indent=2) + "\n")
    return stats


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, required=True, help="directory for contracts/, events.jsonl")
    parser.add_argument("--services", type=int, default=100, help="services (two per contract); default 100")
    parser.add_argument("--scale", type=int, default=1, help="heartbeats every 300/scale seconds; default 1")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--requests-services", type=int, default=0, help="services that report request counts every minute"
    )
    args = parser.parse_args()
    stats = generate(args.out, args.services, args.scale, args.seed, args.requests_services)
    print(
        f"{stats.lines:,} lines, {stats.bytes / 1e9:.2f} GB in {stats.seconds:.1f} s "
        f"-> {args.out / 'events.jsonl'} ({stats.contracts} contracts in {args.out / 'contracts'})"
    )


if __name__ == "__main__":
    main()
