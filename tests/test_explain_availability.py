"""`slamon explain` of request-based availability clauses (SPEC.md sections 11 and 14):
hand-computed months for each method, from the events and from a SQLite ledger, and every
availability clause of the sample stream explained as the engine computed it. The arithmetic
is in the comments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import orjson
import pytest

from monitor.contract import Contract
from monitor.demo_stream import sample_events
from monitor.engine import Engine
from monitor.events import decode_event
from monitor.explain import ExplainError, Explanation, explain_from_events, explain_from_ledger
from monitor.ledger.store import Ledger
from monitor.loader import load_contracts
from monitor.settings import DEFAULT_CONTRACTS
from tests.builders import TICK_SERVICE, availability, contract, maintenance, requests, status

TICK = status("2026-12-02T00:00:00Z", "up", service=TICK_SERVICE, event_id="tick")  # November final


def steps(explanation: Explanation, heading: str) -> list[tuple[str, tuple[str, ...]]]:
    section = next(s for s in explanation.sections if s.heading == heading)
    return [(step.text, step.events) for step in section.steps]


def texts(explanation: Explanation, heading: str) -> list[str]:
    return [text for text, _ in steps(explanation, heading)]


def by_events(explanation: Explanation, heading: str) -> dict[tuple[str, ...], str]:
    return {events: text for text, events in steps(explanation, heading) if events}


def attained_line(explanation: Explanation) -> str:
    return texts(explanation, "Arithmetic")[1]


def from_ledger(
    tmp_path: Path, terms: Contract, lines: Sequence[str], clause: str, period: str
) -> Explanation:
    """Explain from a SQLite ledger the engine's results and details were written to."""
    engine = Engine([terms], timedelta(hours=1))
    for line in lines:
        engine.apply(decode_event(line))
    ledger = Ledger(f"sqlite:///{tmp_path / 'ledger.db'}", [terms])
    try:
        ledger.record_details([d.to_record() for d in engine.clause_details()])
        ledger.write_results(r.to_record() for r in engine.results())
        records = ledger.read_results(terms.id)
        details = ledger.read_details(terms.id, period)[clause]
    finally:
        ledger.close()
    return explain_from_ledger(terms, clause, period, records, details)


# downtime_intervals: 5-minute intervals in Berlin, runs across both ends of November -------
DOWNTIME = contract(
    availability(
        interval="5m",
        error_rate_above_percent=5,
        min_requests=10,
        min_downtime="15m",
        target=99.95,
        credits=[{"below_percent": 99.95, "credit_percent": 5}],
    ),
    effective_from="2026-10-01",
    maintenance={"announced_min_notice": "48h"},
)
DOWNTIME_EVENTS = [
    # run A, 31 Oct 22:50Z-23:10Z (23:50-00:10 CET), 10% > 5% each: 20 min >= 15 min, counted;
    # two intervals in October (22:50Z, 22:55Z), two in November (23:00Z, 23:05Z)
    requests("2026-10-31T22:50:00Z", 100, 10, event_id="a1"),
    requests("2026-10-31T22:55:00Z", 100, 10, event_id="a2"),
    requests("2026-10-31T23:00:00Z", 100, 10, event_id="a3"),
    requests("2026-10-31T23:05:00Z", 100, 10, event_id="a4"),
    # 6% down, exactly 5% up (not above 5%), 6% down: two runs of 5 min, both ignored
    requests("2026-11-10T10:00:00Z", 100, 6, event_id="c1"),
    requests("2026-11-10T10:05:00Z", 200, 10, event_id="c2"),
    requests("2026-11-10T10:10:00Z", 100, 6, event_id="c3"),
    # 9 of 9 failed, under min_requests 10: never down
    requests("2026-11-12T09:00:00Z", 9, 9, event_id="d1"),
    # maintenance 10:02Z-10:07Z announced 5 days 2 minutes ahead (>= 48 h) touches the
    # intervals 10:00Z and 10:05Z
    maintenance("2026-11-15T10:02:00Z", "2026-11-15T10:07:00Z", "2026-11-10T10:00:00Z", event_id="m1"),
    requests("2026-11-15T10:00:00Z", 100, 100, event_id="e0"),  # excluded: not down
    requests("2026-11-15T10:05:00Z", 100, 50, event_id="e1"),  # excluded: not down
    # 10:10Z-10:25Z, 20% each: 15 min >= 15 min, counted (the excluded interval ended the run)
    requests("2026-11-15T10:10:00Z", 100, 20, event_id="e2"),
    requests("2026-11-15T10:15:00Z", 100, 20, event_id="e3"),
    requests("2026-11-15T10:20:00Z", 100, 20, event_id="e4"),
    # run B, 30 Nov 22:55Z (23:55 CET, November) and 23:00Z (December): 10 min < 15, ignored
    requests("2026-11-30T22:55:00Z", 100, 30, event_id="b1"),
    requests("2026-11-30T23:00:00Z", 100, 30, event_id="b2"),
    TICK,
]


