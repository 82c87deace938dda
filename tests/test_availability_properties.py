"""Request-based availability against a brute force written here: every interval of every
period looked at one by one, straight from SPEC.md section 11. Arrival order, duplicates,
splitting a minute into parts and folding settled time must not change any figure."""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from monitor.contract import Contract
from monitor.engine import ClauseResult, Engine
from monitor.replay import ReplayReport, run_engine

MINUTE = 60_000_000
BASE = datetime(2026, 1, 31, 22, 0, tzinfo=UTC)  # two hours before the month end
BASE_US = int(BASE.timestamp()) * 1_000_000
PERIODS = {"2026-01": (BASE_US - 22 * 60 * MINUTE, BASE_US + 2 * 60 * MINUTE)}
PERIODS["2026-02"] = (PERIODS["2026-01"][1], PERIODS["2026-01"][1] + 24 * 60 * MINUTE)
SPAN = 6 * 60  # minutes of data from BASE: across the month end
LONG_LATENESS = timedelta(days=20)

EXAMPLES = int(os.environ.get("SLAMON_PROPERTY_EXAMPLES", "60"))
CHECKS = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@dataclass(frozen=True)
class Scenario:
    clause: dict[str, Any]
    windows: list[tuple[int, int]]  # one-off scheduled windows, minutes from BASE
    announced: list[tuple[int, int, int]]  # (start, end, notice in hours), minutes from BASE
    minutes: dict[int, tuple[int, int]]  # minute from BASE -> (total, failed)
    clock: int  # minutes from BASE


@st.composite
def scenarios(draw: Any) -> Scenario:
    method = draw(st.sampled_from(["downtime_intervals", "mean_error_rate", "request_ratio"]))
    clause: dict[str, Any] = {
        "id": "av",
        "kind": "availability",
        "service": "api",
        "method": method,
        "interval": draw(st.sampled_from(["1m", "3m", "5m", "15m"])),
        "target_percent": draw(st.sampled_from([90, 99, 99.9, 100, 0])),
        "min_requests": draw(st.integers(1, 20)),
        "min_downtime": draw(st.sampled_from(["0s", "2m", "5m", "15m", "45m"])),
        "exclude_maintenance": draw(st.booleans()),
    }
    if method == "downtime_intervals" or draw(st.booleans()):
        clause["error_rate_above_percent"] = draw(st.sampled_from([0, 5, 10, 50, 99.5]))
    window = st.tuples(st.integers(-30, SPAN), st.integers(1, 40)).map(lambda w: (w[0], w[0] + w[1]))
    windows = draw(st.lists(window, max_size=2))
    announced = [
        (start, end, draw(st.sampled_from([1, 47, 48, 72])))
        for start, end in draw(st.lists(window, max_size=2))
    ]
    random_counts = st.integers(0, 60).flatmap(lambda total: st.tuples(st.just(total), st.integers(0, total)))
    # exactly 5%, 10% or 50% failed: on the threshold, which is not above it
    on_threshold = st.tuples(st.sampled_from([20, 10, 2]), st.integers(1, 3)).map(
        lambda p: (p[0] * p[1], p[1])
    )
    minutes = draw(
        st.dictionaries(st.integers(-20, SPAN - 1), st.one_of(random_counts, on_threshold), max_size=120)
    )
    clock = draw(st.integers(SPAN + 1, SPAN + 26 * 60))  # after every `at` (up to 5 s late)
    return Scenario(clause, windows, announced, minutes, clock)


def contract(scenario: Scenario) -> Contract:
    return Contract.model_validate(
        {
            "id": "c",
            "customer": "C",
            "provider": "P",
            "timezone": "UTC",
            "currency": "EUR",
            "monthly_fee": "100.00",
            "effective_from": "2026-01-31",
            "effective_to": "2026-02-02",
            "maintenance": {
                "windows": [
                    {"start": stamp(BASE_US + a * MINUTE), "end": stamp(BASE_US + b * MINUTE)}
                    for a, b in scenario.windows
                ],
                "announced_min_notice": "48h",
            },
            "clauses": [scenario.clause],
        }
    )


def stamp(instant: int) -> str:
    return datetime.fromtimestamp(instant / 1_000_000, UTC).isoformat()


