"""Notices from the engine at the hand-computed moment (SPEC.md section 6).

UTC contract, October 2026: 31 days = 744 h = 44,640 min. A 99.5% target leaves a budget of
0.5% of 44,640 min = 223.2 min; 75% of it (at risk) is 167.4 min.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import orjson
import pytest

from monitor.engine import Engine
from monitor.engine.notices import NoticeType
from monitor.engine.snapshot import export_state, restore_state
from monitor.events import decode_event
from tests.builders import contract, maintenance, response, status, ticket, uptime

OUTAGE_START = datetime.fromisoformat("2026-10-05T00:00:00+00:00")
AT_RISK_AFTER = timedelta(minutes=167, seconds=24)  # 167.4 min
BUDGET = timedelta(minutes=223, seconds=12)  # 223.2 min
EPSILON = timedelta(microseconds=1)


def october(clause: dict, **overrides):
    """A UTC contract in effect from October 2026 (no earlier months to close)."""
    return contract(clause, timezone="UTC", effective_from="2026-10-01", **overrides)


def utc_contract(**overrides):
    return october(uptime(), **overrides)


def engine_with(lines: list[str], lateness: timedelta = timedelta(0), **options) -> Engine:
    engine = Engine([options.pop("contract", None) or utc_contract()], lateness, **options)
    for line in lines:
        engine.apply(decode_event(line))
    return engine


def kinds(engine: Engine) -> list[str]:
    return [f"{n.type.value}:{n.period}" for n in engine.take_notices()]


def test_at_risk_at_75_percent_of_the_budget_and_breached_just_past_it() -> None:
    engine = engine_with([status(OUTAGE_START.isoformat(), "down")])
    assert kinds(engine) == []
    engine.advance(OUTAGE_START + AT_RISK_AFTER - EPSILON)
    assert kinds(engine) == []
    engine.advance(OUTAGE_START + AT_RISK_AFTER)  # 167.4 min down: exactly 75% used
    assert kinds(engine) == ["sla.at_risk:2026-10"]
    engine.advance(OUTAGE_START + BUDGET)  # the whole budget used, not exceeded: can still be met
    assert kinds(engine) == []
    engine.advance(OUTAGE_START + BUDGET + EPSILON)
    assert kinds(engine) == ["sla.breached:2026-10"]


def test_breached_notice_carries_the_figures() -> None:
    engine = engine_with([status(OUTAGE_START.isoformat(), "down")])
    engine.advance(OUTAGE_START + BUDGET + EPSILON)
    notices = engine.take_notices()
    assert [n.type for n in notices] == [NoticeType.AT_RISK, NoticeType.BREACHED]
    breached = notices[1]
    assert breached.id == "acme/api-uptime/2026-10/sla.breached"
    assert breached.facts["budget_seconds"] == 223.2 * 60
    assert breached.facts["downtime_seconds"] == 223.2 * 60 + 1e-6
    assert breached.facts["target_percent"] == 99.5


def test_lateness_delays_the_notice_until_the_downtime_is_settled() -> None:
    engine = engine_with([status(OUTAGE_START.isoformat(), "down")], lateness=timedelta(hours=1))
    engine.advance(OUTAGE_START + BUDGET + EPSILON)
    assert kinds(engine) == []  # an "up" could still arrive for the last hour
    engine.advance(OUTAGE_START + BUDGET + timedelta(hours=1))
    assert kinds(engine) == ["sla.at_risk:2026-10"]
    engine.advance(OUTAGE_START + BUDGET + timedelta(hours=1) + EPSILON)
    assert kinds(engine) == ["sla.breached:2026-10"]


def test_a_service_back_up_in_time_is_never_breached() -> None:
    back = OUTAGE_START + timedelta(minutes=200)
    engine = engine_with([status(OUTAGE_START.isoformat(), "down"), status(back.isoformat(), "up")])
    engine.advance(datetime.fromisoformat("2026-10-31T00:00:00+00:00"))
    assert kinds(engine) == ["sla.at_risk:2026-10"]


def test_announced_maintenance_shrinks_the_budget() -> None:
    """48 h of announced maintenance: eligible 696 h, budget 0.5% of 41,760 min = 208.8 min."""
    lines = [
        maintenance("2026-10-20T00:00:00+00:00", "2026-10-22T00:00:00+00:00", "2026-10-01T00:00:00+00:00"),
        status(OUTAGE_START.isoformat(), "down"),
    ]
    engine = engine_with(lines, contract=utc_contract(maintenance={"announced_min_notice": "48h"}))
    engine.advance(OUTAGE_START + timedelta(minutes=208, seconds=48))
    assert "sla.breached:2026-10" not in kinds(engine)
    engine.advance(OUTAGE_START + timedelta(minutes=208, seconds=48) + EPSILON)
    assert kinds(engine) == ["sla.breached:2026-10"]


def test_min_outage_counts_a_span_only_once_it_is_long_enough() -> None:
    """min_outage 200 min: the span counts whole once 200 min long; 75% is reached then."""
    clause = uptime(min_outage="200m")
    engine = engine_with([status(OUTAGE_START.isoformat(), "down")], contract=october(clause))
    engine.advance(OUTAGE_START + timedelta(minutes=200) - EPSILON)
    assert kinds(engine) == []
    engine.advance(OUTAGE_START + timedelta(minutes=200))
    assert kinds(engine) == ["sla.at_risk:2026-10"]


def test_period_closed_with_credit_and_a_breach_found_at_close() -> None:
    """Down the last 4 hours of October: 240 min > 223.2, found as the month closes."""
    down = datetime.fromisoformat("2026-10-31T20:00:00+00:00")
    engine = engine_with([status(down.isoformat(), "down")])
    engine.advance(datetime.fromisoformat("2026-11-01T00:00:00+00:00"))
    notices = engine.take_notices()
    closed = [n for n in notices if n.type is NoticeType.PERIOD_CLOSED]
    assert [n.period for n in closed][-1] == "2026-10"
    october = closed[-1]
    # attained = 100 * (44640 - 240) / 44640 = 99.462365...%: below 99.5, tier credit 0 (none)
    assert october.facts["met"] is False
    assert october.facts["attained_percent"] == pytest.approx(100 * (44640 - 240) / 44640, abs=0)
    assert "acme/api-uptime/2026-10/sla.breached" in {n.id for n in notices}


def test_a_clock_that_jumps_past_the_close_still_states_what_the_month_reached() -> None:
    """Down 4 h (240 min > 223.2 min budget, > 167.4 at risk) in early October; the clock's
    next move is straight past the close (an idle partition moved to the wall clock): the
    month was at risk and breached, as a clock moving minute by minute would have said."""
    engine = engine_with(
        [
            status(OUTAGE_START.isoformat(), "down"),
            status((OUTAGE_START + timedelta(hours=4)).isoformat(), "up"),
        ],
        clocked_by_events=False,  # the live worker's engine: its driver moves the clock
    )
    assert kinds(engine) == []
    engine.advance(datetime.fromisoformat("2026-11-20T00:00:00+00:00"))
    assert kinds(engine) == ["sla.at_risk:2026-10", "sla.breached:2026-10", "sla.period_closed:2026-10"]


def test_period_closed_with_credit_amount() -> None:
    clause = uptime(credits=[{"below_percent": 99.5, "credit_percent": 7.5}])
    engine = engine_with(
        [
            status(OUTAGE_START.isoformat(), "down"),
            status((OUTAGE_START + timedelta(hours=5)).isoformat(), "up"),
        ],
        contract=october(clause, monthly_fee="1234567", currency="JPY"),
    )
    engine.advance(datetime.fromisoformat("2026-11-01T00:00:00+00:00"))
    [closed] = [n for n in engine.take_notices() if n.id == "acme/api-uptime/2026-10/sla.period_closed"]
    # 1,234,567 JPY x 7.5% = 92,592.525 -> 92,593 (half up, no minor unit)
    assert closed.facts["credit_amount"] == "92593"
    assert closed.facts["credit_percent"] == 7.5


def test_each_notice_once_even_when_the_clock_keeps_moving() -> None:
    engine = engine_with([status(OUTAGE_START.isoformat(), "down")])
    seen: list[str] = []
    clock = OUTAGE_START
    while clock < datetime.fromisoformat("2026-12-15T00:00:00+00:00"):
        clock += timedelta(minutes=7)
        engine.advance(clock)
        seen.extend(n.id for n in engine.take_notices())
    assert len(seen) == len(set(seen))
    assert "acme/api-uptime/2026-11/sla.breached" in seen  # still down through November


def test_response_time_at_risk_below_target_plus_margin() -> None:
    """Target 90, threshold 75%: margin 0.25 x 10 = 2.5, at risk below 92.5% on time.
    Ten tickets: one missed -> 90% < 92.5 -> at risk."""
    clause = response(within="1h")
    lines = []
    for number in range(10):
        opened = datetime.fromisoformat("2026-10-05T00:00:00+00:00") + timedelta(hours=2 * number)
        lines.append(ticket(f"T{number}", "opened", opened.isoformat()))
        if number != 9:
            lines.append(ticket(f"T{number}", "responded", (opened + timedelta(minutes=30)).isoformat()))
    engine = engine_with(lines, contract=october(clause))
    last_deadline = datetime.fromisoformat("2026-10-05T19:00:00+00:00")
    engine.advance(last_deadline)
    assert kinds(engine) == []  # the last ticket is not missed yet: nine of nine on time
    engine.advance(last_deadline + EPSILON)
    assert kinds(engine) == ["sla.at_risk:2026-10"]


def test_threshold_per_contract() -> None:
    engine = engine_with(
        [status(OUTAGE_START.isoformat(), "down")], contract=utc_contract(at_risk_budget_percent=50)
    )
    engine.advance(OUTAGE_START + timedelta(minutes=111, seconds=36))  # 50% of 223.2 min
    assert kinds(engine) == ["sla.at_risk:2026-10"]


def test_snapshot_keeps_what_was_already_said() -> None:
    engine = engine_with([status(OUTAGE_START.isoformat(), "down")])
    engine.advance(OUTAGE_START + AT_RISK_AFTER)
    assert kinds(engine) == ["sla.at_risk:2026-10"]
    restored = Engine([utc_contract()], timedelta(0))
    restore_state(restored, orjson.loads(orjson.dumps(export_state(engine))))
    assert [n.id for n in restored.recent_notices()] == ["acme/api-uptime/2026-10/sla.at_risk"]
    restored.advance(OUTAGE_START + BUDGET + EPSILON)
    assert kinds(restored) == ["sla.breached:2026-10"]