def test_a_downtime_intervals_month_from_its_events() -> None:
    explanation = explain_from_events([DOWNTIME], "acme", "api-availability", "2026-11", DOWNTIME_EVENTS)
    # November in Berlin: 1 Nov 00:00 CET to 1 Dec 00:00 CET, 30 x 24 x 12 = 8640 intervals of
    # 5 min; excluded 2 (15 Nov 10:00Z and 10:05Z): E = 8638
    intervals = texts(explanation, "Intervals")
    assert intervals[0] == (
        "Intervals of 5 min starting in 2026-11 and ended by the clock: 8640; "
        "excluded 2; eligible E = 8640 − 2 = 8638."
    )
    # with requests and not excluded in November: a3 a4 c1 c2 c3 d1 e2 e3 e4 b1 = 10
    assert intervals[1] == "Eligible intervals with requests: 10; without requests (up, no failures): 8628."
    assert intervals[2] == "Under min_requests (10): 1 intervals, not rated."
    assert "9 of 9 requests failed, under min_requests 10" in by_events(explanation, "Intervals")[("d1",)]
    windows = by_events(explanation, "Excluded windows")
    assert "announced 5 days 2 minutes ahead: 5 min in the period" in windows[("m1",)]
    assert (
        "Intervals touching excluded time, left out: 2026-11-15 11:00:00+01:00 (2026-11-15 10:00:00Z) "
        "to 2026-11-15 11:10:00+01:00 (2026-11-15 10:10:00Z), 2 intervals."
    ) in texts(explanation, "Excluded windows")
    runs = by_events(explanation, "Down runs")
    assert runs[("a1", "a4")] == (
        "Down from 2026-10-31 23:50:00+01:00 (2026-10-31 22:50:00Z) to 2026-11-01 00:10:00+01:00 "
        "(2026-10-31 23:10:00Z): 20 min, 4 intervals, 2 in 2026-11, worst 10.000% failed; "
        "reaches min_downtime (15 minutes): counted."
    )
    assert runs[("e2", "e4")].endswith(
        "15 min, 3 intervals, 3 in 2026-11, worst 20.000% failed; reaches min_downtime (15 minutes): counted."
    )
    assert runs[("c1",)].endswith(
        "5 min, 1 intervals, 1 in 2026-11, worst 6.000% failed; "
        "shorter than min_downtime (15 minutes): ignored."
    )
    assert "shorter than min_downtime" in runs[("c3",)]
    # run B is measured whole (10 min), one of its intervals is in November
    assert (
        "to 2026-12-01 00:05:00+01:00 (2026-11-30 23:05:00Z): 10 min, 2 intervals, 1 in 2026-11"
        in (runs[("b1", "b2")])
    )
    assert runs[("b1", "b2")].endswith("ignored.")
    named = {event for events in runs for event in events}
    assert not named & {"c2", "e0", "e1", "d1"}  # exactly 5%, excluded and under min_requests: not down
    # D = 2 (run A in November) + 3 (10:10Z-10:25Z) = 5
    assert texts(explanation, "Down runs")[-1] == "Counted down intervals in 2026-11: 5."
    # 100 x (8638 - 5) / 8638 = 863300 / 8638 = 431650/4319 ~ 99.942% < 99.95%: missed, 5%
    assert texts(explanation, "Arithmetic")[0] == "attained = 100 × (8638 − 5) / 8638."
    assert "99.942% (exactly 431650/4319)" in attained_line(explanation)
    assert attained_line(explanation).endswith("missed.")
    assert "Clause credit: 5% of the monthly fee." in texts(explanation, "Arithmetic")


def test_the_october_side_of_a_run_across_the_month_end() -> None:
    explanation = explain_from_events([DOWNTIME], "acme", "api-availability", "2026-10", DOWNTIME_EVENTS)
    # October in Berlin: 745 h (summer time ends on the 25th) = 8940 intervals; run A has two
    # of them (22:50Z, 22:55Z): 100 x (8940 - 2) / 8940 = 893800/8940 = 44690/447
    assert "20 min, 4 intervals, 2 in 2026-10" in by_events(explanation, "Down runs")[("a1", "a4")]
    assert texts(explanation, "Arithmetic")[0] == "attained = 100 × (8940 − 2) / 8940."
    assert "(exactly 44690/447)" in attained_line(explanation)