def events(scenario: Scenario, rng: random.Random, split: bool, delay: bool = True) -> list[str]:
    """The scenario's events; with ``split``, minutes cut into parts whose counts add up;
    with ``delay``, counts taken up to 5 s after the end of their part."""
    lines = []
    for number, (start, end, notice) in enumerate(scenario.announced):
        a, b = BASE_US + start * MINUTE, BASE_US + end * MINUTE
        lines.append(
            json.dumps(
                {"event_id": f"m{number}", "type": "maintenance", "service": "api",
                 "start": stamp(a), "end": stamp(b), "at": stamp(a - notice * 3600 * 1_000_000)}
            )
        )  # fmt: skip
    for minute, (total, failed) in scenario.minutes.items():
        start = BASE_US + minute * MINUTE
        cuts = sorted(rng.sample(range(1, 60), rng.randint(1, 3))) if split else []
        edges = [0, *cuts, 60]
        parts = len(edges) - 1
        totals = _share(total, parts, rng)
        faileds = [min(f, t) for f, t in zip(_share(failed, parts, rng), totals, strict=True)]
        faileds[-1] += failed - sum(faileds)
        if faileds[-1] > totals[-1]:  # move failures to parts with room
            faileds = _fit(failed, totals)
        for part in range(parts):
            lo, hi = start + edges[part] * 1_000_000, start + edges[part + 1] * 1_000_000
            lines.append(
                json.dumps(
                    {"event_id": f"r{minute}:{part}", "type": "requests", "service": "api",
                     "start": stamp(lo), "end": stamp(hi), "total": totals[part],
                     "failed": faileds[part], "at": stamp(hi + delay * rng.randint(0, 5) * 1_000_000)}
                )
            )  # fmt: skip
    return lines


def _share(amount: int, parts: int, rng: random.Random) -> list[int]:
    cuts = sorted(rng.randint(0, amount) for _ in range(parts - 1))
    edges = [0, *cuts, amount]
    return [edges[i + 1] - edges[i] for i in range(parts)]


def _fit(failed: int, totals: list[int]) -> list[int]:
    shares = []
    for total in totals:
        take = min(total, failed)
        shares.append(take)
        failed -= take
    return shares


# the brute force -------------------------------------------------------------------------


Figures = dict[str, tuple[float, bool, list[tuple[int, int, int, int, int, bool]]]]


