"""Hand-computed engine cases (SPEC.md sections 2-5 and the engine's semantic notes).

Every expected figure is derived by hand in the comment above its assertion. Attained values are
compared exactly: ``pct(eligible, down)`` is the float of the exact Fraction
``100 * (eligible - down) / eligible`` over integer microseconds (``H``, ``M``, ``S``, ``US`` from
``tests.builders``), never a rounded literal.

Most cases run twice (the ``drive`` fixture): once as a plain file, and once with clock
events every 10 minutes interleaved, so the engine folds settled history into its running totals
many times on the way; both must give the same figures.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from fractions import Fraction
from typing import Any

import pytest

from monitor.engine import Engine, Outcome
from monitor.engine.results import ClauseResult
from monitor.events import decode_event
from monitor.replay import ReplayError
from monitor.timeutil import to_us
from tests.builders import (
    US,
    H,
    M,
    Records,
    S,
    contract,
    feed,
    in_time_order,
    maintenance,
    moment,
    outage,
    pct,
    ratio,
    response,
    run,
    status,
    ticket,
    uptime,
    with_ticks,
)

Drive = Callable[..., Records]

SUNDAY_2H = {"windows": [{"rrule": "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0;BYSECOND=0", "duration": "2h"}]}


@pytest.fixture(params=["file", "ticked"])
def drive(request: pytest.FixtureRequest) -> Drive:
    def go(contracts: Any, lines: list[str], as_of: str, **options: Any) -> Records:
        return run(contracts, lines, as_of, ticked=request.param == "ticked", **options)

    return go


# --- month lengths in the contract's zone ---------------------------------------------


def test_october_in_berlin_has_745_hours(drive: Drive) -> None:
    acme = contract(uptime(credits=[{"below_percent": 99.5, "credit_percent": 10}]))
    lines = [
        # 14 Oct 10:00-14:00 CEST: 4 h
        *outage("2026-10-14T10:00:00+02:00", "2026-10-14T14:00:00+02:00"),
        # 25 Oct 02:30 CEST (00:30Z) to 02:30 CET (01:30Z): the wall clock shows 0 min, elapsed 1 h
        *outage("2026-10-25T02:30:00+02:00", "2026-10-25T02:30:00+01:00"),
    ]
    # October 2026 in Europe/Berlin: 1 Oct 00:00 CEST (30 Sep 22:00Z) to 1 Nov 00:00 CET
    # (31 Oct 23:00Z) = 31*24 + 1 (DST ends 25 Oct) = 745 h. Down 4 h + 1 h = 5 h.
    # attained = 100 * (745 h - 5 h) / 745 h = 99.328859...% < 99.5 -> breached, tier 10%
    # -> 10% of 12000.00 EUR = 1200.00. Final from 31 Oct 23:00Z + 1 h = 1 Nov 00:00Z.
    rows = drive(acme, lines, "2026-11-01T00:00:00Z")
    october = rows.clause("api-uptime", "2026-10")
    assert october["attained_percent"] == pct(745 * H, 5 * H)
    assert (october["met"], october["final"], october["credit_percent"]) == (False, True, 10.0)
    assert rows.contract("2026-10")["credit_amount"] == "1200.00"
    assert rows.contract("2026-10")["currency"] == "EUR"
    # One 4 h outage on 5 Oct: 100 * (745 - 4) / 745 = 99.463087...%, final by 2 Nov.
    rows = drive(
        contract(),
        outage("2026-10-05T10:00:00+02:00", "2026-10-05T14:00:00+02:00"),
        "2026-11-02T00:00:00+01:00",
    )
    assert rows.clause("api-uptime", "2026-10")["attained_percent"] == pct(745 * H, 4 * H)
    assert rows.clause("api-uptime", "2026-10")["final"] is True


def test_march_in_berlin_has_743_hours(drive: Drive) -> None:
    lines = [
        # 10 Mar 08:00-10:00 CET: 2 h
        *outage("2026-03-10T08:00:00+01:00", "2026-03-10T10:00:00+01:00"),
        # 29 Mar 01:30 CET (00:30Z) to 03:30 CEST (01:30Z): the wall clock shows 2 h, elapsed 1 h
        *outage("2026-03-29T01:30:00+01:00", "2026-03-29T03:30:00+02:00"),
    ]
    # March 2026 in Europe/Berlin: 1 Mar 00:00 CET (28 Feb 23:00Z) to 1 Apr 00:00 CEST
    # (31 Mar 22:00Z) = 31*24 - 1 (DST starts 29 Mar) = 743 h. Down 2 h + 1 h = 3 h.
    # attained = 100 * (743 - 3) / 743 = 99.596231...% >= 99.5 -> met, no credit.
    # Final from 31 Mar 22:00Z + 1 h = 23:00Z.
    rows = drive(contract(), lines, "2026-03-31T23:00:00Z")
    march = rows.clause("api-uptime", "2026-03")
    assert march["attained_percent"] == pct(743 * H, 3 * H)
    assert (march["met"], march["final"], march["credit_percent"]) == (True, True, 0.0)
    assert rows.contract("2026-03")["credit_amount"] == "0.00"
    # One 2 h outage on 10 Mar: 100 * (743 - 2) / 743 = 99.730820...%
    rows = drive(contract(), outage("2026-03-10T00:00:00Z", "2026-03-10T02:00:00Z"), "2026-04-02T00:00:00Z")
    assert rows.clause("api-uptime", "2026-03")["attained_percent"] == pct(743 * H, 2 * H)


def test_new_york_dst_months_and_outages_over_both_jumps(drive: Drive) -> None:
    # America/New_York 2026: DST starts Sun 8 Mar 02:00 EST -> 03:00 EDT, ends Sun 1 Nov
    # 02:00 EDT -> 01:00 EST.
    #   March:    1 Mar 00:00 EST (05:00Z) .. 1 Apr 00:00 EDT (04:00Z) = 31*24 - 1 = 743 h
    #   October:  1 Oct 00:00 EDT (04:00Z) .. 1 Nov 00:00 EDT (04:00Z) = 31*24     = 744 h
    #   November: 1 Nov 00:00 EDT (04:00Z) .. 1 Dec 00:00 EST (05:00Z) = 30*24 + 1 = 721 h
    # (the 745-hour month of a US zone does not exist: the extra hour falls in 30-day November)
    ny = contract(timezone="America/New_York", currency="USD")
    lines = [
        # 01:30 EST (06:30Z) -> 03:30 EDT (07:30Z): spans the 02:00 jump, 1 h elapsed (2 h on the wall)
        *outage("2026-03-08T01:30:00-05:00", "2026-03-08T03:30:00-04:00"),
        # 20 Oct 12:00-14:00 EDT: 2 h
        *outage("2026-10-20T12:00:00-04:00", "2026-10-20T14:00:00-04:00"),
        # 01:30 EDT (05:30Z) -> 01:30 EST (06:30Z): the repeated hour, 1 h elapsed (0 on the wall)
        *outage("2026-11-01T01:30:00-04:00", "2026-11-01T01:30:00-05:00"),
    ]
    # November is final at 1 Dec 05:00Z + 1 h = 06:00Z.
    rows = drive(ny, lines, "2026-12-01T06:00:00Z")
    # March: 100 * (743 - 1) / 743; October: 100 * (744 - 2) / 744; November: 100 * (721 - 1) / 721
    assert rows.clause("api-uptime", "2026-03")["attained_percent"] == pct(743 * H, 1 * H)
    assert rows.clause("api-uptime", "2026-10")["attained_percent"] == pct(744 * H, 2 * H)
    assert rows.clause("api-uptime", "2026-11")["attained_percent"] == pct(721 * H, 1 * H)
    assert rows.clause("api-uptime", "2026-11")["final"] is True
    # December has started (1 Dec 05:00Z < clock 06:00Z): 1 h of it, no downtime -> 100
    assert rows.clause("api-uptime", "2026-12")["attained_percent"] == 100.0
    assert rows.clause("api-uptime", "2026-12")["final"] is False
    # The same March outage and 10 Nov 00:00-03:00 EST (3 h) instead: November 100 * (721 - 3) / 721;
    # October has no outage -> 100.
    lines = [
        *outage("2026-03-08T01:30:00-05:00", "2026-03-08T03:30:00-04:00"),
        *outage("2026-11-10T00:00:00-05:00", "2026-11-10T03:00:00-05:00"),
    ]
    rows = drive(ny, lines, "2026-12-02T00:00:00-05:00")
    assert rows.clause("api-uptime", "2026-11")["attained_percent"] == pct(721 * H, 3 * H)
    assert rows.clause("api-uptime", "2026-10")["attained_percent"] == 100.0


@pytest.mark.parametrize(
    ("zone", "lines", "expected"),
    [
        # America/Asuncion 2023: DST started Sun 1 Oct 00:00 -04 -> 01:00 -03, so local midnight of
        # 1 Oct does not exist; fold=0 (earlier offset -04) puts it at 04:00Z = the transition.
        #   September: 1 Sep 00:00 -04 (04:00Z) .. 1 Oct 04:00Z = 720 h
        #   October:   1 Oct 04:00Z .. 1 Nov 00:00 -03 (03:00Z) = 31*24 - 1 = 743 h
        # Down 30 Sep 23:30 -04 (1 Oct 03:30Z) -> 1 Oct 01:30 -03 (04:30Z): 30 min in each month.
        (
            "America/Asuncion",
            outage("2023-09-30T23:30:00-04:00", "2023-10-01T01:30:00-03:00"),
            {"2023-09": pct(720 * H, 30 * M), "2023-10": pct(743 * H, 30 * M)},
        ),
        # America/Havana 2026: DST ends Sun 1 Nov 01:00 CDT -> 00:00 CST, so local midnight of 1 Nov
        # happens twice; the month starts at the first (fold=0): 00:00 -04 = 04:00Z.
        #   October:  1 Oct 00:00 -04 (04:00Z) .. 1 Nov 04:00Z = 744 h
        #   November: 1 Nov 04:00Z .. 1 Dec 00:00 -05 (05:00Z) = 30*24 + 1 = 721 h
        # Down 31 Oct 23:30 -04 (1 Nov 03:30Z) -> 1 Nov 00:30 -05 (05:30Z): 30 min Oct, 90 min Nov.
        (
            "America/Havana",
            outage("2026-10-31T23:30:00-04:00", "2026-11-01T00:30:00-05:00"),
            {"2026-10": pct(744 * H, 30 * M), "2026-11": pct(721 * H, 90 * M)},
        ),
        # Australia/Lord_Howe moves by 30 minutes: DST starts Sun 4 Oct 2026 02:00 +10:30 -> 02:30
        # +11:00. October: 1 Oct 00:00 +10:30 (30 Sep 13:30Z) .. 1 Nov 00:00 +11 (31 Oct 13:00Z)
        # = 31*24 - 0.5 = 743.5 h = 44610 min. Down 01:45 +10:30 (3 Oct 15:15Z) -> 02:45 +11:00
        # (15:45Z): 30 min elapsed across the jump -> 100 * (44610 - 30) / 44610.
        (
            "Australia/Lord_Howe",
            outage("2026-10-04T01:45:00+10:30", "2026-10-04T02:45:00+11:00"),
            {"2026-10": pct(44610 * M, 30 * M)},
        ),
        # Africa/Cairo 2024: DST ended Thu 31 Oct at 24:00 EEST -> 23:00 EET, so the repeated hour
        # is the last hour of October and 1 Nov 00:00 EET (31 Oct 22:00Z) is unique.
        #   October:  1 Oct 00:00 +03 (30 Sep 21:00Z) .. 31 Oct 22:00Z = 31*24 + 1 = 745 h
        #   November: 31 Oct 22:00Z .. 1 Dec 00:00 +02 (30 Nov 22:00Z) = 720 h
        # Down 23:30 +03 (20:30Z) -> 23:30 +02 (21:30Z): 1 h, all in October; down 23:45 +02
        # (21:45Z) -> 1 Nov 00:15 +02 (22:15Z): 15 min each. October 75 min, November 15 min.
        (
            "Africa/Cairo",
            [
                *outage("2024-10-31T23:30:00+03:00", "2024-10-31T23:30:00+02:00"),
                *outage("2024-10-31T23:45:00+02:00", "2024-11-01T00:15:00+02:00"),
            ],
            {"2024-10": pct(745 * H, 75 * M), "2024-11": pct(720 * H, 15 * M)},
        ),
    ],
    ids=["asuncion-missing-midnight", "havana-double-midnight", "lord-howe-half-hour", "cairo-24h-fallback"],
)
def test_months_around_unusual_dst_transitions(
    drive: Drive, zone: str, lines: list[str], expected: dict[str, float]
) -> None:
    first, last = min(expected), max(expected)
    acme = contract(timezone=zone, effective_from=f"{first}-01")
    # two days into the month after the last one: every expected period is final by then
    year, month = int(last[:4]), int(last[5:7]) + 1
    year, month = (year + 1, 1) if month == 13 else (year, month)
    rows = drive(acme, lines, f"{year}-{month:02d}-03T00:00:00Z")
    for period, value in expected.items():
        assert rows.clause("api-uptime", period)["attained_percent"] == value, period
        assert rows.clause("api-uptime", period)["final"] is True


# --- scheduled maintenance windows ------------------------------------------------------


def test_weekly_window_on_the_spring_forward_night(drive: Drive) -> None:
    # Sundays 02:00 Berlin, 2 h of elapsed time. March 2026 Sundays: 1, 8, 15, 22 at 02:00 CET
    # (01:00Z), each 01:00Z-03:00Z; 29 Mar 02:00 does not exist -> fold=0, the earlier offset
    # +01:00 -> 01:00Z (= 03:00 CEST), window 01:00Z-03:00Z (03:00-05:00 CEST).
    # Excluded: 5 windows * 2 h = 10 h. Eligible = 743 h - 10 h = 733 h = 43980 min.
    lines = [
        # fully inside the 22 Mar window (01:00Z-03:00Z): nothing counts
        *outage("2026-03-22T01:30:00Z", "2026-03-22T02:30:00Z"),
        # 29 Mar 00:30Z-01:30Z: 00:30-01:00Z counts (30 min), 01:00-01:30Z is in the window
        *outage("2026-03-29T00:30:00Z", "2026-03-29T01:30:00Z"),
        # 29 Mar 02:00Z-02:45Z: inside the window (until 03:00Z): nothing counts
        *outage("2026-03-29T02:00:00Z", "2026-03-29T02:45:00Z"),
    ]
    # Downtime 30 min. (fold=1 would give window 00:00Z-02:00Z and 45 min; a 2 h wall-clock
    # window 03:00-04:00 CEST = 01:00Z-02:00Z would give 30 + 45 = 75 min.)
    # attained = 100 * (43980 - 30) / 43980 = 99.931787...%
    rows = drive(contract(maintenance=SUNDAY_2H), lines, "2026-04-01T00:00:00Z")
    assert rows.clause("api-uptime", "2026-03")["attained_percent"] == pct(733 * H, 30 * M)
    # Down 29 Mar 01:00Z-04:00Z: 01:00Z-03:00Z is that night's window, 03:00Z-04:00Z counts ->
    # 100 * (733 - 1) / 733.
    rows = drive(
        contract(maintenance=SUNDAY_2H),
        outage("2026-03-29T01:00:00Z", "2026-03-29T04:00:00Z"),
        "2026-04-02T00:00:00Z",
    )
    assert rows.clause("api-uptime", "2026-03")["attained_percent"] == pct(733 * H, 1 * H)


def test_weekly_window_on_the_fall_back_night(drive: Drive) -> None:
    # October 2026 Sundays: 4, 11, 18 at 02:00 CEST (00:00Z), each 00:00Z-02:00Z; 25 Oct 02:00
    # happens twice -> fold=0, the first occurrence (+02:00) -> 00:00Z; the window is 2 h of
    # elapsed time: 00:00Z-02:00Z (02:00 CEST .. 03:00 CET).
    # Excluded: 4 * 2 h = 8 h. Eligible = 745 h - 8 h = 737 h = 44220 min.
    lines = [
        # 24 Oct 23:30Z -> 25 Oct 00:30Z: 23:30-00:00Z counts (30 min)
        *outage("2026-10-24T23:30:00Z", "2026-10-25T00:30:00Z"),
        # 25 Oct 02:00Z -> 02:45Z: after the window, all 45 min count
        *outage("2026-10-25T02:00:00Z", "2026-10-25T02:45:00Z"),
        # 4 Oct 00:15Z-01:45Z: inside that Sunday's window
        *outage("2026-10-04T00:15:00Z", "2026-10-04T01:45:00Z"),
    ]
    # Downtime 30 + 45 = 75 min (fold=1, window 01:00Z-03:00Z, would give 60 + 0 = 60 min).
    # attained = 100 * (44220 - 75) / 44220 = 99.830393...%
    rows = drive(contract(maintenance=SUNDAY_2H), lines, "2026-11-01T00:00:00Z")
    assert rows.clause("api-uptime", "2026-10")["attained_percent"] == pct(737 * H, 75 * M)
    # Down 25 Oct 01:00Z-03:00Z: 01:00-02:00Z is in the window, 02:00-03:00Z counts -> 1 h.
    rows = drive(
        contract(maintenance=SUNDAY_2H),
        outage("2026-10-25T01:00:00Z", "2026-10-25T03:00:00Z"),
        "2026-11-02T00:00:00Z",
    )
    assert rows.clause("api-uptime", "2026-10")["attained_percent"] == pct(737 * H, 1 * H)


def test_rrule_occurrences_count_from_local_midnight_of_effective_from(drive: Drive) -> None:
    # FREQ=WEEKLY without BYDAY repeats on DTSTART's weekday; DTSTART is local midnight of
    # effective_from = Wed 1 Apr 2026. Windows: Wednesdays 1, 8, 15, 22, 29 Apr at 03:00 CEST
    # (01:00Z), 1 h each -> 5 h excluded; eligible = 720 - 5 = 715 h.
    weekly = {"windows": [{"rrule": "FREQ=WEEKLY;BYHOUR=3;BYMINUTE=0;BYSECOND=0", "duration": "1h"}]}
    lines = [
        *outage("2026-04-08T01:00:00Z", "2026-04-08T02:00:00Z"),  # Wednesday: inside the window
        *outage("2026-04-09T01:00:00Z", "2026-04-09T02:00:00Z"),  # Thursday: counts, 1 h
    ]
    # attained = 100 * (715 - 1) / 715
    rows = drive(contract(maintenance=weekly, effective_from="2026-04-01"), lines, "2026-05-01T00:00:00Z")
    assert rows.clause("api-uptime", "2026-04")["attained_percent"] == pct(715 * H, 1 * H)


def test_a_window_spilling_over_a_month_boundary_is_split(drive: Drive) -> None:
    # Last day of each month 23:00 Berlin for 2 h. For April 2026 (30 Apr 22:00Z is its end):
    #   31 Mar 23:00 CEST (21:00Z) .. 1 Apr 01:00 CEST (23:00Z): April holds 22:00Z-23:00Z = 1 h
    #   30 Apr 23:00 CEST (21:00Z) .. 1 May 01:00 CEST (23:00Z): April holds 21:00Z-22:00Z = 1 h
    # Excluded 2 h; eligible = 720 - 2 = 718 h = 43080 min.
    monthly = {"windows": [{"rrule": "FREQ=MONTHLY;BYMONTHDAY=-1;BYHOUR=23", "duration": "2h"}]}
    lines = [
        *outage("2026-04-01T00:00:00+02:00", "2026-04-01T00:30:00+02:00"),  # inside the spill-over
        # 30 Apr 22:30-23:30 CEST: 22:30-23:00 counts (30 min), then the window
        *outage("2026-04-30T22:30:00+02:00", "2026-04-30T23:30:00+02:00"),
    ]
    # attained = 100 * (43080 - 30) / 43080
    rows = drive(contract(maintenance=monthly, effective_from="2026-03-01"), lines, "2026-05-02T00:00:00Z")
    assert rows.clause("api-uptime", "2026-04")["attained_percent"] == pct(718 * H, 30 * M)


def test_a_period_wholly_excluded_is_100_percent(drive: Drive) -> None:
    # One-day contract: 10 Sep 00:00 CEST (9 Sep 22:00Z) .. 11 Sep 00:00 CEST (10 Sep 22:00Z), a
    # one-off window over all of it: eligible = 0 -> attained 100 by definition, even though the
    # service is down all day.
    acme = contract(
        effective_from="2026-09-10",
        effective_to="2026-09-11",
        maintenance={"windows": [{"start": "2026-09-09T22:00:00Z", "end": "2026-09-10T22:00:00Z"}]},
    )
    lines = outage("2026-09-09T22:00:00Z", "2026-09-10T22:00:00Z")
    rows = drive(acme, lines, "2026-09-12T00:00:00Z")
    september = rows.clause("api-uptime", "2026-09")
    assert (september["attained_percent"], september["met"], september["final"]) == (100.0, True, True)
    assert rows.periods("api-uptime") == ["2026-09"]


# --- outages over month boundaries, min_outage -------------------------------------------


def test_an_outage_across_month_boundaries_is_split_in_the_contract_zone(drive: Drive) -> None:
    acme = contract(
        uptime(
            credits=[
                {"below_percent": 99.5, "credit_percent": 10},
                {"below_percent": 99.0, "credit_percent": 25},
            ]
        )
    )
    lines = [
        # 30 Apr 21:00Z-23:00Z = 23:00-01:00 CEST: April ends at 1 May 00:00 CEST = 30 Apr 22:00Z,
        # so 1 h in April and 1 h in May (split at UTC midnight it would be 2 h in April)
        *outage("2026-04-30T21:00:00Z", "2026-04-30T23:00:00Z"),
        # 30 Jun 23:00 CEST .. 1 Aug 01:00 CEST: 1 h of June, all of July, 1 h of August
        *outage("2026-06-30T23:00:00+02:00", "2026-08-01T01:00:00+02:00"),
    ]
    rows = drive(acme, lines, "2026-09-01T00:00:00Z")
    # April 720 h: 100 * 719/720 = 99.86 -> met. May 744 h: 100 * 743/744.
    assert rows.clause("api-uptime", "2026-04")["attained_percent"] == pct(720 * H, 1 * H)
    assert rows.clause("api-uptime", "2026-05")["attained_percent"] == pct(744 * H, 1 * H)
    # June 720 h, 1 h down; July 744 h all down -> 0 -> below 99.0 -> 25% = 3000.00; August 744 h.
    assert rows.clause("api-uptime", "2026-06")["attained_percent"] == pct(720 * H, 1 * H)
    july = rows.clause("api-uptime", "2026-07")
    assert (july["attained_percent"], july["credit_percent"]) == (0.0, 25.0)
    assert rows.contract("2026-07")["credit_amount"] == "3000.00"
    assert rows.clause("api-uptime", "2026-08")["attained_percent"] == pct(744 * H, 1 * H)
    # 30 Sep 23:00 CEST (21:00Z) to 1 Oct 02:00 CEST (00:00Z): 1 h of September's 720 h, 2 h of
    # October's 745 h.
    rows = drive(contract(), outage("2026-09-30T21:00:00Z", "2026-10-01T00:00:00Z"), "2026-11-02T00:00:00Z")
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(720 * H, 1 * H)
    assert rows.clause("api-uptime", "2026-10")["attained_percent"] == pct(745 * H, 2 * H)


@pytest.mark.parametrize(
    ("up_at", "april_down", "may_down"),
    [
        # down 30 Apr 23:50 CEST; min_outage 30m; April ends at 1 May 00:00 CEST.
        ("2026-05-01T00:10:00+02:00", 0, 0),  # 20 min in all: shorter than 30m -> ignored in both
        ("2026-05-01T00:19:59.999999+02:00", 0, 0),  # 30 min - 1 us: still shorter -> ignored
        ("2026-05-01T00:20:00+02:00", 10 * M, 20 * M),  # exactly 30 min: not shorter -> 10 + 20 min
        ("2026-05-01T00:40:00+02:00", 10 * M, 40 * M),  # 50 min -> 10 min in April + 40 min in May
    ],
)
def test_min_outage_judges_the_whole_span_across_a_month_boundary(
    drive: Drive, up_at: str, april_down: int, may_down: int
) -> None:
    acme = contract(uptime(min_outage="30m"))
    rows = drive(acme, outage("2026-04-30T23:50:00+02:00", up_at), "2026-06-01T00:00:00Z")
    # April 720 h, May 744 h
    assert rows.clause("api-uptime", "2026-04")["attained_percent"] == pct(720 * H, april_down)
    assert rows.clause("api-uptime", "2026-05")["attained_percent"] == pct(744 * H, may_down)


@pytest.mark.parametrize(
    ("up_at", "september_down", "october_down"),
    [
        # down 30 Sep 23:50 CEST; min_outage 30m; September (720 h) ends at 1 Oct 00:00 CEST.
        ("2026-10-01T00:10:00+02:00", 0, 0),  # 20 min: ignored in both months
        ("2026-10-01T00:40:00+02:00", 10 * M, 40 * M),  # 50 min: 10 in September, 40 in October (745 h)
    ],
)
def test_min_outage_judges_the_whole_span_across_the_september_boundary(
    drive: Drive, up_at: str, september_down: int, october_down: int
) -> None:
    rows = drive(
        contract(uptime(min_outage="30m")), outage("2026-09-30T23:50:00+02:00", up_at), "2026-11-02T00:00:00Z"
    )
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(720 * H, september_down)
    assert rows.clause("api-uptime", "2026-10")["attained_percent"] == pct(745 * H, october_down)


@pytest.mark.parametrize(("up_at", "april_down", "may_down"), [("00:10", 0, 0), ("00:40", 10, 40)])
def test_min_outage_while_the_engine_folds_every_minute(up_at: str, april_down: int, may_down: int) -> None:
    # Same spans as above, but lateness 0 and a clock event every minute: the engine folds its
    # settled history every minute, in the middle of the span and across the month boundary.
    # 20 min -> ignored; 50 min -> 10 min (April, 720 h = 43200 min) + 40 min (May, 744 h = 44640 min).
    engine = Engine([contract(uptime(min_outage="30m"))], allowed_lateness=timedelta(0))
    lines = outage("2026-04-30T23:50:00+02:00", f"2026-05-01T{up_at}:00+02:00")
    verdicts = feed(engine, with_ticks(lines, "2026-05-01T02:00:00+02:00", timedelta(minutes=1)))
    assert {v.outcome for v in verdicts} == {Outcome.APPLIED}
    results = {
        r.period: r
        for r in engine.results(to_us(moment("2026-06-01T00:00:00Z")))
        if isinstance(r, ClauseResult)
    }
    assert results["2026-04"].attained == Fraction(100 * (43200 - april_down), 43200)
    assert results["2026-05"].attained == Fraction(100 * (44640 - may_down), 44640)


def test_a_down_span_open_at_the_clock_is_cut_there_and_keeps_its_periods_provisional(drive: Drive) -> None:
    # min_outage 2h, lateness 1h; down since 30 Apr 23:30 CEST, never up again.
    acme = contract(uptime(min_outage="2h"))
    lines = [status("2026-04-30T23:30:00+02:00", "down")]
    # Clock 1 May 01:00 CEST = April's end + 1 h: the span so far is 1 h 30 < 2 h -> ignored for
    # now, April 100% but NOT final (the span may still reach 2 h); May (1 h so far) 100%.
    early = drive(acme, lines, "2026-05-01T01:00:00+02:00")
    april = early.clause("api-uptime", "2026-04")
    assert (april["attained_percent"], april["final"]) == (100.0, False)
    assert early.clause("api-uptime", "2026-05")["attained_percent"] == 100.0
    assert early.contract("2026-04")["final"] is False
    # Clock 1 May 01:30 CEST: the span is 2 h -> counts. April: 30 min of 720 h, final now.
    # May so far: 00:00-01:30 = 90 min eligible, all down -> 0%.
    late = drive(acme, lines, "2026-05-01T01:30:00+02:00")
    april = late.clause("api-uptime", "2026-04")
    assert (april["attained_percent"], april["final"]) == (pct(720 * H, 30 * M), True)
    may = late.clause("api-uptime", "2026-05")
    assert (may["attained_percent"], may["final"]) == (0.0, False)


def test_min_outage_counts_the_part_of_a_span_before_effective_from(drive: Drive) -> None:
    # Contract from 1 Apr 2026 (00:00 CEST = 31 Mar 22:00Z), min_outage 30m.
    acme = contract(uptime(min_outage="30m"), effective_from="2026-04-01")
    # 31 Mar 23:40 -> 1 Apr 00:10 CEST: 30 min in all (whole length), only 10 min inside the
    # contract -> counts 10 min of April's 720 h.
    rows = drive(
        acme, outage("2026-03-31T23:40:00+02:00", "2026-04-01T00:10:00+02:00"), "2026-05-02T00:00:00Z"
    )
    assert rows.clause("api-uptime", "2026-04")["attained_percent"] == pct(720 * H, 10 * M)
    assert rows.periods("api-uptime") == ["2026-04", "2026-05"]


def test_status_events_at_the_same_instant_are_ordered_by_event_id() -> None:
    # down at 10:00 ("e1"); at 11:00 "e2a" up and "e2b" down: by event_id "e2b" is last -> still
    # down; up at 12:00 ("e3"). Downtime 10:00-12:00 = 2 h of September's 720 h, whatever the
    # arrival order of the two 11:00 events.
    events = {
        "e1": status("2026-09-10T10:00:00Z", "down", event_id="e1"),
        "e2a": status("2026-09-10T11:00:00Z", "up", event_id="e2a"),
        "e2b": status("2026-09-10T11:00:00Z", "down", event_id="e2b"),
        "e3": status("2026-09-10T12:00:00Z", "up", event_id="e3"),
    }
    for order in (["e1", "e2a", "e2b", "e3"], ["e1", "e2b", "e2a", "e3"]):
        rows = run(contract(), [events[k] for k in order], "2026-10-02T00:00:00Z")
        assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(720 * H, 2 * H), order


# --- response time -------------------------------------------------------------------------


SUPPORT = response(credits=[{"below_percent": 90, "credit_percent": 5}])


def test_a_ticket_belongs_to_the_month_of_its_opening_in_the_contract_zone(drive: Drive) -> None:
    ny = contract(SUPPORT, id="ny", timezone="America/New_York")
    tokyo = contract(SUPPORT, id="tokyo", timezone="Asia/Tokyo", currency="JPY", monthly_fee="1000000")
    lines = [
        ticket("T5", "opened", "2026-04-10T10:00:00+09:00", contract_id="tokyo"),
        ticket("T5", "responded", "2026-04-10T10:30:00+09:00", contract_id="tokyo"),
        ticket("T1", "opened", "2026-04-10T09:00:00-04:00", contract_id="ny"),
        ticket("T1", "responded", "2026-04-10T10:00:00-04:00", contract_id="ny"),
        # 1 May 00:30 JST = 30 Apr 15:30Z: UTC says April, Tokyo says May; never answered
        ticket("T3", "opened", "2026-05-01T00:30:00+09:00", contract_id="tokyo"),
        # 30 Apr 23:00 EDT = 1 May 03:00Z, answered after midnight: still an April ticket, on time
        ticket("T6", "opened", "2026-04-30T23:00:00-04:00", contract_id="ny"),
        # 30 Apr 23:30 EDT = 1 May 03:30Z: UTC says May, New York says April; never answered
        ticket("T2", "opened", "2026-04-30T23:30:00-04:00", contract_id="ny"),
        ticket("T6", "responded", "2026-05-01T01:00:00-04:00", contract_id="ny"),
        ticket("T4", "opened", "2026-05-10T10:00:00+09:00", contract_id="tokyo"),
        ticket("T4", "responded", "2026-05-10T11:00:00+09:00", contract_id="tokyo"),
    ]
    # New York May ends 1 Jun 00:00 EDT = 04:00Z; final at + 24 h + 1 h = 2 Jun 05:00Z.
    rows = drive([ny, tokyo], lines, "2026-06-02T05:00:00Z")
    # New York: April T1 on time, T6 on time, T2 missed -> 2/3 = 66.67% < 90 -> 5% of 12000.00
    # = 600.00 EUR; May: nothing counted -> 100%.
    assert rows.clause("support", "2026-04", "ny")["attained_percent"] == ratio(2, 3)
    assert rows.contract("2026-04", "ny")["credit_amount"] == "600.00"
    assert rows.clause("support", "2026-05", "ny")["attained_percent"] == 100.0
    # Tokyo: April T5 on time -> 1/1; May T3 missed, T4 on time -> 1/2 = 50% -> 5% of 1000000 JPY
    # = 50000.
    assert rows.clause("support", "2026-04", "tokyo")["attained_percent"] == 100.0
    assert rows.clause("support", "2026-05", "tokyo")["attained_percent"] == ratio(1, 2)
    assert rows.contract("2026-05", "tokyo")["credit_amount"] == "50000"
    assert all(rows.clause("support", p, c)["final"] for p in ("2026-04", "2026-05") for c in ("ny", "tokyo"))


def test_a_ticket_opened_late_on_the_last_day_belongs_to_that_month_in_the_contract_zone(
    drive: Drive,
) -> None:
    # Opened 31 Oct 23:30 Berlin (CET, 22:30Z), never answered -> missed: October 0/1 = 0%;
    # November counts no ticket -> 100%.
    rows = drive(
        contract(SUPPORT), [ticket("T1", "opened", "2026-10-31T23:30:00+01:00")], "2026-12-01T00:00:00Z"
    )
    assert rows.clause("support", "2026-10")["attained_percent"] == 0.0
    assert rows.clause("support", "2026-11")["attained_percent"] == 100.0
    # America/Los_Angeles: 1 Nov 06:30Z is 31 Oct 23:30 PDT, still October there -> 0%.
    la = contract(SUPPORT, timezone="America/Los_Angeles")
    rows = drive(la, [ticket("T1", "opened", "2026-11-01T06:30:00Z")], "2026-12-01T00:00:00Z")
    assert rows.clause("support", "2026-10")["attained_percent"] == 0.0


def test_a_response_exactly_at_the_deadline_is_on_time_and_one_microsecond_later_is_missed(
    drive: Drive,
) -> None:
    acme = contract(response(within="4h", credits=[{"below_percent": 90, "credit_percent": 5}]))
    opened = "2026-06-10T08:00:00+02:00"  # deadline 12:00:00+02:00
    lines = [ticket(t, "opened", opened) for t in "ABCDEFG"]
    lines += [
        ticket("C", "responded", "2026-06-10T08:00:00+02:00"),  # at the opening: on time
        ticket("F", "resolved", "2026-06-10T09:00:00+02:00"),  # not the measure (responded): missed
        ticket("E", "responded", "2026-06-10T11:59:59.999999+02:00"),  # on time
        ticket("A", "responded", "2026-06-10T12:00:00+02:00"),  # exactly the deadline: on time
        ticket("B", "responded", "2026-06-10T12:00:00.000001+02:00"),  # 1 us late: missed
        ticket("G", "responded", "2026-06-10T13:00:00+02:00"),  # missed; D never answered: missed
    ]
    # June ends 1 Jul 00:00 CEST = 30 Jun 22:00Z; final at + 4 h + 1 h = 1 Jul 03:00Z.
    # On time A, C, E = 3 of 7 -> 100 * 3/7 = 42.857142...% -> 5% of 12000.00 = 600.00.
    rows = drive(acme, lines, "2026-07-01T03:00:00Z")
    june = rows.clause("support", "2026-06")
    assert (june["attained_percent"], june["final"], june["credit_percent"]) == (ratio(3, 7), True, 5.0)
    assert rows.contract("2026-06")["credit_amount"] == "600.00"
    before = run(acme, lines, "2026-07-01T02:59:59.999999Z")
    assert before.clause("support", "2026-06")["final"] is False
    # within 24h: opened 5 Oct 10:00Z, deadline 6 Oct 10:00Z. T1 answered at the deadline -> on
    # time; T2 answered 1 us later -> missed. 1 of 2 on time = 50%.
    lines = [
        ticket("T1", "opened", "2026-10-05T10:00:00Z"),
        ticket("T2", "opened", "2026-10-05T10:00:00Z"),
        ticket("T1", "responded", "2026-10-06T10:00:00Z"),
        ticket("T2", "responded", "2026-10-06T10:00:00.000001Z"),
    ]
    rows = drive(contract(SUPPORT), lines, "2026-12-01T00:00:00Z")
    assert rows.clause("support", "2026-10")["attained_percent"] == 50.0


def test_within_is_elapsed_time_across_the_dst_jump() -> None:
    # within 24h. Opened Sat 28 Mar 12:00 CET (11:00Z) -> deadline 29 Mar 11:00Z = 13:00 CEST
    # (23 h on the wall clock, as DST starts in between).
    acme = contract(response())
    opened = [ticket(t, "opened", "2026-03-28T12:00:00+01:00") for t in "PQR"]
    answers = [
        ticket("P", "responded", "2026-03-29T12:30:00+02:00"),  # 10:30Z: on time
        ticket("Q", "responded", "2026-03-29T13:00:00+02:00"),  # 11:00Z, the deadline: on time
        ticket("R", "responded", "2026-03-29T13:00:00.000001+02:00"),  # 1 us late: missed
    ]
    # 2 of 3 on time -> 66.666...%
    rows = run(acme, opened + answers, "2026-04-02T00:00:00Z")
    assert rows.clause("support", "2026-03")["attained_percent"] == ratio(2, 3)
    # Open period, no answers yet: at the deadline exactly the tickets are still undecided and not
    # counted -> 100%; one microsecond later all three are missed -> 0/3 = 0%.
    assert (
        run(acme, opened, "2026-03-29T13:00:00+02:00").clause("support", "2026-03")["attained_percent"]
        == 100.0
    )
    assert run(acme, opened, "2026-03-29T13:00:00.000001+02:00").clause("support", "2026-03")[
        "attained_percent"
    ] == ratio(0, 3)


def test_priority_comes_from_the_first_opened_and_the_first_measure_event_decides(drive: Drive) -> None:
    acme = contract(response(measure="resolved", within="8h", priorities=["P1", "P2"]))
    day = "2026-06-10T"
    lines = [
        ticket("T4", "resolved", day + "09:00:00+02:00"),  # resolved before it was opened: first measure
        ticket("T2", "opened", day + "10:30:00+02:00", priority="P1", event_id="t2-second"),
        ticket("T2", "opened", day + "10:00:00+02:00", priority="P3", event_id="t2-first"),  # first: P3
        ticket("T1", "opened", day + "10:00:00+02:00", priority="P1"),
        ticket("T3", "opened", day + "10:00:00+02:00", priority="P2"),
        ticket("T4", "opened", day + "10:00:00+02:00", priority="P1"),
        ticket("T5", "opened", day + "10:00:00+02:00", priority=None),  # no priority: filtered out
        ticket("T6", "opened", day + "10:00:00+02:00", priority="P2"),
        ticket("T1", "opened", day + "11:00:00+02:00", priority="P3"),  # a second opened: ignored
        ticket("T3", "responded", day + "11:00:00+02:00"),  # not the measure
        ticket("T6", "resolved", day + "12:00:00+02:00"),
        ticket("T1", "resolved", day + "17:00:00+02:00"),
        ticket("T3", "resolved", day + "18:00:00.000001+02:00"),  # deadline 18:00: missed
        ticket("T6", "resolved", day + "20:00:00+02:00"),  # later resolution: irrelevant
    ]
    # Counted (priority P1/P2 from the first opened): T1 (P1), T3 (P2), T4 (P1), T6 (P2); T2's
    # first opened says P3 and T5 has none. On time: T1 (17:00 <= 18:00), T4 (09:00, before the
    # deadline), T6 (12:00); T3 missed -> 3 of 4 = 75%.
    rows = drive(acme, lines, "2026-07-02T00:00:00Z")
    assert rows.clause("support", "2026-06")["attained_percent"] == ratio(3, 4)


def test_a_ticket_id_is_reused_only_more_than_62_days_after_its_first_opened(drive: Drive) -> None:
    """The same result whether the first ticket was already settled (ticks moved the clock past
    its deadline) or still open when its id came back (found by test_processor's crash test)."""
    acme = contract(response(within="24h"))
    lines = [
        ticket("U", "opened", "2026-02-19T00:00:00Z"),
        ticket("U", "responded", "2026-02-19T01:00:00Z"),  # on time
        ticket("U", "opened", "2026-02-20T00:00:00Z", event_id="u-again"),  # a day on: the same U
        ticket("T", "opened", "2026-02-20T00:00:00Z"),  # never answered: missed in February
        # 20 Feb 00:00Z + 62 days = 23 Apr 00:00Z; one second later the id starts a new ticket.
        # Without ticks nothing has moved the clock past T's deadline yet: T is still open.
        ticket("T", "opened", "2026-04-23T00:00:01Z", event_id="t-again"),  # never answered either
    ]
    # February: U on time, T missed -> 1 of 2 = 50%. March: no ticket -> 100%. April: the new
    # T missed -> 0 of 1. April ends 30 Apr 22:00Z; final at + 24 h + 1 h = 1 May 23:00Z.
    rows = drive(acme, lines, "2026-05-01T23:00:00Z")
    figures = {p: rows.clause("support", p)["attained_percent"] for p in ("2026-02", "2026-03", "2026-04")}
    assert figures == {"2026-02": ratio(1, 2), "2026-03": 100.0, "2026-04": 0.0}
    assert rows.clause("support", "2026-04")["final"] is True


# --- effective dates ---------------------------------------------------------------------


def test_a_first_period_starting_mid_month_and_a_last_one_cut_by_effective_to(drive: Drive) -> None:
    acme = contract(uptime(), response(), effective_from="2026-03-15", effective_to="2026-05-20")
    lines = [
        # 14 Mar 23:00 CET (22:00Z) -> 15 Mar 01:00 CET (00:00Z): the contract starts 15 Mar 00:00
        # CET = 14 Mar 23:00Z, so 1 h counts
        status("2026-03-14T22:00:00Z", "down"),
        ticket("X", "opened", "2026-03-14T23:30:00+01:00"),  # before effective_from: not counted
        status("2026-03-15T00:00:00Z", "up"),
        # 19 May 23:00 CEST -> 20 May 02:00 CEST: the contract ends 20 May 00:00 CEST (19 May 22:00Z),
        # so 1 h counts
        status("2026-05-19T23:00:00+02:00", "down"),
        ticket("Y", "opened", "2026-05-19T23:30:00+02:00"),  # last half hour: May, never answered
        ticket("Z", "opened", "2026-05-20T00:30:00+02:00"),  # after effective_to: not counted
        status("2026-05-20T02:00:00+02:00", "up"),
        *outage("2026-05-25T10:00:00Z", "2026-05-25T12:00:00Z"),  # after effective_to: ignored
    ]
    rows = drive(acme, lines, "2026-07-01T00:00:00Z")
    # Periods: March from the 15th, April, May to the 19th; nothing before or after.
    assert rows.periods("api-uptime") == ["2026-03", "2026-04", "2026-05"]
    assert rows.periods("support") == ["2026-03", "2026-04", "2026-05"]
    assert rows.periods() == ["2026-03", "2026-04", "2026-05"]
    # March: 15 Mar 00:00 CET (14 Mar 23:00Z) .. 1 Apr 00:00 CEST (31 Mar 22:00Z)
    #   = 17 days * 24 - 1 (DST, 29 Mar) = 407 h -> 100 * 406 / 407
    # May: 1 May 00:00 CEST (30 Apr 22:00Z) .. 20 May 00:00 CEST (19 May 22:00Z) = 19 * 24 = 456 h
    #   -> 100 * 455 / 456
    assert rows.clause("api-uptime", "2026-03")["attained_percent"] == pct(407 * H, 1 * H)
    assert rows.clause("api-uptime", "2026-04")["attained_percent"] == 100.0
    assert rows.clause("api-uptime", "2026-05")["attained_percent"] == pct(456 * H, 1 * H)
    # Tickets: March none counted (X is before the start) -> 100; May: Y missed -> 0/1 = 0%
    assert rows.clause("support", "2026-03")["attained_percent"] == 100.0
    assert rows.clause("support", "2026-05")["attained_percent"] == 0.0
    # effective 15 Mar to 10 May: March 407 h as above; May 1 May to 10 May = 9 * 24 = 216 h.
    # 1 h outages on 20 Mar and 5 May count; the one on 20 May is after the end.
    lines = [
        *outage("2026-03-20T10:00:00Z", "2026-03-20T11:00:00Z"),
        *outage("2026-05-05T10:00:00Z", "2026-05-05T11:00:00Z"),
        *outage("2026-05-20T10:00:00Z", "2026-05-20T11:00:00Z"),
    ]
    rows = drive(
        contract(effective_from="2026-03-15", effective_to="2026-05-10"), lines, "2026-06-02T00:00:00Z"
    )
    assert rows.clause("api-uptime", "2026-03")["attained_percent"] == pct(407 * H, 1 * H)
    assert rows.clause("api-uptime", "2026-05")["attained_percent"] == pct(216 * H, 1 * H)
    assert rows.periods("api-uptime") == ["2026-03", "2026-04", "2026-05"]  # no February, no June


def test_the_last_period_cut_by_effective_to_becomes_final_at_its_own_end() -> None:
    acme = contract(uptime(), response(), effective_from="2026-03-15", effective_to="2026-05-20")
    lines = outage("2026-03-20T10:00:00Z", "2026-03-20T11:00:00Z")
    # The May period ends 20 May 00:00 CEST = 19 May 22:00Z. Uptime final at + 1 h = 23:00Z;
    # response time at + 24 h + 1 h = 20 May 23:00Z.
    assert run(acme, lines, "2026-05-19T22:59:59.999999Z").clause("api-uptime", "2026-05")["final"] is False
    assert run(acme, lines, "2026-05-19T23:00:00Z").clause("api-uptime", "2026-05")["final"] is True
    assert run(acme, lines, "2026-05-20T22:59:59.999999Z").clause("support", "2026-05")["final"] is False
    rows = run(acme, lines, "2026-05-20T23:00:00Z")
    assert rows.clause("support", "2026-05")["final"] is True
    assert rows.contract("2026-05")["final"] is True
    # The first period is final at its end (31 Mar 22:00Z) + 1 h / + 25 h as usual
    assert run(acme, lines, "2026-03-31T23:00:00Z").clause("api-uptime", "2026-03")["final"] is True


# --- credits -------------------------------------------------------------------------------


TIERS = [  # deliberately not in order
    {"below_percent": 99.0, "credit_percent": 25},
    {"below_percent": 95, "credit_percent": 50},
    {"below_percent": 99.5, "credit_percent": 10},
]


@pytest.mark.parametrize(
    ("up_at", "down", "credit", "amount"),
    [
        # September 2026 in Berlin: 720 h. Down from 10 Sep 00:00Z.
        (None, 0, 0.0, "0.00"),  # 100% -> no tier, met
        ("2026-09-10T03:36:00Z", 12960 * S, 0.0, "0.00"),  # 3 h 36 = 0.5% of 720 h -> exactly 99.5: met
        ("2026-09-10T03:36:00.000001Z", 12960 * S + US, 10.0, "1200.00"),  # just below 99.5 -> 10
        ("2026-09-10T05:00:00Z", 5 * H, 10.0, "1200.00"),  # 99.305...% -> 10
        ("2026-09-10T07:12:00Z", 25920 * S, 10.0, "1200.00"),  # 7 h 12 = 1% -> exactly 99.0: not below it
        ("2026-09-10T07:12:00.000001Z", 25920 * S + US, 25.0, "3000.00"),  # just below 99.0 -> 25
        ("2026-09-11T12:00:00Z", 36 * H, 25.0, "3000.00"),  # 36 h = 5% -> exactly 95.0 -> 25
        ("2026-09-11T12:00:00.000001Z", 36 * H + US, 50.0, "6000.00"),  # just below 95 -> 50
    ],
)
def test_tier_selection(drive: Drive, up_at: str | None, down: int, credit: float, amount: str) -> None:
    lines = outage("2026-09-10T00:00:00Z", up_at) if up_at else []
    rows = drive(contract(uptime(credits=TIERS)), lines, "2026-10-01T00:00:00Z")
    september = rows.clause("api-uptime", "2026-09")
    assert september["attained_percent"] == pct(720 * H, down)
    assert september["met"] is (credit == 0.0)
    assert september["credit_percent"] == credit
    assert rows.contract("2026-09")["credit_amount"] == amount


TIERS_99_9 = [
    {"below_percent": 99.9, "credit_percent": 5},
    {"below_percent": 99.0, "credit_percent": 15},
    {"below_percent": 95.0, "credit_percent": 30},
]


@pytest.mark.parametrize(
    ("down_minutes", "credit"),
    [
        # September 2026 Berlin: 720 h = 43200 min; target 99.9.
        (0, 0.0),  # 100% -> no tier
        (43.2, 0.0),  # 99.9% exactly: not below 99.9 -> no credit, met
        (60, 5.0),  # 99.861% < 99.9 -> 5
        (432, 5.0),  # 99.0% exactly: below 99.9, not below 99.0 -> 5
        (500, 15.0),  # 98.84% < 99.0 -> 15 (the largest missed tier)
        (2160, 15.0),  # 95.0% exactly -> below 99.0, not below 95.0 -> 15
        (3000, 30.0),  # 93.06% -> 30
    ],
)
def test_tier_selection_at_a_99_9_target(drive: Drive, down_minutes: float, credit: float) -> None:
    start = moment("2026-09-10T00:00:00+00:00")
    end = start + timedelta(minutes=down_minutes)
    lines = outage(start.isoformat(), end.isoformat()) if down_minutes else []
    acme = contract(uptime(target=99.9, credits=TIERS_99_9))
    rows = drive(acme, [*lines, status("2026-10-03T00:00:00Z", "up")], "2026-10-03T00:00:00Z")
    assert rows.clause("api-uptime", "2026-09")["credit_percent"] == credit
    assert rows.clause("api-uptime", "2026-09")["met"] is (down_minutes <= 43.2)


def test_tiers_pick_the_largest_credit_not_the_tightest_bound() -> None:
    # Tiers: below 99.5 -> 10%, below 99.0 -> 5% (an odd but valid contract). 10 h down in
    # September: 100 * 710/720 = 98.61% is below both -> the largest credit, 10%.
    odd = uptime(
        credits=[{"below_percent": 99.5, "credit_percent": 10}, {"below_percent": 99.0, "credit_percent": 5}]
    )
    rows = run(contract(odd), outage("2026-09-10T00:00:00Z", "2026-09-10T10:00:00Z"), "2026-10-01T00:00:00Z")
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(720 * H, 10 * H)
    assert rows.clause("api-uptime", "2026-09")["credit_percent"] == 10.0


def test_consecutive_breaches_count_credit_remedy_and_reset(drive: Drive) -> None:
    api = uptime(
        credits=[{"below_percent": 99.5, "credit_percent": 5}],
        consecutive={"periods": 2, "credit_percent": 10, "remedy": "contract_review"},
    )
    web = uptime(
        "web-uptime",
        "web",
        target=99.0,
        consecutive={"periods": 3, "credit_percent": 20, "remedy": "termination_right"},
    )
    lines = []
    # api: 5 h down on the 10th of Jan, Feb, Apr, May (above every month's 0.5% budget: at most
    # 0.5% of 744 h = 3.72 h); 1 h in March (met: 0.5% of 743 h = 3.715 h).
    for month, hours in (("01", 5), ("02", 5), ("03", 1), ("04", 5), ("05", 5)):
        lines += outage(f"2026-{month}-10T00:00:00Z", f"2026-{month}-10T{hours:02d}:00:00Z")
    # web: 10 h down on the 12th of Jan, Feb, Mar, May (above 1% of any month, at most 7.44 h);
    # April clean.
    for month in ("01", "02", "03", "05"):
        lines += outage(f"2026-{month}-12T00:00:00Z", f"2026-{month}-12T10:00:00Z", "web")
    rows = drive(contract(api, web), in_time_order(lines), "2026-06-02T00:00:00Z")

    def summary(clause: str) -> list[tuple[int, float, list[str]]]:
        return [
            (r["consecutive_breaches"], r["credit_percent"], r["remedies"])
            for r in (rows.clause(clause, f"2026-0{m}") for m in range(1, 7))
        ]

    # Month lengths: Jan 744 h, Feb 672 h, Mar 743 h, Apr 720 h, May 744 h.
    assert [rows.clause("api-uptime", f"2026-0{m}")["attained_percent"] for m in range(1, 6)] == [
        pct(744 * H, 5 * H),
        pct(672 * H, 5 * H),
        pct(743 * H, 1 * H),
        pct(720 * H, 5 * H),
        pct(744 * H, 5 * H),
    ]
    # api: breach, breach (count 2 >= 2: tier 5 + 10 and contract_review), met (0), breach (1),
    # breach (2 again); June (open, clean) met -> 0.
    assert summary("api-uptime") == [
        (1, 5.0, []),
        (2, 15.0, ["contract_review"]),
        (0, 0.0, []),
        (1, 5.0, []),
        (2, 15.0, ["contract_review"]),
        (0, 0.0, []),
    ]
    # web: breach 1, 2, 3 (>= 3: +20 and termination_right), met 0, breach 1; June 0.
    assert summary("web-uptime") == [
        (1, 0.0, []),
        (2, 0.0, []),
        (3, 20.0, ["termination_right"]),
        (0, 0.0, []),
        (1, 0.0, []),
        (0, 0.0, []),
    ]
    # Contract: Jan 5, Feb 15, Mar 0 + 20, Apr 5, May 15 (% of 12000.00 EUR)
    assert [rows.contract(f"2026-0{m}")["credit_amount"] for m in range(1, 6)] == [
        "600.00",
        "1800.00",
        "2400.00",
        "600.00",
        "1800.00",
    ]
    assert rows.contract("2026-06")["final"] is False


def test_consecutive_breaches_without_tiers_earn_only_the_consecutive_credit(drive: Drive) -> None:
    # 99.5%, 2 in a row -> +10% and contract_review, no tiers. 5 h down breaches any month (99.5%
    # of 744 h allows 3.72 h). Breach Jan, Feb -> count 1, 2 (credit 10, remedy); Mar met -> 0;
    # Apr breach -> 1 (no credit: no tiers, below the consecutive bound).
    sample = uptime(consecutive={"periods": 2, "credit_percent": 10, "remedy": "contract_review"})
    lines = []
    for month in ("01", "02", "04"):
        lines += outage(f"2026-{month}-10T00:00:00Z", f"2026-{month}-10T05:00:00Z")
    rows = drive(contract(sample, monthly_fee="1000.00"), lines, "2026-05-02T00:00:00Z")
    got = [
        (r["consecutive_breaches"], r["credit_percent"], r["remedies"])
        for r in (rows.clause("api-uptime", p) for p in ("2026-01", "2026-02", "2026-03", "2026-04"))
    ]
    assert got == [(1, 0.0, []), (2, 10.0, ["contract_review"]), (0, 0.0, []), (1, 0.0, [])]
    assert rows.contract("2026-02")["credit_amount"] == "100.00"  # 1000.00 EUR * 10%


@pytest.mark.parametrize(
    ("clauses", "cap", "clause_credit", "percent", "amount"),
    [
        # three clauses at 20% each = 60%, capped at 50% -> 6000.00 of 12000.00
        (3, 50, 20.0, 50.0, "6000.00"),
        # two clauses: 40% <= 50%, the cap does not bind -> 4800.00
        (2, 50, 20.0, 40.0, "4800.00"),
        # two clauses at 20% = 40%, cap 12.5 -> 1500.00
        (2, 12.5, 20.0, 12.5, "1500.00"),
    ],
)
def test_the_cap_limits_the_sum_over_clauses(
    drive: Drive, clauses: int, cap: float, clause_credit: float, percent: float, amount: str
) -> None:
    services = ["a", "b", "c"][:clauses]
    acme = contract(
        *(
            uptime(f"{s}-uptime", s, credits=[{"below_percent": 99.5, "credit_percent": 20}])
            for s in services
        ),
        credit_cap_percent=cap,
    )
    lines = [line for s in services for line in outage("2026-09-10T00:00:00Z", "2026-09-10T05:00:00Z", s)]
    rows = drive(acme, in_time_order(lines), "2026-10-01T00:00:00Z")
    assert [rows.clause(f"{s}-uptime", "2026-09")["credit_percent"] for s in services] == [
        clause_credit
    ] * clauses
    assert rows.contract("2026-09")["credit_percent"] == percent
    assert rows.contract("2026-09")["credit_amount"] == amount


def test_the_cap_limits_two_clause_credits_of_25_percent_to_30() -> None:
    # Two clauses at 25% each = 50%, capped at 30% -> 30% of 1000.00 = 300.00.
    clauses = [
        uptime(f"up-{s}", s, target=99.9, credits=[{"below_percent": 99.9, "credit_percent": 25}])
        for s in ("api", "web")
    ]
    lines = [status("2026-09-10T00:00:00Z", "down", s) for s in ("api", "web")]
    lines += [status("2026-09-10T05:00:00Z", "up", s) for s in ("api", "web")]
    rows = run(
        contract(*clauses, credit_cap_percent=30, monthly_fee="1000.00"), lines, "2026-10-02T00:00:00Z"
    )
    assert rows.clause("up-api", "2026-09")["credit_percent"] == 25.0
    assert rows.contract("2026-09")["credit_percent"] == 30.0
    assert rows.contract("2026-09")["credit_amount"] == "300.00"


def test_the_cap_also_limits_consecutive_credits() -> None:
    # One clause: tier 20% + consecutive 45% (periods 1: every breached month) = 65% for the
    # clause; the contract is capped at 50% -> 50% of 999.99 EUR = 499.995 -> half up 500.00.
    clause = uptime(
        credits=[{"below_percent": 99.5, "credit_percent": 20}],
        consecutive={"periods": 1, "credit_percent": 45, "remedy": "termination_right"},
    )
    acme = contract(clause, credit_cap_percent=50, monthly_fee="999.99")
    rows = run(acme, outage("2026-09-10T00:00:00Z", "2026-09-10T05:00:00Z"), "2026-10-01T00:00:00Z")
    september = rows.clause("api-uptime", "2026-09")
    assert (september["credit_percent"], september["remedies"]) == (65.0, ["termination_right"])
    assert rows.contract("2026-09")["credit_percent"] == 50.0
    assert rows.contract("2026-09")["credit_amount"] == "500.00"


@pytest.mark.parametrize(
    ("currency", "fee", "credit", "amount"),
    [
        ("JPY", "1234567", "7.5", "92593"),  # 1234567 * 7.5 / 100 = 92592.525 -> 92593 (no minor unit)
        ("JPY", 1010, "5", "51"),  # 50.5 -> half up 51 (half-even would give 50); fee as a number
        ("JPY", "1234567", "0", "0"),
        ("USD", "10.10", "5", "0.51"),  # 0.505 -> half up 0.51 (half-even 0.50)
        ("GBP", "1234.50", "1", "12.35"),  # 12.345 -> 12.35 (half-even 12.34)
        ("EUR", "1234.50", "7.5", "92.59"),  # 92.5875 -> 92.59
        ("EUR", "0.10", "5", "0.01"),  # 0.005 -> 0.01
        ("EUR", "12000.00", "10", "1200.00"),
        ("EUR", "1000", "0", "0.00"),
        ("BHD", "1.001", "50", "0.501"),  # 0.5005 -> half up 0.501 (three decimals)
        ("BHD", "100.005", "10", "10.001"),  # 10.0005 -> 10.001
        ("KWD", "12.345", "10", "1.235"),  # 1.2345 -> 1.235 (half-even 1.234)
        ("KWD", "2469.13", "7.5", "185.185"),  # 185.18475 -> 185.185
        ("BHD", "100", "0", "0.000"),
    ],
)
def test_credit_amounts_round_half_up_to_the_currency_minor_unit(
    currency: str, fee: Any, credit: str, amount: str
) -> None:
    # A tier "below 100 -> credit" and 1 min down in September makes the clause credit exactly `credit`.
    clause = uptime(credits=[{"below_percent": 100, "credit_percent": credit}])
    acme = contract(clause, currency=currency, monthly_fee=fee)
    rows = run(acme, outage("2026-09-10T00:00:00Z", "2026-09-10T00:01:00Z"), "2026-10-01T00:00:00Z")
    record = rows.contract("2026-09")
    assert (record["credit_percent"], record["credit_amount"], record["currency"]) == (
        float(credit),
        amount,
        currency,
    )


# --- announced maintenance ---------------------------------------------------------------


ANNOUNCED = [
    # exactly 48 h of notice: excluded when announced_min_notice is 48h
    maintenance("2026-09-10T10:00:00Z", "2026-09-10T12:00:00Z", "2026-09-08T10:00:00Z"),
    # 48 h minus 1 us of notice: never excluded
    maintenance("2026-09-11T10:00:00Z", "2026-09-11T12:00:00Z", "2026-09-09T10:00:00.000001Z"),
    # another service's maintenance: never excluded for api
    maintenance("2026-09-12T10:00:00Z", "2026-09-12T12:00:00Z", "2026-09-01T00:00:00Z", "web"),
    *outage("2026-09-10T09:00:00Z", "2026-09-10T13:00:00Z"),  # 4 h
    *outage("2026-09-11T10:00:00Z", "2026-09-11T12:00:00Z"),  # 2 h
    *outage("2026-09-12T10:00:00Z", "2026-09-12T11:00:00Z"),  # 1 h
]


@pytest.mark.parametrize(
    ("settings", "eligible", "down"),
    [
        # notice 48h: only the first (10:00-12:00 on the 10th) is excluded: eligible 720 - 2 = 718 h,
        # downtime (4 - 2) + 2 + 1 = 5 h
        ({"maintenance": {"announced_min_notice": "48h"}}, 718 * H, 5 * H),
        # no announced_min_notice: announced maintenance is not excluded: 720 h, 4 + 2 + 1 = 7 h
        ({}, 720 * H, 7 * H),
        # notice 48h and a scheduled one-off window 11:00-14:00 on the 10th: excluded is the union
        # 10:00-14:00 = 4 h (not 2 + 3 h): eligible 716 h; downtime 1 (09-10) + 2 + 1 = 4 h
        (
            {
                "maintenance": {
                    "announced_min_notice": "48h",
                    "windows": [{"start": "2026-09-10T11:00:00Z", "end": "2026-09-10T14:00:00Z"}],
                }
            },
            716 * H,
            4 * H,
        ),
        # exclude_maintenance: false excludes nothing, neither announced nor scheduled: 720 h, 7 h
        (
            {
                "clauses": [uptime(exclude_maintenance=False)],
                "maintenance": {
                    "announced_min_notice": "48h",
                    "windows": [
                        {"start": "2026-09-11T00:00:00Z", "end": "2026-09-12T23:00:00Z"},
                        SUNDAY_2H["windows"][0],
                    ],
                },
            },
            720 * H,
            7 * H,
        ),
    ],
    ids=["notice-48h", "no-notice-setting", "union-with-a-window", "exclude-maintenance-false"],
)
def test_announced_maintenance(drive: Drive, settings: dict, eligible: int, down: int) -> None:
    rows = drive(contract(**settings), ANNOUNCED, "2026-10-01T00:00:00Z")
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(eligible, down)


def test_announced_maintenance_needs_its_notice(drive: Drive) -> None:
    # 48h notice. Maintenance 10:00-12:00 announced 3 days ahead counts; one announced 1 h
    # ahead does not. Down 10:00-12:00 on both days: only the second day's 2 h count.
    # September: eligible 720 - 2 = 718 h, downtime 2 h.
    lines = [
        maintenance("2026-09-10T10:00:00Z", "2026-09-10T12:00:00Z", "2026-09-07T10:00:00Z"),
        maintenance("2026-09-11T10:00:00Z", "2026-09-11T12:00:00Z", "2026-09-11T09:00:00Z"),
        *outage("2026-09-10T10:00:00Z", "2026-09-10T12:00:00Z"),
        *outage("2026-09-11T10:00:00Z", "2026-09-11T12:00:00Z"),
    ]
    rows = drive(
        contract(maintenance={"announced_min_notice": "48h"}), in_time_order(lines), "2026-10-02T00:00:00Z"
    )
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(718 * H, 2 * H)
    # without announced_min_notice, announced maintenance is not excluded: 4 h of 720 h
    lines = [
        maintenance("2026-09-10T10:00:00Z", "2026-09-10T12:00:00Z", "2026-09-07T10:00:00Z"),
        *outage("2026-09-10T10:00:00Z", "2026-09-10T14:00:00Z"),
    ]
    rows = drive(contract(), lines, "2026-10-02T00:00:00Z")
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(720 * H, 4 * H)


def test_exclude_maintenance_false_ignores_a_one_off_window_over_the_outage(drive: Drive) -> None:
    # The window 00:00-06:00Z covers the outage 01:00-03:00Z, but the clause excludes nothing:
    # 2 h of 720 h count.
    acme = contract(
        uptime(exclude_maintenance=False),
        maintenance={"windows": [{"start": "2026-09-10T00:00:00Z", "end": "2026-09-10T06:00:00Z"}]},
    )
    rows = drive(acme, outage("2026-09-10T01:00:00Z", "2026-09-10T03:00:00Z"), "2026-10-02T00:00:00Z")
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(720 * H, 2 * H)


def test_announced_maintenance_across_a_month_boundary(drive: Drive) -> None:
    # Maintenance 30 Sep 21:00Z-23:00Z (23:00-01:00 CEST), announced 10 days ahead, notice 48h.
    # September ends 30 Sep 22:00Z. Down 20:00Z -> 1 Oct 00:00Z (4 h).
    #   September: excluded 21-22Z (1 h) -> eligible 719 h; down 20-22Z minus 1 h excluded = 1 h
    #   October:   excluded 22-23Z (1 h) -> eligible 745 - 1 = 744 h; down 22Z-00Z minus 1 h = 1 h
    lines = [
        maintenance("2026-09-30T21:00:00Z", "2026-09-30T23:00:00Z", "2026-09-20T00:00:00Z"),
        *outage("2026-09-30T20:00:00Z", "2026-10-01T00:00:00Z"),
    ]
    rows = drive(contract(maintenance={"announced_min_notice": "48h"}), lines, "2026-11-01T00:00:00Z")
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(719 * H, 1 * H)
    assert rows.clause("api-uptime", "2026-10")["attained_percent"] == pct(744 * H, 1 * H)


# --- lateness, duplicates, finality --------------------------------------------------------


def test_lateness_is_judged_against_watermark_minus_allowed_lateness() -> None:
    acme = contract(maintenance={"announced_min_notice": "48h"})
    engine = Engine([acme])  # allowed_lateness 1h
    verdicts = feed(
        engine,
        [
            status("2026-09-10T12:00:00Z", "up", event_id="e1"),  # watermark 12:00Z; bound 11:00Z
            status("2026-09-10T10:59:59.999999Z", "down", event_id="e2"),  # 1 us before the bound: late
            status("2026-09-10T11:00:00Z", "down", event_id="e3"),  # at the bound: applied
            status("2026-09-10T11:30:00Z", "up", event_id="e4"),
            # a maintenance event is judged by its start: announced "now" but starting 10:30Z -> late
            maintenance(
                "2026-09-10T10:30:00Z", "2026-09-10T13:00:00Z", "2026-09-10T12:00:00Z", event_id="e5"
            ),
            # announced long ago (at far before the bound) but starting in the future -> applied
            maintenance(
                "2026-09-20T10:00:00Z", "2026-09-20T12:00:00Z", "2026-09-01T00:00:00Z", event_id="e6"
            ),
        ],
    )
    assert [v.outcome for v in verdicts] == [
        Outcome.APPLIED,
        Outcome.LATE,
        Outcome.APPLIED,
        Outcome.APPLIED,
        Outcome.LATE,
        Outcome.APPLIED,
    ]
    assert verdicts[1].reason == "late"
    # the old `at` of e6 does not move the watermark back
    assert engine.watermark == to_us(moment("2026-09-10T12:00:00Z"))
    # Downtime 11:00-11:30Z = 30 min (the late down at 10:59:59.999999 would add 1 us; the late
    # maintenance would exclude it all). e6 is excluded (19 days' notice): eligible 720 - 2 = 718 h.
    results = {
        r.period: r
        for r in engine.results(to_us(moment("2026-10-01T00:00:00Z")))
        if isinstance(r, ClauseResult)
    }
    assert results["2026-09"].attained == Fraction(100 * (718 * 60 - 30), 718 * 60)


def test_replay_judges_lateness_against_the_watermark_and_computes_the_open_month() -> None:
    # watermark 12:00, lateness 1h: an event at 10:59 is late (not applied), at 11:00 applied.
    lines = [
        status("2026-09-10T12:00:00Z", "up"),
        status("2026-09-10T10:59:00Z", "down"),
        status("2026-09-10T11:00:00Z", "down"),
        status("2026-09-10T11:30:00Z", "up"),
    ]
    rows = run(contract(), lines)
    assert rows.outcomes() == {"applied": 3, "late": 1}
    # only 11:00-11:30 counts, over the part of September before the clock: 1 Sep 00:00 CEST
    # (31 Aug 22:00Z) to 10 Sep 12:00Z = 9 days 14 h = 230 h -> 100 * (230 h - 30 min) / 230 h
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(230 * H, 30 * M)


def test_replay_reports_late_events_and_honours_a_custom_lateness() -> None:
    # allowed_lateness 30m; watermark 12:00Z -> bound 11:30Z.
    lines = [
        status("2026-09-10T12:00:00Z", "up", event_id="e1"),
        status("2026-09-10T11:29:59.999999Z", "down", event_id="e2"),  # late
        status("2026-09-10T11:30:00Z", "down", event_id="e3"),  # applied: down 11:30-11:45Z
        status("2026-09-10T11:45:00Z", "up", event_id="e4"),
    ]
    rows = run(contract(), lines, "2026-10-01T00:00:00Z", lateness=timedelta(minutes=30))
    assert rows.outcomes() == {"applied": 3, "late": 1}
    assert rows.report.watermark == to_us(moment("2026-09-10T12:00:00Z"))
    # 15 min of September's 720 h
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(720 * H, 15 * M)


def test_duplicates_and_unknown_contracts() -> None:
    engine = Engine([contract(uptime(), response())])
    verdicts = feed(
        engine,
        [
            status("2026-09-10T10:00:00Z", "down", event_id="d1"),
            status("2026-09-10T11:00:00Z", "up", event_id="u1"),
            status("2026-09-10T10:30:00Z", "up", event_id="d1"),  # same id, other content: duplicate
            status("2026-09-10T11:00:00Z", "up", event_id="u1"),  # exact repeat: duplicate
            ticket("T", "opened", "2026-09-10T13:00:00Z", contract_id="nobody"),  # unknown contract
        ],
    )
    assert [v.outcome for v in verdicts] == [
        Outcome.APPLIED,
        Outcome.APPLIED,
        Outcome.DUPLICATE,
        Outcome.DUPLICATE,
        Outcome.INVALID,
    ]
    assert verdicts[-1].reason == "unknown contract 'nobody'"
    assert engine.watermark == to_us(moment("2026-09-10T11:00:00Z"))  # the invalid event did not move it
    # Down 10:00-11:00Z = 1 h of 720 h
    results = {
        (r.clause, r.period): r
        for r in engine.results(to_us(moment("2026-10-01T00:00:00Z")))
        if isinstance(r, ClauseResult)
    }
    assert results[("api-uptime", "2026-09")].attained == Fraction(100 * (720 - 1), 720)


def test_a_fold_forgets_the_ids_settled_and_keeps_the_rest_of_their_minute() -> None:
    """The duplicate check forgets an id once its event is settled (a repeat is then late),
    even when the settled point falls inside that event's minute."""
    engine = Engine([contract(uptime())])  # lateness 1 h: the engine folds an hour at a time
    verdicts = feed(
        engine,
        [
            status("2026-09-10T10:00:10Z", "up", event_id="early"),
            status("2026-09-10T10:00:50Z", "up", event_id="later"),  # the same minute, 40 s after
            # watermark 11:00:30: settled up to 10:00:30, between the two (first fold: from 09:00:10)
            status("2026-09-10T11:00:30Z", "up", event_id="clock"),
            status("2026-09-10T10:00:50Z", "up", event_id="later"),  # not settled: a duplicate
            status("2026-09-10T10:00:10Z", "up", event_id="early"),  # settled: late
        ],
    )
    assert [v.outcome for v in verdicts] == [
        Outcome.APPLIED,
        Outcome.APPLIED,
        Outcome.APPLIED,
        Outcome.DUPLICATE,
        Outcome.LATE,
    ]


def test_finality_at_period_end_plus_lateness_and_plus_within() -> None:
    acme = contract(uptime(), response())  # within 24h
    lines = [status("2026-10-05T00:00:00Z", "up")]
    # October in Berlin ends 1 Nov 00:00 CET = 31 Oct 23:00Z. Uptime: final from 23:00Z + 1 h =
    # 1 Nov 00:00Z; response time: from 23:00Z + 24 h + 1 h = 2 Nov 00:00Z.
    early = run(acme, lines, "2026-10-31T23:59:59.999999Z")
    assert early.clause("api-uptime", "2026-10")["final"] is False
    at_uptime = run(acme, lines, "2026-11-01T00:00:00Z")
    assert at_uptime.clause("api-uptime", "2026-10")["final"] is True
    assert at_uptime.clause("support", "2026-10")["final"] is False
    assert at_uptime.contract("2026-10")["final"] is False  # not until every clause is final
    almost = run(acme, lines, "2026-11-01T23:59:59.999999Z")
    assert almost.clause("support", "2026-10")["final"] is False
    at_response = run(acme, lines, "2026-11-02T00:00:00Z")
    assert at_response.clause("support", "2026-10")["final"] is True
    assert at_response.contract("2026-10")["final"] is True
    # a custom lateness of 2h moves the uptime point to 1 Nov 01:00Z
    assert (
        run(acme, lines, "2026-11-01T00:59:59.999999Z", lateness=timedelta(hours=2)).clause(
            "api-uptime", "2026-10"
        )["final"]
        is False
    )
    assert (
        run(acme, lines, "2026-11-01T01:00:00Z", lateness=timedelta(hours=2)).clause("api-uptime", "2026-10")[
            "final"
        ]
        is True
    )


def test_finality_from_the_file_watermark_without_as_of() -> None:
    # No --as-of: the clock is the watermark, here exactly 1 Nov 00:00Z = October's end + 1 h.
    lines = [status("2026-10-05T00:00:00Z", "up"), status("2026-11-01T00:00:00Z", "up")]
    rows = run(contract(), lines)
    assert rows.clause("api-uptime", "2026-10")["final"] is True
    # November started 31 Oct 23:00Z, before the clock: it has an open record over its first hour
    assert rows.clause("api-uptime", "2026-11")["final"] is False


def test_a_period_has_a_record_only_once_it_has_started() -> None:
    # November in Berlin starts 1 Nov 00:00 CET = 31 Oct 23:00Z.
    lines = [status("2026-10-05T00:00:00Z", "up")]
    assert run(contract(), lines, "2026-10-31T23:00:00Z").periods("api-uptime")[-1] == "2026-10"
    assert run(contract(), lines, "2026-10-31T23:00:00.000001Z").periods("api-uptime")[-1] == "2026-11"


def test_an_open_period_is_computed_over_its_part_before_the_clock() -> None:
    # Clock 10 Sep 12:00Z; September began 31 Aug 22:00Z -> 9 days 14 h = 230 h so far.
    # Down 10:00-11:00Z -> 100 * (230 - 1) / 230, not final.
    rows = run(contract(), outage("2026-09-10T10:00:00Z", "2026-09-10T11:00:00Z"), "2026-09-10T12:00:00Z")
    september = rows.clause("api-uptime", "2026-09")
    assert (september["attained_percent"], september["final"]) == (pct(230 * H, 1 * H), False)


def test_as_of_earlier_than_the_watermark_is_an_error() -> None:
    lines = [status("2026-10-05T00:00:00Z", "up")]
    with pytest.raises(ReplayError, match="earlier than"):
        run(contract(), lines, "2026-10-04T23:59:59.999999Z")
    # exactly the watermark is fine
    assert run(contract(), lines, "2026-10-05T00:00:00Z").report.watermark == to_us(
        moment("2026-10-05T00:00:00Z")
    )


# --- spans, arrival order and the fold --------------------------------------------------------


def test_arrival_order_within_lateness_does_not_matter_and_repeated_downs_do_not_split_a_span() -> None:
    # min_outage 45m. down 10:00Z, down again 10:20Z (still the same span), up 11:00Z: one span of
    # 60 min >= 45 -> counts 60 min of September's 720 h (as two spans of 20 + 40 min it would be
    # ignored). The events arrive in three orders, all within the 1 h lateness.
    acme = contract(uptime(min_outage="45m"))
    first = status("2026-09-10T10:00:00Z", "down")
    again = status("2026-09-10T10:20:00Z", "down")
    up = status("2026-09-10T11:00:00Z", "up")
    for order in ([first, again, up], [up, again, first], [again, up, first]):
        rows = run(acme, order, "2026-10-01T00:00:00Z")
        assert rows.outcomes() == {"applied": 3}
        assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(720 * H, 60 * M)


ZERO_LENGTH_UP = [
    status("2026-09-10T10:00:00Z", "down", event_id="a"),
    # two events at 10:20: "b1" up then "b2" down by event_id -> "b2" wins, the up lasts zero
    # time and the span 10:00-11:00 is not interrupted
    status("2026-09-10T10:20:00Z", "up", event_id="b1"),
    status("2026-09-10T10:20:00Z", "down", event_id="b2"),
    status("2026-09-10T11:00:00Z", "up", event_id="c"),
]
OTHER_SERVICE_AT_1130 = status("2026-09-10T11:30:00Z", "up", "web", event_id="w")


@pytest.mark.parametrize(
    "lines",
    [
        pytest.param([*ZERO_LENGTH_UP, OTHER_SERVICE_AT_1130], id="time-order"),
        pytest.param(
            # the other service's 11:30 event arrives before "c": watermark 11:30, bound 10:30, so
            # the engine folds up to 10:30 in the middle of the span; "c" (11:00) is still on time
            [*ZERO_LENGTH_UP[:3], OTHER_SERVICE_AT_1130, ZERO_LENGTH_UP[3]],
            id="fold-inside-the-span",
        ),
    ],
)
def test_a_zero_length_up_does_not_split_a_down_span(lines: list[str]) -> None:
    # min_outage 45m: the span 10:00-11:00Z is 60 min -> counts 60 min of September's 720 h,
    # whatever the arrival order (all five events are applied: none is older than the bound).
    rows = run(contract(uptime(min_outage="45m")), lines, "2026-10-01T00:00:00Z")
    assert rows.outcomes() == {"applied": 5}
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(720 * H, 60 * M)


def test_a_zero_length_up_does_not_split_a_down_span_while_folding_every_minute() -> None:
    # Same events, lateness 0 and a clock event every minute: the engine folds at 10:21, 10:22, ...
    # Expected as above: 60 min of 720 h = 43200 min.
    engine = Engine([contract(uptime(min_outage="45m"))], allowed_lateness=timedelta(0))
    feed(engine, with_ticks(ZERO_LENGTH_UP, "2026-09-10T12:00:00Z", timedelta(minutes=1)))
    results = [
        r for r in engine.results(to_us(moment("2026-10-01T00:00:00Z"))) if isinstance(r, ClauseResult)
    ]
    assert {r.period: r.attained for r in results}["2026-09"] == Fraction(100 * (43200 - 60), 43200)


def test_a_repeat_of_an_applied_event_is_never_applied_twice_whatever_the_engine_folded() -> None:
    # README "Semantics": a redelivery is a duplicate while its id is remembered, and "late"
    # once it is older than the settled point (its id forgotten): never applied again.
    # History 1: watermark 11:00Z then 11:30Z; history 2: watermark 11:05Z. The repeat of "d1"
    # (10:00Z) is older than the bound in both, so either outcome is allowed, and the figures
    # equal those without the repeat: "d1" down from 10:00Z until the clock.
    d1 = status("2026-09-10T10:00:00Z", "down", event_id="d1")
    histories = [
        [status("2026-09-10T11:00:00Z", "up", "web"), status("2026-09-10T11:30:00Z", "up", "web")],
        [status("2026-09-10T11:05:00Z", "up", "web")],
    ]
    for history in histories:
        with_repeat, without = Engine([contract()]), Engine([contract()])
        assert feed(with_repeat, [d1, *history, d1])[-1].outcome in (Outcome.DUPLICATE, Outcome.LATE)
        feed(without, [d1, *history])
        assert with_repeat.results() == without.results()


def test_every_period_from_effective_from_has_a_record_without_any_event() -> None:
    # No events at all, --as-of 15 Mar 2026 12:00Z: Jan, Feb (final) and Mar (open) at 100%.
    rows = run(contract(uptime(), response()), [], "2026-03-15T12:00:00Z")
    assert rows.periods("api-uptime") == ["2026-01", "2026-02", "2026-03"]
    assert rows.periods("support") == ["2026-01", "2026-02", "2026-03"]
    assert [rows.clause("api-uptime", p)["final"] for p in ("2026-01", "2026-02", "2026-03")] == [
        True,
        True,
        False,
    ]
    assert {
        rows.clause(c, p)["attained_percent"] for c in ("api-uptime", "support") for p in rows.periods()
    } == {100.0}
    assert rows.contract("2026-02")["credit_amount"] == "0.00"


def test_the_builders_make_valid_events() -> None:
    for line in (
        status("2026-10-05T00:00:00Z", "up"),
        ticket("T", "opened", "2026-10-05T00:00:00Z"),
        maintenance("2026-10-05T00:00:00Z", "2026-10-05T01:00:00Z", "2026-10-01T00:00:00Z"),
    ):
        decode_event(line)