def test_a_downtime_intervals_month_from_the_ledger(tmp_path: Path) -> None:
    lines = DOWNTIME_EVENTS
    ledger = from_ledger(tmp_path, DOWNTIME, lines, "api-availability", "2026-11")
    events = explain_from_events([DOWNTIME], "acme", "api-availability", "2026-11", lines)
    assert steps(ledger, "Arithmetic") == steps(events, "Arithmetic")
    assert steps(ledger, "Credit owed") == steps(events, "Credit owed")
    assert texts(ledger, "Intervals")[0] == texts(events, "Intervals")[0]
    # the ledger keeps the two counted runs (A and 10:10Z-10:25Z) with the ids at their edges,
    # not the ignored ones
    counted = [step for step in steps(events, "Down runs") if step[0].endswith(": counted.")]
    assert [ids for _, ids in counted] == [("a1", "a4"), ("e2", "e4")]
    assert steps(ledger, "Down runs") == [*counted, ("Counted down intervals in 2026-11: 5.", ())]
    assert "Announced maintenance 2026-11-15 11:02:00+01:00" in texts(ledger, "Excluded windows")[0]


# mean_error_rate: 15-minute intervals in UTC, a scheduled window ----------------------------
MEAN = contract(
    availability(method="mean_error_rate", interval="15m", min_requests=10, target=99.99),
    timezone="UTC",
    effective_from="2026-11-01",
    maintenance={"windows": [{"start": "2026-11-20T10:20:00Z", "end": "2026-11-20T10:40:00Z"}]},
)
MEAN_EVENTS = [
    # one interval (10:00Z-10:15Z) in two minutes: 5 + 15 failed of 100 + 100 = 20/200 = 1/10
    requests("2026-11-05T10:00:00Z", 100, 5, event_id="r1a"),
    requests("2026-11-05T10:07:00Z", 100, 15, event_id="r1b"),
    requests("2026-11-06T10:00:00Z", 8, 8, event_id="r2"),  # 8 < min_requests 10: rate 0
    requests("2026-11-07T10:00:00Z", 400, 1, event_id="r3"),  # 1/400
    # the window 10:20Z-10:40Z touches the intervals 10:15Z and 10:30Z: 100% failed, not rated
    requests("2026-11-20T10:30:00Z", 100, 100, event_id="r4"),
    TICK,
]


def test_a_mean_error_rate_month_from_its_events() -> None:
    explanation = explain_from_events([MEAN], "acme", "api-availability", "2026-11", MEAN_EVENTS)
    # November in UTC: 30 x 96 = 2880 intervals of 15 min, 2 excluded: E = 2878
    assert texts(explanation, "Intervals")[0] == (
        "Intervals of 15 min starting in 2026-11 and ended by the clock: 2880; "
        "excluded 2; eligible E = 2880 − 2 = 2878."
    )
    assert "8 of 8 requests failed" in by_events(explanation, "Intervals")[("r2",)]
    window = texts(explanation, "Excluded windows")
    assert any("one-off window maintenance.windows[0]" in text for text in window)
    assert (
        "Intervals touching excluded time, left out: 2026-11-20 10:15:00+00:00 (2026-11-20 10:15:00Z) "
        "to 2026-11-20 10:45:00+00:00 (2026-11-20 10:45:00Z), 2 intervals."
    ) in window
    rates = by_events(explanation, "Error rates")
    assert rates[("r1a", "r1b")].endswith("rate 20/200 = 10.000%.")
    assert rates[("r3",)].endswith("rate 1/400 = 0.250% (1/400).")
    assert ("r4",) not in rates and ("r2",) not in rates
    # Σ rate = 1/10 + 1/400 = 41/400 = 0.1025
    assert texts(explanation, "Error rates")[-1].endswith(": 41/400 ≈ 0.102500.")
    # 100 x (1 - (41/400) / 2878) = 100 x (1151200 - 41) / 1151200 = 1151159/11512 ~ 99.99644%
    assert texts(explanation, "Arithmetic")[0] == "attained = 100 × (1 − 41/400 / 2878)."
    assert Fraction(100) * (1 - Fraction(41, 400) / 2878) == Fraction(1151159, 11512)
    assert "99.996% (exactly 1151159/11512)" in attained_line(explanation)
    assert attained_line(explanation).endswith("met.")


def test_a_mean_error_rate_month_from_the_ledger_is_exact(tmp_path: Path) -> None:
    ledger = from_ledger(tmp_path, MEAN, MEAN_EVENTS, "api-availability", "2026-11")
    events = explain_from_events([MEAN], "acme", "api-availability", "2026-11", MEAN_EVENTS)
    assert steps(ledger, "Arithmetic") == steps(events, "Arithmetic")
    # the ledger keeps the exact sum 41/400 (not 0.1025 as a float), so no note about rounding
    assert texts(ledger, "Error rates") == [texts(events, "Error rates")[-1]]