def brute_force(scenario: Scenario, lateness_us: int) -> Figures:
    """attained percent, final and the counted down runs' lines, per period, interval by interval."""
    clause = scenario.clause
    size = int(clause["interval"][:-1]) * MINUTE
    clock = BASE_US + scenario.clock * MINUTE
    excluded: list[tuple[int, int]] = []
    if clause["exclude_maintenance"]:
        excluded = [(BASE_US + a * MINUTE, BASE_US + b * MINUTE) for a, b in scenario.windows]
        excluded += [
            (BASE_US + a * MINUTE, BASE_US + b * MINUTE)
            for a, b, notice in scenario.announced
            if notice >= 48
        ]
    min_requests = clause["min_requests"]
    above = clause.get("error_rate_above_percent")
    min_down = int(clause["min_downtime"][:-1]) * (MINUTE if clause["min_downtime"].endswith("m") else 0)

    def period_of(start: int) -> str | None:
        return next((key for key, (a, b) in PERIODS.items() if a <= start < b), None)

    def counts(start: int) -> tuple[int, int]:
        total = failed = 0
        for minute, (t, f) in scenario.minutes.items():
            if start <= BASE_US + minute * MINUTE < start + size:
                total, failed = total + t, failed + f
        return total, failed

    # every interval that starts in a period and has ended by the clock, in order
    first = PERIODS["2026-01"][0] // size
    rows = []
    index = first
    while (index + 1) * size <= clock:
        start = index * size
        key = period_of(start)
        if key is not None:
            out = any(a < start + size and b > start for a, b in excluded)
            total, failed = counts(start)
            down = (
                not out
                and above is not None
                and total >= min_requests
                and Fraction(failed, total) > Fraction(str(above)) / 100
            )
            rows.append((index, key, out, total, failed, down))
        index += 1
    # down runs: consecutive intervals all down; counted when long enough; the last one open
    counted: set[int] = set()
    undecided: set[str] = set()
    lines: dict[str, list[tuple[int, int, int, int, int, bool]]] = {}
    position = 0
    while position < len(rows):
        if not rows[position][5]:
            position += 1
            continue
        end = position
        while end + 1 < len(rows) and rows[end + 1][5] and rows[end + 1][0] == rows[end][0] + 1:
            end += 1
        run = rows[position : end + 1]
        still_down = rows[end][0] == clock // size - 1
        if len(run) * size >= min_down:
            counted.update(row[0] for row in run)
            worst = max(run, key=lambda row: Fraction(row[4], row[3]))  # the first of the worst
            for key in dict.fromkeys(row[1] for row in run):
                line = (run[0][0] * size, (run[-1][0] + 1) * size, worst[4], worst[3])
                lines.setdefault(key, []).append((*line, sum(row[1] == key for row in run), still_down))
        elif still_down:  # not decided yet
            undecided.update(row[1] for row in run)
        position = end + 1
    results = {}
    for key, (period_start, period_end) in PERIODS.items():
        if period_start >= clock:
            continue
        mine = [row for row in rows if row[1] == key and not row[2]]
        eligible = len(mine)
        if clause["method"] == "downtime_intervals":
            down = sum(1 for row in mine if row[0] in counted)
            attained = Fraction(100) if eligible == 0 else Fraction(100 * (eligible - down), eligible)
        elif clause["method"] == "mean_error_rate":
            rates = sum((Fraction(f, t) for _, _, _, t, f, _ in mine if t >= min_requests), Fraction(0))
            attained = Fraction(100) if eligible == 0 else 100 * (1 - rates / eligible)
        else:
            total = sum(row[3] for row in mine)
            failed = sum(row[4] for row in mine)
            attained = Fraction(100) if total == 0 else Fraction(100 * (total - failed), total)
        last_end = -(-period_end // size) * size
        final = clock >= last_end + lateness_us and not (
            clause["method"] == "downtime_intervals" and key in undecided
        )
        results[key] = (float(attained), final, lines.get(key, []) if above is not None else [])
    return results


def engine_figures(scenario: Scenario, lines: list[str], lateness: timedelta) -> Figures:
    """Replay's records, with the down runs the engine gives statements (its details)."""
    engine = Engine([contract(scenario)], lateness)
    report = ReplayReport(records=[])
    run_engine(engine, lines, report)
    assert not report.invalid_lines, report.invalid_lines
    clock = BASE_US + scenario.clock * MINUTE
    engine.advance_to(clock)
    runs = {d.period: [tuple(line) for line in d.data["down_runs"]] for d in engine.clause_details(clock)}
    return {
        r.period: (float(r.attained), r.final, runs.get(r.period, []))
        for r in engine.results(clock)
        if isinstance(r, ClauseResult)
    }


@CHECKS
@given(scenarios(), st.randoms(use_true_random=False), st.booleans())
def test_any_order_duplicates_and_parts_agree_with_the_brute_force(
    scenario: Scenario, rng: random.Random, split: bool
) -> None:
    lines = events(scenario, rng, split)
    lines += rng.sample(lines, k=len(lines) // 4)  # duplicates
    rng.shuffle(lines)
    expected = brute_force(scenario, int(LONG_LATENESS.total_seconds()) * 1_000_000)
    assert engine_figures(scenario, lines, LONG_LATENESS) == expected


@CHECKS
@given(scenarios(), st.randoms(use_true_random=False), st.sampled_from([0, 1, 7]))
def test_folding_settled_intervals_agrees_with_the_brute_force(
    scenario: Scenario, rng: random.Random, lateness_minutes: int
) -> None:
    """Events in time order with a short lateness: the engine folds settled intervals as it
    goes, across the month end and down runs, and must still agree."""
    lines = events(scenario, rng, split=True, delay=False)
    # by `at`: a part's counts are taken at its end, so none starts before the clock
    lines.sort(key=lambda line: datetime.fromisoformat(json.loads(line)["at"]))
    lateness = timedelta(minutes=lateness_minutes)
    expected = brute_force(scenario, lateness_minutes * MINUTE)
    assert engine_figures(scenario, lines, lateness) == expected


def replayed_notices(scenario: Scenario, lines: list[str], lateness: timedelta, fold_every_wake: bool) -> Any:
    """Replay's records and notices; with ``fold_every_wake``, the watch folds a woken clause
    every time, as it did before it learnt to wait while no notice could become true."""
    engine = Engine([contract(scenario)], lateness)
    if fold_every_wake:
        for states in engine._availability.values():
            for state in states:
                state.quiet_through = lambda *_: False  # type: ignore[method-assign]
    report = ReplayReport(records=[])
    run_engine(engine, lines, report)
    clock = BASE_US + scenario.clock * MINUTE
    engine.advance_to(clock)
    records = [r.to_record() for r in engine.results(clock)]
    return records, [n.to_record() for n in engine.take_notices()]


@st.composite
def budget_scenarios(draw: Any) -> Scenario:
    """Clauses whose budget notices the watch may wait for (not request_ratio), with small
    budgets, so that notices come often."""
    scenario = draw(scenarios().filter(lambda s: s.clause["method"] != "request_ratio"))
    clause = scenario.clause | {"target_percent": draw(st.sampled_from([99, 99.9, 99.99]))}
    return replace(scenario, clause=clause)


@CHECKS
@given(budget_scenarios(), st.randoms(use_true_random=False), st.sampled_from([60, 120]))
def test_the_watch_waiting_to_fold_states_the_same_notices_at_the_same_clocks(
    scenario: Scenario, rng: random.Random, lateness_minutes: int
) -> None:
    """The watch skips the fold of a woken clause while the new intervals cannot make a budget
    notice true; its notices (at risk, breached, closing, with their clocks and facts) and
    records must equal those of folding at every wake. (A lateness of an hour or more: the
    engine's own folds are then an hour apart, and the watch's folds matter.)"""
    lines = events(scenario, rng, split=rng.random() < 0.5)
    lines.sort(key=lambda line: datetime.fromisoformat(json.loads(line)["at"]))
    lateness = timedelta(minutes=lateness_minutes)
    waiting = replayed_notices(scenario, lines, lateness, fold_every_wake=False)
    assert waiting == replayed_notices(scenario, lines, lateness, fold_every_wake=True)
