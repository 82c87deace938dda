"""Hand-computed cases: each expected figure is derived by hand in the comment above it."""

from __future__ import annotations

from datetime import datetime, timedelta
from fractions import Fraction
from typing import Any

import pytest

from monitor.contract import Contract
from monitor.events import decode_event
from monitor.replay import ReplayError, replay

H = 3600 * 10**6  # one hour in microseconds
M = 60 * 10**6


def contract(**overrides: Any) -> Contract:
    document: dict[str, Any] = {
        "id": "c",
        "customer": "Customer",
        "provider": "Provider",
        "timezone": "Europe/Berlin",
        "currency": "EUR",
        "monthly_fee": "1000.00",
        "effective_from": "2026-01-01",
        "clauses": [{"id": "up", "kind": "uptime", "service": "api", "target_percent": 99.5}],
    }
    document.update(overrides)
    return Contract.model_validate(document)


def status(at: str, state: str, service: str = "api") -> str:
    return (
        f'{{"event_id":"{service}-{at}-{state}","type":"status","service":"{service}",'
        f'"status":"{state}","at":"{at}"}}'
    )


def ticket(ticket_id: str, action: str, at: str, priority: str = "P1", contract_id: str = "c") -> str:
    return (
        f'{{"event_id":"{ticket_id}-{action}-{at}","type":"ticket","ticket_id":"{ticket_id}",'
        f'"contract":"{contract_id}","action":"{action}","priority":"{priority}","at":"{at}"}}'
    )


def maintenance(start: str, end: str, announced: str, service: str = "api") -> str:
    return (
        f'{{"event_id":"m-{start}","type":"maintenance","service":"{service}",'
        f'"start":"{start}","end":"{end}","at":"{announced}"}}'
    )


def records(contracts: list[Contract], lines: list[str], as_of: str) -> dict[tuple[str, str], dict]:
    report = replay(contracts, lines, datetime.fromisoformat(as_of))
    return {(r.get("clause", "*"), r["period"]): r for r in report.records}


def pct(eligible_us: int, down_us: int) -> float:
    return float(Fraction(100 * (eligible_us - down_us), eligible_us))


def test_october_in_berlin_has_745_hours() -> None:
    # Oct 2026 in Europe/Berlin: 31 * 24 = 744 h, plus 1 h when DST ends on 25 Oct -> 745 h.
    # A 4 h outage: 100 * (745 - 4) / 745 = 99.463087...%
    rows = records(
        [contract()],
        [status("2026-10-05T10:00:00+02:00", "down"), status("2026-10-05T14:00:00+02:00", "up")],
        "2026-11-02T00:00:00+01:00",
    )
    assert rows[("up", "2026-10")]["attained_percent"] == pct(745 * H, 4 * H)
    assert rows[("up", "2026-10")]["final"] is True


def test_march_in_berlin_has_743_hours() -> None:
    # Mar 2026 in Europe/Berlin: 744 h minus 1 h when DST starts on 29 Mar -> 743 h.
    # A 2 h outage: 100 * 741 / 743 = 99.730820...%
    rows = records(
        [contract()],
        [status("2026-03-10T00:00:00Z", "down"), status("2026-03-10T02:00:00Z", "up")],
        "2026-04-02T00:00:00Z",
    )
    assert rows[("up", "2026-03")]["attained_percent"] == pct(743 * H, 2 * H)


def test_new_york_dst_months_and_an_outage_over_the_jump() -> None:
    # America/New_York 2026: DST starts 8 Mar (743 h month), ends 1 Nov (745 h month).
    # Outage 8 Mar 01:30 EST (06:30Z) to 03:30 EDT (07:30Z): one hour of elapsed time.
    ny = contract(timezone="America/New_York")
    rows = records(
        [ny],
        [
            status("2026-03-08T01:30:00-05:00", "down"),
            status("2026-03-08T03:30:00-04:00", "up"),
            status("2026-11-10T00:00:00-05:00", "down"),
            status("2026-11-10T03:00:00-05:00", "up"),
        ],
        "2026-12-02T00:00:00-05:00",
    )
    assert rows[("up", "2026-03")]["attained_percent"] == pct(743 * H, 1 * H)
    assert rows[("up", "2026-11")]["attained_percent"] == pct(721 * H, 3 * H)  # 30*24 + 1 = 721 h
    assert rows[("up", "2026-10")]["attained_percent"] == 100.0