# request_ratio: announced maintenance leaves its requests out ------------------------------
RATIO = contract(
    availability(method="request_ratio", min_requests=10, target=99.9),
    timezone="UTC",
    effective_from="2026-11-01",
    maintenance={"announced_min_notice": "24h"},
)
RATIO_EVENTS = [
    requests("2026-11-03T10:00:00Z", 1000, 10, event_id="q1"),
    requests("2026-11-03T10:01:00Z", 1000, 0, event_id="q2"),
    maintenance("2026-11-04T10:00:00Z", "2026-11-04T10:30:00Z", "2026-11-02T10:00:00Z", event_id="m1"),
    requests("2026-11-04T10:10:00Z", 500, 500, event_id="q3"),  # excluded: not counted
    requests("2026-11-05T10:00:00Z", 3, 1, event_id="q4"),  # min_requests has no bearing here
    TICK,
]


def test_a_request_ratio_month_from_its_events_and_the_ledger(tmp_path: Path) -> None:
    explanation = explain_from_events([RATIO], "acme", "api-availability", "2026-11", RATIO_EVENTS)
    # 43200 one-minute intervals, 30 touch the window 10:00Z-10:30Z: E = 43170
    assert texts(explanation, "Intervals")[0].endswith("43200; excluded 30; eligible E = 43200 − 30 = 43170.")
    # total 1000 + 1000 + 3 = 2003, failed 10 + 1 = 11 (q3's 500 are in an excluded interval)
    assert texts(explanation, "Requests") == [
        "Requests in the eligible intervals: 2003, failed 11, good 2003 − 11 = 1992."
    ]
    # 100 x 1992 / 2003 = 199200/2003 ~ 99.451% < 99.9: missed
    assert texts(explanation, "Arithmetic")[0] == "attained = 100 × (2003 − 11) / 2003."
    assert "99.451% (exactly 199200/2003)" in attained_line(explanation)
    assert attained_line(explanation).endswith("missed.")
    ledger = from_ledger(tmp_path, RATIO, RATIO_EVENTS, "api-availability", "2026-11")
    assert steps(ledger, "Arithmetic") == steps(explanation, "Arithmetic")
    assert steps(ledger, "Requests") == steps(explanation, "Requests")


def test_every_availability_clause_of_the_sample_stream_is_explained_as_the_engine_computed_it() -> None:
    # explain checks its derivation against the engine's result (and its walk of the intervals
    # against the engine's totals) and raises if they differ
    contracts = load_contracts(DEFAULT_CONTRACTS).contracts
    lines = [orjson.dumps(e) for e in sample_events()]
    engine = Engine(contracts)
    for line in lines:
        engine.apply(decode_event(line))
    records = [r.to_record() for r in engine.results()]
    clauses = [(c.id, k.id) for c in contracts for k in c.clauses if k.kind == "availability"]
    assert clauses  # nimbus-functions' functions-availability
    explained = 0
    for record in records:
        if record["record"] != "clause" or (record["contract"], record["clause"]) not in clauses:
            continue
        explanation = explain_from_events(
            contracts, record["contract"], record["clause"], record["period"], lines
        )
        assert f"{record['attained_percent']:.3f}%" in attained_line(explanation)
        explained += 1
    assert explained >= 2
    september = explain_from_events(contracts, "nimbus-functions", "functions-availability", "2026-09", lines)
    # the demo's incident: 9 Sep 13:00Z-17:50Z, 290 minutes with 40% failed; 100 x (43200 - 290) / 43200
    assert by_events(september, "Down runs")[("functions-20260909T1300", "functions-20260909T1749")]
    assert texts(september, "Arithmetic")[0] == "attained = 100 × (43200 − 290) / 43200."


def test_a_ledger_without_the_exact_sum_or_with_other_totals(tmp_path: Path) -> None:
    engine = Engine([MEAN], timedelta(hours=1))
    for line in MEAN_EVENTS:
        engine.apply(decode_event(line))
    records = [r.to_record() for r in engine.results()]
    details = next(
        d.to_record()
        for d in engine.clause_details()
        if d.period == "2026-11" and d.clause == "api-availability"
    )
    assert details["details"]["error_rate_sum_exact"] == "41/400"
    # a ledger written before the exact sum was kept: the float 0.1025 stands in, and says so
    del details["details"]["error_rate_sum_exact"]
    older = explain_from_ledger(MEAN, "api-availability", "2026-11", records, details)
    assert texts(older, "Error rates")[-1].startswith(
        "The ledger keeps this sum of the error rates as a float"
    )
    # totals that are not what the result was computed from: one more eligible interval
    details["details"]["eligible_intervals"] += 1
    with pytest.raises(ExplainError, match="the derivation gives"):
        explain_from_ledger(MEAN, "api-availability", "2026-11", records, details)
