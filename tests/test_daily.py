"""Each local day's availability (monitor.engine.daily): exact, DST days 23 or 25 hours long."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.engine.daily import daily_attainment
from monitor.timeutil import from_us, to_us

BERLIN = ZoneInfo("Europe/Berlin")
MINUTE = 60_000_000


def utc(*parts: int) -> int:
    return to_us(datetime(*parts, tzinfo=UTC))


def test_the_day_summer_time_ends_has_25_hours() -> None:
    # 24-25 Oct 2026 in Berlin; summer time ends on the 25th at 03:00 CEST (01:00Z).
    bounds = (utc(2026, 10, 23, 22), utc(2026, 10, 25, 23))  # local midnights of the 24th and 26th
    excluded = [(utc(2026, 10, 25, 0), utc(2026, 10, 25, 2))]  # Sunday 02:00 CEST for 2 h elapsed
    outage = [(utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 2, 30))]  # 01:30 CEST to 03:30 CET
    day24, day25 = daily_attainment(outage, excluded, BERLIN, bounds)
    assert (day24.day.isoformat(), day24.attained) == ("2026-10-24", 100)
    # the 25th: 25 h = 1500 min, 120 excluded -> 1380 eligible; down 23:30-00:00Z and
    # 02:00-02:30Z outside the window = 60 min -> 100 x 1320 / 1380 = 2200/23
    assert (day25.eligible, day25.downtime) == (1380 * MINUTE, 60 * MINUTE)
    assert day25.attained == Fraction(2200, 23)


def test_an_open_month_is_cut_at_its_clock() -> None:
    # the clock at 12:00 CET on the 25th (11:00Z): that day has 22:00Z..11:00Z = 13 h = 780 min,
    # 660 eligible, 60 down -> 100 x 600 / 660 = 1000/11; no day after the clock
    bounds = (utc(2026, 10, 23, 22), utc(2026, 10, 25, 11))
    days = daily_attainment(
        [(utc(2026, 10, 24, 23, 30), utc(2026, 10, 25, 2, 30))],
        [(utc(2026, 10, 25, 0), utc(2026, 10, 25, 2))],
        BERLIN,
        bounds,
    )
    assert [d.attained for d in days] == [100, Fraction(1000, 11)]


def test_a_day_with_nothing_eligible_is_100() -> None:
    bounds = (utc(2026, 3, 1, 23), utc(2026, 3, 2, 23))
    [day] = daily_attainment([bounds], [bounds], BERLIN, bounds)
    assert (day.eligible, day.attained) == (0, 100)


def brute_force(
    outages: list[tuple[int, int]], excluded: list[tuple[int, int]], zone: ZoneInfo, bounds: tuple[int, int]
) -> dict[str, Fraction]:
    """Minute by minute: each minute belongs to the local date it starts in."""
    eligible: dict[str, int] = {}
    down: dict[str, int] = {}
    for start in range(bounds[0], bounds[1], MINUTE):
        day = from_us(start).astimezone(zone).date().isoformat()
        eligible.setdefault(day, 0)
        down.setdefault(day, 0)
        if any(a <= start < b for a, b in excluded):
            continue
        eligible[day] += 1
        down[day] += any(a <= start < b for a, b in outages)
    return {
        day: Fraction(100)
        if eligible[day] == 0
        else Fraction(100 * (eligible[day] - down[day]), eligible[day])
        for day in eligible
    }


minute_spans = st.lists(
    st.tuples(st.integers(0, 4 * 1440), st.integers(1, 600)).map(lambda p: (p[0], p[0] + p[1])), max_size=6
)


@settings(max_examples=60, deadline=None)
@given(
    outages=minute_spans,
    excluded=minute_spans,
    zone=st.sampled_from(["Europe/Berlin", "America/New_York", "Asia/Tokyo"]),
    dst_end=st.booleans(),
)
def test_matches_a_minute_by_minute_count(
    outages: list[tuple[int, int]], excluded: list[tuple[int, int]], zone: str, dst_end: bool
) -> None:
    # four days around a DST change (spring or autumn), starting at a local midnight
    tz = ZoneInfo(zone)
    first = datetime(2026, 10, 24, tzinfo=tz) if dst_end else datetime(2026, 3, 7, tzinfo=tz)
    start = to_us(first)
    end = to_us((first.astimezone(UTC) + timedelta(days=4)).astimezone(tz))

    def shift(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
        return [(start + a * MINUTE, start + b * MINUTE) for a, b in spans]

    got = daily_attainment(shift(outages), shift(excluded), tz, (start, end))
    expected = brute_force(shift(outages), shift(excluded), tz, (start, end))
    assert {d.day.isoformat(): d.attained for d in got} == expected