def test_weekly_window_on_the_dst_nights() -> None:
    # Sunday 02:00 Berlin, 2 h. 29 Mar 2026 02:00 does not exist: fold=0 takes the earlier
    # offset +01:00, i.e. 01:00Z; the window is 2 h elapsed: 01:00Z-03:00Z.
    # Down 01:00Z-03:00Z is therefore fully excluded; March: Sundays 1, 8, 15, 22, 29 -> 5 windows
    # of 2 h = 10 h excluded; eligible 743 - 10 = 733 h, downtime 0 -> 100%.
    # A further outage 03:00Z-04:00Z counts: 100 * (733 - 1) / 733.
    weekly = {"windows": [{"rrule": "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0;BYSECOND=0", "duration": "2h"}]}
    rows = records(
        [contract(maintenance=weekly)],
        [status("2026-03-29T01:00:00Z", "down"), status("2026-03-29T04:00:00Z", "up")],
        "2026-04-02T00:00:00Z",
    )
    assert rows[("up", "2026-03")]["attained_percent"] == pct(733 * H, 1 * H)
    # 25 Oct 2026 02:00 happens twice; fold=0 is the first (+02:00 = 00:00Z): window 00:00Z-02:00Z.
    # October: Sundays 4, 11, 18, 25 -> 8 h excluded, eligible 745 - 8 = 737 h.
    # Down 01:00Z-03:00Z: 01:00-02:00Z is in the window, 02:00-03:00Z counts -> 1 h.
    rows = records(
        [contract(maintenance=weekly)],
        [status("2026-10-25T01:00:00Z", "down"), status("2026-10-25T03:00:00Z", "up")],
        "2026-11-02T00:00:00Z",
    )
    assert rows[("up", "2026-10")]["attained_percent"] == pct(737 * H, 1 * H)


def test_outage_across_a_month_boundary_is_split_in_the_contract_zone() -> None:
    # Berlin: 30 Sep 23:00 CEST (21:00Z) to 1 Oct 02:00 CEST (00:00Z): 1 h in Sep, 2 h in Oct.
    # September: 720 h; October: 745 h.
    rows = records(
        [contract()],
        [status("2026-09-30T21:00:00Z", "down"), status("2026-10-01T00:00:00Z", "up")],
        "2026-11-02T00:00:00Z",
    )
    assert rows[("up", "2026-09")]["attained_percent"] == pct(720 * H, 1 * H)
    assert rows[("up", "2026-10")]["attained_percent"] == pct(745 * H, 2 * H)


def test_min_outage_uses_the_whole_span_across_the_month_boundary() -> None:
    # min_outage 30m. Down 23:50 -> 00:10 local (20 min): ignored in both months.
    # Down 23:50 -> 00:40 local (50 min): counts, 10 min in the first month and 40 in the next.
    clause = {"id": "up", "kind": "uptime", "service": "api", "target_percent": 99.5, "min_outage": "30m"}
    short = records(
        [contract(clauses=[clause])],
        [status("2026-09-30T23:50:00+02:00", "down"), status("2026-10-01T00:10:00+02:00", "up")],
        "2026-11-02T00:00:00Z",
    )
    assert short[("up", "2026-09")]["attained_percent"] == 100.0
    assert short[("up", "2026-10")]["attained_percent"] == 100.0
    long = records(
        [contract(clauses=[clause])],
        [status("2026-09-30T23:50:00+02:00", "down"), status("2026-10-01T00:40:00+02:00", "up")],
        "2026-11-02T00:00:00Z",
    )
    assert long[("up", "2026-09")]["attained_percent"] == pct(720 * H, 10 * M)
    assert long[("up", "2026-10")]["attained_percent"] == pct(745 * H, 40 * M)


def response_contract(**overrides: Any) -> Contract:
    clause = {
        "id": "resp",
        "kind": "response_time",
        "measure": "responded",
        "within": "24h",
        "target_percent": 90,
        "credits": [{"below_percent": 90, "credit_percent": 5}],
    }
    return contract(clauses=[clause], **overrides)


