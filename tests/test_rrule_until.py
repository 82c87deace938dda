"""RRULE UNTIL with a zoned DTSTART (RFC 5545: UTC), and a floating local UNTIL, load and compute."""

from __future__ import annotations

from pathlib import Path

import pytest

from monitor.loader import load_contracts
from tests.builders import H, contract, outage, pct, run, status, uptime

# America/New_York, November 2026: DST ends on Sunday 1 November (EDT -4 until 06:00Z, then
# EST -5). The month is 30 days + 1 h = 721 h = 2,595,600 s long.
NOVEMBER_US = 721 * H


def _weekly_sunday_3am(until: str) -> dict:
    rule = f"FREQ=WEEKLY;BYDAY=SU;BYHOUR=3;BYMINUTE=0;BYSECOND=0;UNTIL={until}"
    return {"windows": [{"rrule": rule, "duration": "1h"}]}


def _down_every_sunday_3am_to_4am_local() -> list[str]:
    # Sundays of November 2026: 1, 8, 15, 22, 29; 03:00 EST = 08:00Z (1 Nov is after the change)
    lines = []
    for day in (1, 8, 15, 22, 29):
        lines += outage(f"2026-11-{day:02d}T08:00:00Z", f"2026-11-{day:02d}T09:00:00Z")
    return [*lines, status("2026-12-02T00:00:00Z", "up")]


@pytest.mark.parametrize(
    "until",
    [
        "20261115T080000Z",  # UTC, RFC 5545's form with a zoned DTSTART: 15 Nov 03:00 EST exactly
        "20261115T030000",  # floating: local wall-clock time in the contract's zone
    ],
)
def test_until_ends_the_windows_in_either_form(until: str) -> None:
    terms = contract(
        uptime(target=99),
        timezone="America/New_York",
        maintenance=_weekly_sunday_3am(until),
        effective_from="2026-11-01",
    )
    records = run(terms, _down_every_sunday_3am_to_4am_local(), as_of="2026-12-03T00:00:00Z")
    # windows on 1, 8 and 15 Nov (the 15th's start equals UNTIL: included) are excluded:
    # eligible = 721 h - 3 h; down = the outages of 22 and 29 Nov = 2 h
    record = records.clause("api-uptime", "2026-11")
    assert record["attained_percent"] == pct(NOVEMBER_US - 3 * H, 2 * H)
    assert record["final"] is True


def test_a_utc_until_loads_from_a_file(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text(
        """
id: ny
customer: C
provider: P
timezone: America/New_York
currency: USD
monthly_fee: 100
effective_from: 2026-01-01
maintenance:
  windows:
    - rrule: "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;UNTIL=20261231T235959Z"
      duration: 2h
clauses:
  - {id: up, kind: uptime, service: api, target_percent: 99.5}
"""
    )
    loaded = load_contracts(tmp_path)
    assert loaded.problems == []
    assert [c.id for c in loaded.contracts] == ["ny"]