def test_a_ticket_opened_late_on_the_last_day_belongs_to_that_month_in_the_contract_zone() -> None:
    # Opened 31 Oct 23:30 Berlin (CET, 22:30Z): October, although UTC is still 31 Oct; in
    # America/Los_Angeles 31 Oct 23:30 PDT is 1 Nov 06:30Z, still October there.
    # It is never answered -> missed: October 0/1 = 0%.
    rows = records(
        [response_contract()], [ticket("T1", "opened", "2026-10-31T23:30:00+01:00")], "2026-12-01T00:00:00Z"
    )
    assert rows[("resp", "2026-10")]["attained_percent"] == 0.0
    assert rows[("resp", "2026-11")]["attained_percent"] == 100.0  # no ticket counted
    la = response_contract(timezone="America/Los_Angeles")
    rows = records([la], [ticket("T1", "opened", "2026-11-01T06:30:00Z")], "2026-12-01T00:00:00Z")
    assert rows[("resp", "2026-10")]["attained_percent"] == 0.0


def test_a_response_exactly_at_the_deadline_is_on_time_and_a_microsecond_later_is_not() -> None:
    # within 24h: opened 10:00, deadline next day 10:00. T1 answered 10:00:00 -> on time;
    # T2 answered 10:00:00.000001 -> missed. 1 of 2 on time = 50%.
    rows = records(
        [response_contract()],
        [
            ticket("T1", "opened", "2026-10-05T10:00:00Z"),
            ticket("T2", "opened", "2026-10-05T10:00:00Z"),
            ticket("T1", "responded", "2026-10-06T10:00:00Z"),
            ticket("T2", "responded", "2026-10-06T10:00:00.000001Z"),
        ],
        "2026-12-01T00:00:00Z",
    )
    assert rows[("resp", "2026-10")]["attained_percent"] == 50.0


def test_first_period_starts_mid_month_and_last_is_cut_by_effective_to() -> None:
    # effective 15 Mar to 10 May (exclusive), Berlin. March part: 15 Mar 00:00 CET to 1 Apr
    # 00:00 CEST = 17 days * 24 - 1 (DST) = 407 h. May part: 1 May to 10 May = 216 h.
    # Outages of 1 h in each -> 100 * 406/407 and 100 * 215/216; nothing after 10 May.
    limited = contract(effective_from="2026-03-15", effective_to="2026-05-10")
    rows = records(
        [limited],
        [
            status("2026-03-20T10:00:00Z", "down"),
            status("2026-03-20T11:00:00Z", "up"),
            status("2026-05-05T10:00:00Z", "down"),
            status("2026-05-05T11:00:00Z", "up"),
            status("2026-05-20T10:00:00Z", "down"),
            status("2026-05-20T11:00:00Z", "up"),
        ],
        "2026-06-02T00:00:00Z",
    )
    assert rows[("up", "2026-03")]["attained_percent"] == pct(407 * H, 1 * H)
    assert rows[("up", "2026-05")]["attained_percent"] == pct(216 * H, 1 * H)
    assert ("up", "2026-02") not in rows and ("up", "2026-06") not in rows


TIERED = {
    "id": "up",
    "kind": "uptime",
    "service": "api",
    "target_percent": 99.9,
    "credits": [
        {"below_percent": 99.9, "credit_percent": 5},
        {"below_percent": 99.0, "credit_percent": 15},
        {"below_percent": 95.0, "credit_percent": 30},
    ],
}


@pytest.mark.parametrize(
    ("down_minutes", "credit"),
    [
        # September 2026 Berlin: 720 h = 43200 min.
        (0, 0.0),  # 100% -> no tier
        (43.2, 0.0),  # 99.9% exactly: not below 99.9 -> no credit, met
        (60, 5.0),  # 99.861% < 99.9 -> 5
        (432, 5.0),  # 99.0% exactly: below 99.9, not below 99.0 -> 5
        (500, 15.0),  # 98.84% < 99.0 -> 15 (the largest missed tier)
        (2160, 15.0),  # 95.0% exactly -> below 99.0, not below 95.0 -> 15
        (3000, 30.0),  # 93.06% -> 30
    ],
)
def test_tier_selection(down_minutes: float, credit: float) -> None:
    start = datetime.fromisoformat("2026-09-10T00:00:00+00:00")
    end = start + timedelta(minutes=down_minutes)
    lines = [status(start.isoformat(), "down"), status(end.isoformat(), "up")] if down_minutes else []
    rows = records(
        [contract(clauses=[TIERED])], [*lines, status("2026-10-03T00:00:00Z", "up")], "2026-10-03T00:00:00Z"
    )
    assert rows[("up", "2026-09")]["credit_percent"] == credit
    assert rows[("up", "2026-09")]["met"] is (down_minutes <= 43.2)


def test_consecutive_breaches_credit_remedy_and_reset() -> None:
    # Sample clause: 99.5%, 2 in a row -> +10% and contract_review. 5 h down breaches any month
    # (99.5% of 720 h allows 3.6 h). Breach Jan, Feb -> count 1, 2 (credit 10, remedy);
    # Mar met -> 0; Apr breach -> 1 (no credit: no tiers, below the consecutive bound).
    sample = contract(
        clauses=[
            {
                "id": "up",
                "kind": "uptime",
                "service": "api",
                "target_percent": 99.5,
                "consecutive": {"periods": 2, "credit_percent": 10, "remedy": "contract_review"},
            }
        ]
    )
    lines = []
    for month in ("01", "02", "04"):
        lines += [status(f"2026-{month}-10T00:00:00Z", "down"), status(f"2026-{month}-10T05:00:00Z", "up")]
    rows = records([sample], lines, "2026-05-02T00:00:00Z")
    got = [
        (
            rows[("up", p)]["consecutive_breaches"],
            rows[("up", p)]["credit_percent"],
            rows[("up", p)]["remedies"],
        )
        for p in ("2026-01", "2026-02", "2026-03", "2026-04")
    ]
    assert got == [(1, 0.0, []), (2, 10.0, ["contract_review"]), (0, 0.0, []), (1, 0.0, [])]
    assert rows[("*", "2026-02")]["credit_amount"] == "100.00"  # 1000.00 EUR * 10%


def test_the_cap_limits_the_sum_of_clause_credits() -> None:
    # Two clauses at 25% each = 50%, capped at 30% -> 30% of 1000.00 = 300.00.
    clauses = [
        {
            "id": f"up-{s}",
            "kind": "uptime",
            "service": s,
            "target_percent": 99.9,
            "credits": [{"below_percent": 99.9, "credit_percent": 25}],
        }
        for s in ("api", "web")
    ]
    lines = [status("2026-09-10T00:00:00Z", "down", s) for s in ("api", "web")]
    lines += [status("2026-09-10T05:00:00Z", "up", s) for s in ("api", "web")]
    rows = records([contract(clauses=clauses, credit_cap_percent=30)], lines, "2026-10-02T00:00:00Z")
    assert rows[("up-api", "2026-09")]["credit_percent"] == 25.0
    assert rows[("*", "2026-09")]["credit_percent"] == 30.0
    assert rows[("*", "2026-09")]["credit_amount"] == "300.00"


@pytest.mark.parametrize(
    ("currency", "fee", "credit", "amount"),
    [
        ("JPY", "1234567", 7.5, "92593"),  # 92592.525 -> half up, no minor unit
        ("EUR", "1234.50", 7.5, "92.59"),  # 92.5875 -> 92.59
        ("USD", "10.10", 5, "0.51"),  # 0.505 -> half up 0.51 (banker's rounding would give 0.50)
        ("BHD", "100.005", 10, "10.001"),  # 10.0005 -> 10.001 (three decimals)
    ],
)
def test_rounding_half_up_to_the_minor_unit(currency: str, fee: str, credit: float, amount: str) -> None:
    clause = {
        "id": "up",
        "kind": "uptime",
        "service": "api",
        "target_percent": 99.9,
        "credits": [{"below_percent": 99.9, "credit_percent": credit}],
    }
    rows = records(
        [contract(currency=currency, monthly_fee=fee, clauses=[clause])],
        [status("2026-09-10T00:00:00Z", "down"), status("2026-09-10T05:00:00Z", "up")],
        "2026-10-02T00:00:00Z",
    )
    assert rows[("*", "2026-09")]["credit_amount"] == amount


def test_announced_maintenance_needs_its_notice() -> None:
    # 48h notice. Maintenance 10:00-12:00 announced 3 days ahead counts; one announced 1 h
    # ahead does not. Down 10:00-12:00 on both days: only the second day's 2 h count.
    # September: eligible 720 - 2 = 718 h, downtime 2 h.
    rows = records(
        [contract(maintenance={"announced_min_notice": "48h"})],
        [
            maintenance("2026-09-10T10:00:00Z", "2026-09-10T12:00:00Z", "2026-09-07T10:00:00Z"),
            maintenance("2026-09-11T10:00:00Z", "2026-09-11T12:00:00Z", "2026-09-11T09:00:00Z"),
            status("2026-09-10T10:00:00Z", "down"),
            status("2026-09-10T12:00:00Z", "up"),
            status("2026-09-11T10:00:00Z", "down"),
            status("2026-09-11T12:00:00Z", "up"),
        ],
        "2026-10-02T00:00:00Z",
    )
    assert rows[("up", "2026-09")]["attained_percent"] == pct(718 * H, 2 * H)
    # without announced_min_notice, announced maintenance is not excluded: 4 h of 720 h
    rows = records(
        [contract()],
        [
            maintenance("2026-09-10T10:00:00Z", "2026-09-10T12:00:00Z", "2026-09-07T10:00:00Z"),
            status("2026-09-10T10:00:00Z", "down"),
            status("2026-09-10T14:00:00Z", "up"),
        ],
        "2026-10-02T00:00:00Z",
    )
    assert rows[("up", "2026-09")]["attained_percent"] == pct(720 * H, 4 * H)


def test_exclude_maintenance_false_excludes_nothing() -> None:
    # A one-off window over the outage is ignored: 2 h of 720 h count.
    clause = {
        "id": "up",
        "kind": "uptime",
        "service": "api",
        "target_percent": 99.5,
        "exclude_maintenance": False,
    }
    rows = records(
        [
            contract(
                clauses=[clause],
                maintenance={"windows": [{"start": "2026-09-10T00:00:00Z", "end": "2026-09-10T06:00:00Z"}]},
            )
        ],
        [status("2026-09-10T01:00:00Z", "down"), status("2026-09-10T03:00:00Z", "up")],
        "2026-10-02T00:00:00Z",
    )
    assert rows[("up", "2026-09")]["attained_percent"] == pct(720 * H, 2 * H)


def test_lateness_bound() -> None:
    # watermark 12:00, lateness 1h: an event at 10:59 is late (not applied), at 11:00 applied.
    report = replay(
        [contract()],
        [
            status("2026-09-10T12:00:00Z", "up"),
            status("2026-09-10T10:59:00Z", "down"),
            status("2026-09-10T11:00:00Z", "down"),
            status("2026-09-10T11:30:00Z", "up"),
        ],
    )
    assert {o.value: n for o, n in report.outcomes.items()} == {"applied": 3, "late": 1}
    rows = {r["period"]: r for r in report.records if r["record"] == "clause"}
    # only 11:00-11:30 counts, over the part of September before the clock: 1 Sep 00:00 CEST
    # (31 Aug 22:00Z) to 10 Sep 12:00Z = 9 days 14 h = 230 h -> 100 * (230 h - 30 min) / 230 h
    assert rows["2026-09"]["attained_percent"] == pct(230 * H, 30 * M)


def test_finality_is_reached_exactly_at_end_plus_lateness() -> None:
    # Berlin October ends 1 Nov 00:00 CET = 31 Oct 23:00Z; final from 1 Nov 00:00Z (+1 h).
    lines = [status("2026-10-05T00:00:00Z", "up")]
    assert not records([contract()], lines, "2026-10-31T23:59:59Z")[("up", "2026-10")]["final"]
    assert records([contract()], lines, "2026-11-01T00:00:00Z")[("up", "2026-10")]["final"]
    # response time: + within (24h) as well -> from 2 Nov 00:00Z
    assert not records([response_contract()], lines, "2026-11-01T23:59:59Z")[("resp", "2026-10")]["final"]
    assert records([response_contract()], lines, "2026-11-02T00:00:00Z")[("resp", "2026-10")]["final"]


def test_as_of_before_the_watermark_is_an_error() -> None:
    with pytest.raises(ReplayError, match="earlier than"):
        replay(
            [contract()],
            [status("2026-10-05T00:00:00Z", "up")],
            # within the future skew (1h) of --as-of, so counted: it moves the watermark past it
            datetime.fromisoformat("2026-10-04T23:30:00+00:00"),
        )


def test_events_in_the_cases_are_valid() -> None:
    for line in (
        status("2026-10-05T00:00:00Z", "up"),
        ticket("T", "opened", "2026-10-05T00:00:00Z"),
        maintenance("2026-10-05T00:00:00Z", "2026-10-05T01:00:00Z", "2026-10-01T00:00:00Z"),
    ):
        decode_event(line)
