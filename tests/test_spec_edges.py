"""Adversarial hand-computed cases at the edges of SPEC.md that the other case files leave out.

Zones with half-hour and 45-minute offsets and southern-hemisphere DST, lateness judged by a
maintenance event's ``start`` and a requests event's ``start``, duplicates whose content
differs, percentages at exact decimal targets read from YAML, money at exact rule boundaries
in currencies with 0 and 3 decimals, consecutive breaches across an amendment that changes the
rule, holidays as whole local days, same-instant pauses. Every expected figure is derived in
the comment above it from SPEC.md's rules; attained values are compared exactly as the float
nearest to the exact fraction.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
import yaml

from monitor.cli import main
from monitor.contract import Contract
from monitor.engine import DEFAULT_LATENESS, Engine, Outcome
from monitor.engine.snapshot import export_state, restore_state
from monitor.events import decode_event
from monitor.explain import explain_from_events
from monitor.loader import load_contract_file
from monitor.statements.build import build_statement
from monitor.statements.render import FORMATS, render
from monitor.stream.partitions import Stream
from monitor.stream.processor import PartitionProcessor
from monitor.terms import month_fingerprint
from monitor.timeutil import to_us
from tests.builders import (
    US,
    H,
    M,
    Records,
    S,
    availability,
    contract,
    maintenance,
    moment,
    outage,
    pct,
    requests,
    response,
    run,
    status,
    ticket,
    uptime,
    with_ticks,
)

TIER_10 = [{"below_percent": 99.5, "credit_percent": 10}]


def _plus_1us(text: str) -> str:
    return (datetime.fromisoformat(text) + timedelta(microseconds=1)).isoformat()


def _figures(record: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in record.items() if key != "final"}


RESTART_EVERY = 1500  # lines between two snapshots of the restored path


def drive(acme: Contract, lines: list[str], as_of: str) -> Records:
    """The records of a plain replay, after checking that two other paths give the same ones:
    replay with clock events every 10 minutes (the engine folds settled time all along), an
    engine fed the same ticked lines, snapshotted and restored every ``RESTART_EVERY`` lines
    (the live worker's restart path), replay without lateness, ticked, and replay of the file
    backwards with a lateness long enough for nothing to be late; and the clause records of
    the live worker's partition processors, restarted every few events; and ``slamon explain``
    derives every clause's figure again without refusing. For cases where nothing is late."""
    plain = run(acme, lines, as_of)
    assert run(acme, lines, as_of, ticked=True).report.records == plain.report.records
    # no lateness at all: everything before the clock is settled and folded at each tick
    # (finality comes earlier, the figures are the same)
    eager = run(acme, lines, as_of, ticked=True, lateness=timedelta(0)).report.records
    assert [_figures(r) for r in eager] == [_figures(r) for r in plain.report.records]
    # the file backwards, with a lateness that lets every event count: the same figures
    backwards = run(acme, lines[::-1], as_of, lateness=timedelta(days=800)).report.records
    assert [_figures(r) for r in backwards] == [_figures(r) for r in plain.report.records]
    engine = Engine([acme])
    for number, line in enumerate(with_ticks(lines, as_of), start=1):
        engine.apply(decode_event(line))
        if number % RESTART_EVERY == 0:
            restored = Engine([acme])
            restore_state(restored, json.loads(json.dumps(export_state(engine))))
            engine = restored
    engine.advance(moment(as_of))
    assert [r.to_record() for r in engine.results(to_us(moment(as_of)))] == plain.report.records
    _statements_render(acme, engine, plain.report.records, moment(as_of))
    clause_records = [r for r in plain.report.records if r["record"] == "clause"]
    assert sorted(_live_records(acme, lines, as_of), key=_order) == sorted(clause_records, key=_order)
    for record in clause_records:  # explain derives each figure again and refuses if it differs
        explanation = explain_from_events(
            [acme], "acme", record["clause"], record["period"], lines, moment(as_of)
        )
        assert explanation.sections[-1].heading == "Credit owed"
    return plain


def _statements_render(
    acme: Contract, engine: Engine, records: list[dict[str, Any]], clock: datetime
) -> None:
    """Every month's statement builds from the engine's records and details and renders in
    each text format, with the contract record's amount."""
    details = engine.clause_details(to_us(clock), periods=36)
    for record in (r for r in records if r["record"] == "contract"):
        period = record["period"]
        mine = {d.clause: {"final": d.final, "details": d.data} for d in details if d.period == period}
        statement = build_statement(acme, period, records, mine, clock)
        assert str(statement.credit_amount) == record["credit_amount"]
        for fmt in FORMATS:
            assert render(statement, fmt)


def _order(record: dict[str, Any]) -> tuple[str, str]:
    return record["clause"], record["period"]


SOURCES = {"status": "uptime", "maintenance": "maintenance", "requests": "requests", "ticket": "tickets"}


def _live_records(acme: Contract, lines: list[str], as_of: str) -> list[dict[str, Any]]:
    """The clause records of the live worker's partition processors (one partition per stream),
    fed the lines in file order, each source's clock moved to the largest `at` read so far,
    journalled and restarted from their store every few events."""
    store: dict[str, Any] = {}

    def processors() -> dict[Stream, PartitionProcessor]:
        return {
            Stream.UPTIME: PartitionProcessor(
                Stream.UPTIME, 0, 1, [acme], DEFAULT_LATENESS, store, 4, ("uptime", "maintenance", "requests")
            ),
            Stream.TICKETS: PartitionProcessor(
                Stream.TICKETS, 0, 1, [acme], DEFAULT_LATENESS, store, 4, ("tickets",)
            ),
        }

    live = processors()
    clock: dict[Stream, int] = {}
    for number, line in enumerate(lines, start=1):
        document = json.loads(line)
        source = SOURCES[document["type"]]
        stream = Stream.TICKETS if source == "tickets" else Stream.UPTIME
        assert live[stream].handle(line, source).verdict.outcome is Outcome.APPLIED
        clock[stream] = max(clock.get(stream, 0), to_us(moment(document["at"])))
        live[stream].advance(clock[stream])
        if number % 3 == 0:
            for processor in live.values():
                processor.flush()
            live = processors()  # a restart: snapshot plus journal
    records = []
    for processor in live.values():
        processor.advance(to_us(moment(as_of)))
        records += [r.to_record() for r in processor.clause_results()]
    return records


# --- month boundaries in zones off the hour ---------------------------------------------------


def test_a_kolkata_month_ends_at_18_30z_inside_an_outage_and_a_window() -> None:
    # Asia/Kolkata is +05:30 all year. September: 1 Sep 00:00 IST = 31 Aug 18:30Z to
    # 1 Oct 00:00 IST = 30 Sep 18:30Z: 720 h. October: to 31 Oct 18:30Z: 744 h.
    # One-off window 30 Sep 23:00 IST (17:30Z) .. 1 Oct 01:00 IST (19:30Z): 1 h in each month.
    # Down 30 Sep 17:00Z .. 20:00Z:
    #   September: 17:00-17:30Z outside the window = 30 min; eligible 720 - 1 = 719 h
    #   October:   19:30-20:00Z outside the window = 30 min; eligible 744 - 1 = 743 h
    window = {"windows": [{"start": "2026-09-30T23:00:00+05:30", "end": "2026-10-01T01:00:00+05:30"}]}
    acme = contract(timezone="Asia/Kolkata", effective_from="2026-09-01", maintenance=window)
    rows = drive(acme, outage("2026-09-30T17:00:00Z", "2026-09-30T20:00:00Z"), "2026-11-02T00:00:00Z")
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(719 * H, 30 * M)
    assert rows.clause("api-uptime", "2026-10")["attained_percent"] == pct(743 * H, 30 * M)
    assert rows.clause("api-uptime", "2026-09")["final"] is True


def test_a_kolkata_ticket_belongs_to_the_month_of_its_local_opening() -> None:
    # within 1h. T1 opened 30 Sep 18:29:59.999999Z = 30 Sep 23:59:59.999999 IST: September,
    # answered 30 min later: on time -> September 1/1 = 100.
    # T2 opened 30 Sep 18:30Z = 1 Oct 00:00 IST: October; answered 1 h + 1 us later: missed ->
    # October 0/1 = 0.
    acme = contract(response(within="1h"), timezone="Asia/Kolkata", effective_from="2026-09-01")
    lines = [
        ticket("T1", "opened", "2026-09-30T18:29:59.999999Z"),
        ticket("T2", "opened", "2026-09-30T18:30:00Z"),
        ticket("T1", "responded", "2026-09-30T18:59:59.999999Z"),
        ticket("T2", "responded", "2026-09-30T19:30:00.000001Z"),
    ]
    rows = drive(acme, lines, "2026-11-03T00:00:00Z")
    assert rows.clause("support", "2026-09")["attained_percent"] == 100.0
    assert rows.clause("support", "2026-10")["attained_percent"] == 0.0


def test_a_sydney_daily_window_on_both_southern_dst_nights() -> None:
    # Australia/Sydney 2026: DST ends Sun 5 Apr 03:00 AEDT (+11) -> 02:00 AEST (+10); starts
    # Sun 4 Oct 02:00 AEST -> 03:00 AEDT. April: 1 Apr 00:00 AEDT (31 Mar 13:00Z) .. 1 May
    # 00:00 AEST (30 Apr 14:00Z) = 721 h. October: 1 Oct 00:00 AEST (30 Sep 14:00Z) .. 1 Nov
    # 00:00 AEDT (31 Oct 13:00Z) = 743 h.
    # Daily window at 02:30 local for 30 min of elapsed time:
    #   April: 30 windows = 15 h; 5 Apr 02:30 happens twice -> fold=0, the first (AEDT):
    #          4 Apr 15:30Z-16:00Z. The second 02:30 (AEST, 16:30Z) is not a window.
    #   October: 31 windows = 15.5 h; 4 Oct 02:30 does not exist -> fold=0, the offset before
    #          the jump (AEST): 3 Oct 16:30Z-17:00Z (03:30-04:00 AEDT).
    # Down 4 Apr 15:00Z-17:00Z: 2 h - 30 min in the window = 90 min; eligible 721 - 15 = 706 h.
    # Down 3 Oct 16:00Z-17:30Z: 90 min - 30 min = 60 min; eligible 743 - 15.5 = 727.5 h.
    daily = {"windows": [{"rrule": "FREQ=DAILY;BYHOUR=2;BYMINUTE=30;BYSECOND=0", "duration": "30m"}]}
    acme = contract(timezone="Australia/Sydney", effective_from="2026-03-01", maintenance=daily)
    lines = [
        *outage("2026-04-04T15:00:00Z", "2026-04-04T17:00:00Z"),
        *outage("2026-10-03T16:00:00Z", "2026-10-03T17:30:00Z"),
    ]
    rows = drive(acme, lines, "2026-11-03T00:00:00Z")
    assert rows.clause("api-uptime", "2026-04")["attained_percent"] == pct(706 * H, 90 * M)
    assert rows.clause("api-uptime", "2026-10")["attained_percent"] == pct(1455 * 30 * M, 60 * M)


def test_a_kathmandu_down_run_across_the_month_end_meets_min_downtime_as_a_whole() -> None:
    # Asia/Kathmandu is +05:45: September ends 30 Sep 18:15Z, on a 15-minute epoch boundary.
    # 15m intervals, down when more than 5% fail, min_downtime 30m.
    #   [18:00, 18:15Z) belongs to September, [18:15, 18:30Z) to October; both 50% failed:
    #   one run of 30 min >= 30m -> counted, one interval in each month.
    #   10 Sep 06:00Z: one down interval alone, 15 min < 30m -> ignored.
    # September: 720 h x 4 = 2,880 intervals, 1 down -> 100 x 2,879 / 2,880
    # October:   744 h x 4 = 2,976 intervals, 1 down -> 100 x 2,975 / 2,976
    clause = availability(interval="15m", min_downtime="30m", target=99.9)
    acme = contract(clause, timezone="Asia/Kathmandu", effective_from="2026-09-01")
    lines = [
        requests("2026-09-10T06:00:00+00:00", 10, 10),
        requests("2026-09-30T18:05:00+00:00", 100, 50),
        requests("2026-09-30T18:20:00+00:00", 100, 50),
    ]
    rows = drive(acme, lines, "2026-11-02T00:00:00Z")
    assert rows.clause("api-availability", "2026-09")["attained_percent"] == float(Fraction(100 * 2879, 2880))
    assert rows.clause("api-availability", "2026-10")["attained_percent"] == float(Fraction(100 * 2975, 2976))


# --- duplicates and lateness -----------------------------------------------------------------


def test_a_repeated_event_id_is_ignored_whatever_its_content() -> None:
    # SPEC 3: a repeated id is a duplicate and is ignored: the first arrival counts.
    # s1 down 10 Sep 10:00Z, s2 up 11:00Z; then s1 again saying "up", and s1 again as another
    # service's status, a maintenance event and a ticket: all ignored. Down 1 h of 720 h.
    acme = contract(uptime(), response(), effective_from="2026-09-01", timezone="UTC")
    lines = [
        status("2026-09-10T10:00:00Z", "down", event_id="s1"),
        status("2026-09-10T11:00:00Z", "up", event_id="s2"),
        status("2026-09-10T10:00:00Z", "up", event_id="s1"),
        status("2026-09-10T10:30:00Z", "down", service="web", event_id="s1"),
        maintenance("2026-09-10T10:00:00Z", "2026-09-10T11:00:00Z", "2026-09-01T00:00:00Z", event_id="s1"),
        ticket("T1", "opened", "2026-09-10T10:15:00Z", event_id="s1"),
    ]
    rows = run(acme, lines, "2026-10-02T00:00:00Z")
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(720 * H, 1 * H)
    assert rows.clause("support", "2026-09")["attained_percent"] == 100.0  # no ticket counted
    assert rows.outcomes() == {"applied": 2, "duplicate": 4}
    # the other way round: the "up" version of s1 arrives first and counts; the down is ignored
    rows = run(acme, [lines[2], lines[1], lines[0]], "2026-10-02T00:00:00Z")
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == 100.0


def test_a_maintenance_event_is_late_by_its_start_not_by_its_announcement() -> None:
    # UTC, 48h notice, lateness 1 h. September 720 h.
    # Outage 11 Sep 10:00-12:00Z, then an up at 12 Sep 00:00Z: watermark 12 Sep 00:00Z,
    # late before 11 Sep 23:00Z. Then (all announced 1 Sep, so every one has the notice):
    #   M1 11 Sep 10:00-12:00Z: start before 23:00Z -> late, not excluded
    #   M2 20 Sep 10:00-12:00Z: start ahead -> applied (its old `at` moves nothing)
    #   M3 11 Sep 23:00 - 12 Sep 01:00Z: start exactly at the bound, not earlier -> applied
    # Down 12 Sep 00:30-01:30Z: 00:30-01:00 in M3, 30 min count. Down 20 Sep 10:00-11:00: in M2.
    # Excluded M2 + M3 = 4 h: eligible 716 h; downtime 2 h (11 Sep) + 30 min = 150 min.
    acme = contract(timezone="UTC", effective_from="2026-09-01", maintenance={"announced_min_notice": "48h"})
    announced = "2026-09-01T00:00:00Z"
    lines = [
        *outage("2026-09-11T10:00:00Z", "2026-09-11T12:00:00Z"),
        status("2026-09-12T00:00:00Z", "up"),
        maintenance("2026-09-11T10:00:00Z", "2026-09-11T12:00:00Z", announced),
        maintenance("2026-09-20T10:00:00Z", "2026-09-20T12:00:00Z", announced),
        maintenance("2026-09-11T23:00:00Z", "2026-09-12T01:00:00Z", announced),
        *outage("2026-09-12T00:30:00Z", "2026-09-12T01:30:00Z"),
        *outage("2026-09-20T10:00:00Z", "2026-09-20T11:00:00Z"),
    ]
    rows = run(acme, lines, "2026-10-02T00:00:00Z")
    assert rows.outcomes() == {"applied": 9, "late": 1}
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(716 * H, 150 * M)


def test_a_requests_event_is_late_by_its_start_while_its_at_moves_the_clock() -> None:
    # UTC, 1m intervals, down above 5%. R1 counts the minute 10 Sep 10:00Z, taken at 13:00Z
    # (valid: `at` is not before `end`): applied, watermark 13:00Z, late before 12:00Z.
    # R2 minute 11:30Z: start before 12:00Z -> late. R3 minute 12:00Z: exactly the bound -> applied.
    # September: 43,200 intervals, down 10:00 and 12:00 -> 100 x 43,198 / 43,200.
    acme = contract(availability(target=99.9), timezone="UTC", effective_from="2026-09-01")
    lines = [
        requests("2026-09-10T10:00:00+00:00", 10, 10, at="2026-09-10T13:00:00+00:00"),
        requests("2026-09-10T11:30:00+00:00", 10, 10),
        requests("2026-09-10T12:00:00+00:00", 10, 10),
    ]
    rows = run(acme, lines, "2026-10-02T00:00:00Z")
    assert rows.outcomes() == {"applied": 2, "late": 1}
    assert rows.clause("api-availability", "2026-09")["attained_percent"] == float(
        Fraction(100 * 43198, 43200)
    )


def test_a_late_response_is_not_applied_and_its_ticket_is_missed() -> None:
    # UTC, within 4h. T1 opened 10 Sep 10:00Z; T2 opened 16:00Z moves the watermark to 16:00Z
    # (late before 15:00Z). T1's response at 11:00Z arrives then: late, not applied -> T1 has
    # no response by 14:00Z: missed. T2 answered 16:30Z: on time. September 1 of 2 = 50.
    acme = contract(response(within="4h"), timezone="UTC", effective_from="2026-09-01")
    lines = [
        ticket("T1", "opened", "2026-09-10T10:00:00Z"),
        ticket("T2", "opened", "2026-09-10T16:00:00Z"),
        ticket("T1", "responded", "2026-09-10T11:00:00Z"),
        ticket("T2", "responded", "2026-09-10T16:30:00Z"),
    ]
    rows = run(acme, lines, "2026-10-03T00:00:00Z")
    assert rows.outcomes() == {"applied": 3, "late": 1}
    assert rows.clause("support", "2026-09")["attained_percent"] == 50.0


# --- percentages at exact decimal targets, read from YAML ----------------------------------


def test_attained_exactly_at_a_99_95_target_read_from_yaml_is_met(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # 99.95 has no exact binary form: the YAML float must be read as the decimal 99.95.
    # September (UTC) 720 h = 2,592,000 s; 0.05% of it is 1,296 s.
    #   api: down 1,296 s -> 100 x (2,592,000 - 1,296) / 2,592,000 = 99.95 exactly: met, no
    #        tier (not below 99.95)
    #   web: down 1,296 s + 1 us: below 99.95 -> breach, 10% -> 10% of 1000.00 = 100.00
    clause = {
        "kind": "uptime",
        "target_percent": 99.95,
        "credits": [{"below_percent": 99.95, "credit_percent": 10}],
    }
    document = {
        "id": "acme",
        "customer": "Acme",
        "provider": "CloudCo",
        "timezone": "UTC",
        "currency": "EUR",
        "monthly_fee": "1000.00",
        "effective_from": "2026-09-01",
        "clauses": [clause | {"id": "api-up", "service": "api"}, clause | {"id": "web-up", "service": "web"}],
    }
    directory = tmp_path / "contracts"
    directory.mkdir()
    (directory / "acme.yaml").write_text(yaml.safe_dump(document, sort_keys=False))
    assert "99.95" in (directory / "acme.yaml").read_text()
    lines = [
        *outage("2026-09-10T00:00:00Z", "2026-09-10T00:21:36Z", "api"),
        *outage("2026-09-10T00:00:00Z", "2026-09-10T00:21:36.000001Z", "web"),
    ]
    events = tmp_path / "events.jsonl"
    events.write_text("\n".join(lines) + "\n")
    code = main(
        ["replay", "--contracts", str(directory), "--events", str(events), "--as-of", "2026-10-02T00:00:00Z"]
    )
    records = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    api = next(r for r in records if r.get("clause") == "api-up" and r["period"] == "2026-09")
    web = next(r for r in records if r.get("clause") == "web-up" and r["period"] == "2026-09")
    month = next(r for r in records if r["record"] == "contract" and r["period"] == "2026-09")
    assert (api["attained_percent"], api["met"], api["credit_percent"]) == (99.95, True, 0.0)
    assert web["attained_percent"] == pct(720 * H, 1296 * S + US)
    assert (web["met"], web["credit_percent"]) == (False, 10.0)
    assert (month["credit_percent"], month["credit_amount"]) == (10.0, "100.00")


def test_two_thirds_against_66_66_and_66_67() -> None:
    # Three tickets, two on time: 200/3 = 66.666...%: met against 66.66, missed against 66.67.
    loose = response("loose", within="1h", target=66.66)
    strict = response(
        "strict", within="1h", target=66.67, credits=[{"below_percent": 66.67, "credit_percent": 5}]
    )
    acme = contract(loose, strict, timezone="UTC", effective_from="2026-09-01")
    lines = []
    for name, answered in (("A", "10:30"), ("B", "11:00"), ("C", "11:00:00.000001")):
        lines += [
            ticket(name, "opened", "2026-09-10T10:00:00Z"),
            ticket(name, "responded", f"2026-09-10T{answered}Z"),
        ]
    rows = drive(acme, sorted(lines, key=lambda line: json.loads(line)["at"]), "2026-10-02T00:00:00Z")
    assert rows.clause("loose", "2026-09")["attained_percent"] == float(Fraction(200, 3))
    assert rows.clause("loose", "2026-09")["met"] is True
    assert (rows.clause("strict", "2026-09")["met"], rows.clause("strict", "2026-09")["credit_percent"]) == (
        False,
        5.0,
    )


# --- money at the rules' boundaries ----------------------------------------------------------


def _breached_every_month(**document: Any) -> Any:
    """A UTC contract from 1 Jan 2026 whose clause (tier below 100 -> ``credit``) breaches with one
    minute down on the 10th of January, February and March."""
    credit = document.pop("credit")
    clause = uptime(credits=[{"below_percent": 100, "credit_percent": credit}])
    acme = contract(clause, timezone="UTC", effective_from="2026-01-01", **document)
    lines = [
        line
        for month in ("01", "02", "03")
        for line in outage(f"2026-{month}-10T00:00:00Z", f"2026-{month}-10T00:01:00Z")
    ]
    return drive(acme, lines, "2026-04-02T00:00:00Z")


def _money(rows: Any) -> list[tuple[str, list[str]]]:
    return [
        (rows.contract(p)["credit_amount"], rows.contract(p)["adjustments"])
        for p in ("2026-01", "2026-02", "2026-03")
    ]


def test_an_annual_cap_in_bhd_is_rounded_half_up_to_three_decimals() -> None:
    # fee 1.003 BHD, credit 100% a month -> 1.003 each month before the rules.
    # cap = 12.5 x 12 x 1.003 / 100 = 1.5045 -> half up 1.505 (half-even would give 1.504).
    # January 1.003; February min(1.003, 1.505 - 1.003 = 0.502) = 0.502; March 0.000.
    rows = _breached_every_month(
        credit=100, currency="BHD", monthly_fee="1.003", credit_rules={"annual_cap_percent": 12.5}
    )
    assert _money(rows) == [("1.003", []), ("0.502", ["annual_cap"]), ("0.000", ["annual_cap"])]


def test_jpy_minimum_before_the_annual_cap() -> None:
    # fee 100000 JPY, 10% -> 10000 a month; min_credit 5000 (10000 is not below it).
    # cap = 1 x 12 x 100000 / 100 = 12000: January 10000; February min(10000, 2000) = 2000 (the
    # minimum is applied before the cap, so 2000 < 5000 does not zero it); March 0.
    rows = _breached_every_month(
        credit=10,
        currency="JPY",
        monthly_fee=100000,
        credit_rules={"min_credit_amount": 5000, "annual_cap_percent": 1},
    )
    assert _money(rows) == [("10000", []), ("2000", ["annual_cap"]), ("0", ["annual_cap"])]


@pytest.mark.parametrize(
    ("fee", "owed", "adjustments"),
    [
        ("999.99", "50.00", []),  # 5% = 49.9995 -> half up 50.00: not below 50.00, owed
        ("999.89", "0.00", ["min_credit"]),  # 5% = 49.9945 -> 49.99 < 50.00: not owed
    ],
)
def test_the_minimum_credit_compares_the_rounded_amount_at_equality(
    fee: str, owed: str, adjustments: list[str]
) -> None:
    rows = _breached_every_month(credit=5, monthly_fee=fee, credit_rules={"min_credit_amount": "50.00"})
    assert _money(rows)[0] == (owed, adjustments)


def test_a_credit_percent_with_three_decimals_prices_half_up() -> None:
    # 33.333% of 100.05 EUR = 33.349 (exactly 33.3496665) -> 33.35; the clause record prints 33.333
    rows = _breached_every_month(credit="33.333", monthly_fee="100.05")
    assert rows.clause("api-uptime", "2026-01")["credit_percent"] == 33.333
    assert _money(rows)[0] == ("33.35", [])


# --- consecutive breaches across an amendment ---------------------------------------------


def test_consecutive_breaches_follow_the_clause_into_an_amendment_with_a_new_rule() -> None:
    # Base (UTC, 1000.00 EUR): target 99.5, tier below 99.5 -> 10, consecutive 2 -> +10 review.
    # "Amendment No. 1" from 1 Feb: target 99.9, tier below 99.9 -> 5, consecutive 2 -> +20
    # termination_right.
    # January: 5 h down of 744 h = 99.33% < 99.5: breach, count 1 -> 10 (base rule).
    # February: 1 h down of 672 h = 99.851% >= 99.5 but < 99.9 (the target in force): breach,
    #   count 2 -> 5 + 20 = 25, termination_right; 25% of 1000.00 = 250.00.
    # March: clean -> met, 0.
    rule = {"id": "api-uptime", "kind": "uptime", "service": "api"}
    base = rule | {
        "target_percent": 99.5,
        "credits": TIER_10,
        "consecutive": {"periods": 2, "credit_percent": 10, "remedy": "contract_review"},
    }
    amended = rule | {
        "target_percent": 99.9,
        "credits": [{"below_percent": 99.9, "credit_percent": 5}],
        "consecutive": {"periods": 2, "credit_percent": 20, "remedy": "termination_right"},
    }
    acme = contract(
        base,
        timezone="UTC",
        monthly_fee="1000.00",
        amendments=[{"effective_from": "2026-02-01", "title": "Amendment No. 1", "clauses": [amended]}],
    )
    lines = [
        *outage("2026-01-10T00:00:00Z", "2026-01-10T05:00:00Z"),
        *outage("2026-02-10T00:00:00Z", "2026-02-10T01:00:00Z"),
    ]
    rows = drive(acme, lines, "2026-04-02T00:00:00Z")
    summary = [
        (r["terms"], r["met"], r["consecutive_breaches"], r["credit_percent"], r["remedies"])
        for r in (rows.clause("api-uptime", p) for p in ("2026-01", "2026-02", "2026-03"))
    ]
    assert summary == [
        ("base", False, 1, 10.0, []),
        ("Amendment No. 1", False, 2, 25.0, ["termination_right"]),
        ("Amendment No. 1", True, 0, 0.0, []),
    ]
    assert rows.clause("api-uptime", "2026-02")["attained_percent"] == pct(672 * H, 1 * H)
    assert rows.contract("2026-02")["credit_amount"] == "250.00"


# --- support hours, holidays and pauses (SPEC.md section 10) -----------------------------


def test_a_holiday_is_the_whole_local_day_in_kolkata() -> None:
    # Open all week 00:00-24:00 IST; 2 Oct 2026 is a holiday: closed 1 Oct 18:30Z .. 2 Oct 18:30Z.
    # within 2h. A and B opened 1 Oct 23:00 IST (17:30Z): 1 h on 1 Oct (until 18:30Z), then
    # from 3 Oct 00:00 IST (2 Oct 18:30Z) 1 h more -> deadline 2 Oct 19:30Z.
    # A answers at 19:30Z (on time), B 1 us later (missed). C opened on the holiday
    # (2 Oct 10:00 IST) starts counting at 2 Oct 18:30Z -> deadline 20:30Z, answered 20:30Z.
    # October: 2 of 3 on time.
    calendars = {"desk": {"hours": {"mon-sun": "00:00-24:00"}, "holidays": {"dates": ["2026-10-02"]}}}
    clause = response(within="2h", calendar="desk")
    acme = contract(clause, timezone="Asia/Kolkata", effective_from="2026-09-01", calendars=calendars)
    lines = [
        ticket("A", "opened", "2026-10-01T17:30:00Z"),
        ticket("B", "opened", "2026-10-01T17:30:00Z"),
        ticket("C", "opened", "2026-10-02T10:00:00+05:30"),
        ticket("A", "responded", "2026-10-02T19:30:00Z"),
        ticket("B", "responded", "2026-10-02T19:30:00.000001Z"),
        ticket("C", "responded", "2026-10-02T20:30:00Z"),
    ]
    rows = drive(acme, lines, "2026-11-05T00:00:00Z")
    october = rows.clause("support", "2026-10")
    assert october["attained_percent"] == float(Fraction(200, 3))
    assert october["final"] is True


def test_support_hours_on_both_sydney_dst_nights() -> None:
    # "sun: 01:00-04:00", both ends resolved with fold=0.
    # 5 Apr 2026 (clocks back 03:00 AEDT -> 02:00 AEST): 01:00 AEDT = 4 Apr 14:00Z to 04:00 AEST
    #   = 18:00Z: 4 h open. P1 (within 3h30m) opened Sun 00:00 AEDT (4 Apr 13:00Z): counting from
    #   14:00Z, deadline 17:30Z.
    # 4 Oct 2026 (clocks forward 02:00 AEST -> 03:00 AEDT): 01:00 AEST = 3 Oct 15:00Z to 04:00
    #   AEDT = 17:00Z: 2 h open. P2 (within 2h30m) opened Sun 00:00 AEST (3 Oct 14:00Z): 2 h that
    #   night, then Sun 11 Oct 01:00 AEDT (10 Oct 14:00Z) + 30 min -> deadline 10 Oct 14:30Z.
    # Each: one ticket answered at the deadline (on time), one 1 us later (missed): 50%.
    calendars = {"night": {"hours": {"sun": "01:00-04:00"}}}
    p1 = response("p1", within="PT3H30M", calendar="night", priorities=["P1"])
    p2 = response("p2", within="PT2H30M", calendar="night", priorities=["P2"])
    acme = contract(p1, p2, timezone="Australia/Sydney", effective_from="2026-03-01", calendars=calendars)
    lines = []
    for priority, opened, deadline in (
        ("P1", "2026-04-04T13:00:00Z", "2026-04-04T17:30:00Z"),
        ("P2", "2026-10-03T14:00:00Z", "2026-10-10T14:30:00Z"),
    ):
        for name, answered in ((f"{priority}-A", deadline), (f"{priority}-B", _plus_1us(deadline))):
            lines += [ticket(name, "opened", opened, priority), ticket(name, "responded", answered, priority)]
    rows = drive(acme, sorted(lines, key=lambda line: json.loads(line)["at"]), "2026-12-01T00:00:00Z")
    assert rows.clause("p1", "2026-04")["attained_percent"] == 50.0
    assert rows.clause("p2", "2026-10")["attained_percent"] == 50.0


def test_same_instant_pauses_are_ordered_by_event_id_and_an_answer_while_paused_is_on_time() -> None:
    # Pausable, no calendar, within 1h. Both opened 10 Sep 10:00Z; at 10:30Z each gets a
    # `paused` and a `resumed`, ordered by (at, event_id):
    #   X: "x-1" resumed (running: nothing), "x-2" paused -> paused from 10:30Z with 30 min
    #      counted, never resumed: no deadline; answered 15:00Z -> on time (SPEC 10).
    #   Y: "y-1" paused, "y-2" resumed -> a zero-length pause: deadline 11:00Z; answered 15:00Z
    #      -> missed.
    # September: 1 of 2 = 50. The file lists the 10:30 events in the opposite order.
    acme = contract(response(within="1h", pausable=True), timezone="UTC", effective_from="2026-09-01")
    lines = [
        ticket("X", "opened", "2026-09-10T10:00:00Z"),
        ticket("Y", "opened", "2026-09-10T10:00:00Z"),
        ticket("X", "paused", "2026-09-10T10:30:00Z", event_id="x-2"),
        ticket("X", "resumed", "2026-09-10T10:30:00Z", event_id="x-1"),
        ticket("Y", "resumed", "2026-09-10T10:30:00Z", event_id="y-2"),
        ticket("Y", "paused", "2026-09-10T10:30:00Z", event_id="y-1"),
        ticket("X", "responded", "2026-09-10T15:00:00Z"),
        ticket("Y", "responded", "2026-09-10T15:00:00Z"),
    ]
    rows = drive(acme, lines, "2026-10-20T00:00:00Z")
    assert rows.clause("support", "2026-09")["attained_percent"] == 50.0
    assert rows.clause("support", "2026-09")["final"] is True


def test_only_the_measure_action_answers_a_ticket() -> None:
    # within 1h, UTC. measure `responded`: T1 only resolved at 10:30Z -> no response: missed;
    # T2 responded 10:30Z -> on time: 50. measure `resolved`: T2 never resolved -> missed,
    # T1 resolved in time -> on time: 50.
    responded = response("first-response", within="1h")
    resolved = response("resolution", measure="resolved", within="1h")
    acme = contract(responded, resolved, timezone="UTC", effective_from="2026-09-01")
    lines = [
        ticket("T1", "opened", "2026-09-10T10:00:00Z"),
        ticket("T2", "opened", "2026-09-10T10:00:00Z"),
        ticket("T1", "resolved", "2026-09-10T10:30:00Z"),
        ticket("T2", "responded", "2026-09-10T10:30:00Z"),
    ]
    rows = drive(acme, lines, "2026-10-02T00:00:00Z")
    assert rows.clause("first-response", "2026-09")["attained_percent"] == 50.0
    assert rows.clause("resolution", "2026-09")["attained_percent"] == 50.0


# --- min_outage and request methods at exact bounds ------------------------------------------


def test_a_span_exactly_min_outage_long_counts() -> None:
    # min_outage 5m (UTC, September 720 h): 10:00-10:05Z is not shorter than 5 min: counts;
    # 11:00Z-11:04:59.999999Z is shorter: ignored. Down 5 min.
    acme = contract(uptime(min_outage="5m"), timezone="UTC", effective_from="2026-09-01")
    lines = [
        *outage("2026-09-10T10:00:00Z", "2026-09-10T10:05:00Z"),
        *outage("2026-09-10T11:00:00Z", "2026-09-10T11:04:59.999999Z"),
    ]
    rows = drive(acme, lines, "2026-10-02T00:00:00Z")
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(720 * H, 5 * M)


def test_request_ratio_drops_an_excluded_interval_and_ignores_min_requests() -> None:
    # request_ratio, 5m intervals, min_requests 1000 (not used by this method, SPEC 11).
    # Window 10:07-10:08Z touches the interval 10:05: its 1000 failed requests are not counted.
    # Eligible: 10:00 (10 total, 1 failed: under min_requests, still counted) and 10:10
    # (990 total, 9 failed) -> (1000 - 10) / 1000 = 99.0.
    clause = availability(method="request_ratio", interval="5m", min_requests=1000, target=99)
    window = {"windows": [{"start": "2026-09-10T10:07:00Z", "end": "2026-09-10T10:08:00Z"}]}
    acme = contract(clause, timezone="UTC", effective_from="2026-09-01", maintenance=window)
    lines = [
        requests("2026-09-10T10:00:00+00:00", 10, 1),
        requests("2026-09-10T10:05:00+00:00", 1000, 1000),
        requests("2026-09-10T10:11:00+00:00", 990, 9),
    ]
    rows = drive(acme, lines, "2026-10-02T00:00:00Z")
    record = rows.clause("api-availability", "2026-09")
    assert (record["attained_percent"], record["met"]) == (99.0, True)


# --- open periods cut at the clock ----------------------------------------------------------


def test_an_open_kolkata_month_is_cut_at_the_clock_inside_a_window_and_an_outage() -> None:
    # Clock 10 Sep 12:00Z. September began 31 Aug 18:30Z: 9 days 17 h 30 min = 233.5 h so far.
    # Window 10 Sep 11:00-13:00Z: 1 h of it before the clock. Eligible 232.5 h.
    # Down since 10:00Z, still down at the clock: 10:00-11:00Z counts (11:00-12:00 excluded).
    window = {"windows": [{"start": "2026-09-10T11:00:00Z", "end": "2026-09-10T13:00:00Z"}]}
    acme = contract(timezone="Asia/Kolkata", effective_from="2026-09-01", maintenance=window)
    rows = drive(acme, [status("2026-09-10T10:00:00Z", "down")], "2026-09-10T12:00:00Z")
    record = rows.clause("api-uptime", "2026-09")
    assert (record["attained_percent"], record["final"]) == (pct(465 * 30 * M, 1 * H), False)


def test_an_interval_not_ended_by_the_clock_is_not_eligible() -> None:
    # 5m intervals, UTC, clock 10 Sep 10:02:30Z. Ended intervals of September so far:
    # 9 days x 288 + 10 h x 12 = 2,712. Down: 09:50 (10 of 10 failed). The interval 10:00 has
    # not ended: its failures do not count yet. 100 x 2,711 / 2,712.
    acme = contract(availability(interval="5m", target=99), timezone="UTC", effective_from="2026-09-01")
    lines = [requests("2026-09-10T09:50:00+00:00", 10, 10), requests("2026-09-10T10:00:00+00:00", 10, 10)]
    rows = drive(acme, lines, "2026-09-10T10:02:30Z")
    record = rows.clause("api-availability", "2026-09")
    assert (record["attained_percent"], record["final"]) == (float(Fraction(100 * 2711, 2712)), False)


def test_a_month_wholly_excluded_is_100_for_every_request_method() -> None:
    # One-off window over all of September (UTC): no eligible interval -> 100 (SPEC 11), met.
    window = {"windows": [{"start": "2026-09-01T00:00:00Z", "end": "2026-10-01T00:00:00Z"}]}
    clauses = [
        availability(f"by-{m.replace('_', '-')}", method=m, target=99.9)
        for m in ("downtime_intervals", "mean_error_rate", "request_ratio")
    ]
    acme = contract(*clauses, timezone="UTC", effective_from="2026-09-01", maintenance=window)
    rows = drive(acme, [requests("2026-09-10T10:00:00+00:00", 10, 10)], "2026-10-02T00:00:00Z")
    for clause in clauses:
        record = rows.clause(clause["id"], "2026-09")
        assert (record["attained_percent"], record["met"]) == (100.0, True), clause["id"]


# --- amendments at a month boundary ------------------------------------------------------------


def test_an_amendment_replaces_the_maintenance_from_its_first_day() -> None:
    # UTC. Base window 31 Jan 23:00Z - 1 Feb 02:00Z; "No window" from 1 Feb replaces the
    # maintenance (no windows). February is evaluated under the amendment: nothing excluded.
    # Down 31 Jan 23:30Z - 1 Feb 01:00Z: January 23:30-24:00 is in the window -> 0;
    # February 00:00-01:00 counts: 1 h of 672 h.
    window = {"windows": [{"start": "2026-01-31T23:00:00Z", "end": "2026-02-01T02:00:00Z"}]}
    acme = contract(
        timezone="UTC",
        maintenance=window,
        amendments=[{"effective_from": "2026-02-01", "title": "No window", "maintenance": {"windows": []}}],
    )
    rows = drive(acme, outage("2026-01-31T23:30:00Z", "2026-02-01T01:00:00Z"), "2026-03-02T00:00:00Z")
    assert rows.clause("api-uptime", "2026-01")["attained_percent"] == 100.0
    assert rows.clause("api-uptime", "2026-02")["attained_percent"] == pct(672 * H, 1 * H)


def test_min_outage_judges_the_whole_span_across_an_amendment() -> None:
    # UTC. Base min_outage 0; from 1 Feb "Longer outages" sets min_outage 45m. Down
    # 31 Jan 23:30Z - 1 Feb 00:30Z: the span is 60 min long (SPEC 4: its whole length) ->
    # January counts 30 min (min 0), February counts 30 min (60 >= 45).
    acme = contract(
        uptime(),
        timezone="UTC",
        amendments=[
            {"effective_from": "2026-02-01", "title": "Longer outages", "clauses": [uptime(min_outage="45m")]}
        ],
    )
    rows = drive(acme, outage("2026-01-31T23:30:00Z", "2026-02-01T00:30:00Z"), "2026-03-02T00:00:00Z")
    assert rows.clause("api-uptime", "2026-01")["attained_percent"] == pct(744 * H, 30 * M)
    assert rows.clause("api-uptime", "2026-02")["attained_percent"] == pct(672 * H, 30 * M)


# --- tickets outside the contract's dates, invalid lines and the clock ------------------------


def test_a_ticket_opened_before_effective_from_belongs_to_no_period() -> None:
    # Contract from 1 Sep (UTC), within 1h. T0 opened 31 Aug 23:30Z, never answered: no period
    # holds its opening, not counted. T1 opened 1 Sep 00:00Z, answered 00:30Z. September 1/1.
    acme = contract(response(within="1h"), timezone="UTC", effective_from="2026-09-01")
    lines = [
        ticket("T0", "opened", "2026-08-31T23:30:00Z"),
        ticket("T1", "opened", "2026-09-01T00:00:00Z"),
        ticket("T1", "responded", "2026-09-01T00:30:00Z"),
    ]
    rows = drive(acme, lines, "2026-10-03T00:00:00Z")
    assert rows.clause("support", "2026-09")["attained_percent"] == 100.0
    assert rows.periods("support") == ["2026-09", "2026-10"]


def test_invalid_lines_never_move_the_clock() -> None:
    # Invalid lines dated 2027 (failed > total; a naive `at`; an unknown contract) come first.
    # Were they to move the watermark, the September outage would be late. Down 1 h of 720 h.
    bad_requests = json.loads(requests("2026-09-10T10:00:00+00:00", 1, 1))
    bad_requests |= {"failed": 2, "at": "2027-01-01T00:00:00Z", "event_id": "bad-1"}
    naive = {
        "event_id": "bad-2",
        "type": "status",
        "service": "api",
        "status": "up",
        "at": "2027-01-01T00:00:00",
    }
    lines = [
        json.dumps(bad_requests),
        json.dumps(naive),
        ticket("T", "opened", "2027-01-01T00:00:00Z", contract_id="nobody"),
        *outage("2026-09-10T10:00:00Z", "2026-09-10T11:00:00Z"),
    ]
    acme = contract(uptime(), availability(), timezone="UTC", effective_from="2026-09-01")
    rows = run(acme, lines, "2026-10-02T00:00:00Z")
    assert rows.outcomes() == {"applied": 2, "invalid": 3}
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(720 * H, 1 * H)


# --- durations -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["P1M", "P1Y", "P1Y2M", "P2M10DT1H"])
def test_years_and_months_are_not_durations(tmp_path: Path, text: str) -> None:
    # A month or a year has no fixed length (SPEC 2: durations are elapsed time); pydantic would
    # read P1M as 30 days, which a contract saying "claim within one month" does not mean.
    document = {
        "id": "acme",
        "customer": "Acme",
        "provider": "CloudCo",
        "timezone": "UTC",
        "currency": "EUR",
        "monthly_fee": "1000.00",
        "effective_from": "2026-09-01",
        "credit_rules": {"claim_within": text},
        "clauses": [uptime()],
    }
    path = tmp_path / "acme.yaml"
    path.write_text(yaml.safe_dump(document))
    loaded, problems = load_contract_file(path)
    assert loaded is None
    assert [(p.field, "no fixed length" in p.message) for p in problems] == [
        ("credit_rules.claim_within", True)
    ]


def test_a_fraction_of_a_second_is_part_of_the_terms_fingerprint() -> None:
    # within PT0.5S and PT0.9S are different terms: editing one into the other in place must be
    # seen by the worker's terms guard, so their fingerprints differ (PT1S is different again).
    prints = {
        text: month_fingerprint(contract(response(within=text), timezone="UTC"), "2026-01")["clauses"]
        for text in ("PT0.5S", "PT0.9S", "PT1S", "1s")
    }
    assert len({prints["PT0.5S"], prints["PT0.9S"], prints["PT1S"]}) == 3
    assert prints["PT1S"] == prints["1s"]


# --- more zones and exact instants -------------------------------------------------------------

SUNDAYS_2H = {"windows": [{"rrule": "FREQ=WEEKLY;BYDAY=SU;BYHOUR=2;BYMINUTE=0;BYSECOND=0", "duration": "2h"}]}


def test_request_intervals_in_berlin_on_the_fall_back_month() -> None:
    # October 2026 in Berlin: 30 Sep 22:00Z .. 31 Oct 23:00Z = 745 h = 2,980 intervals of 15m.
    # Sunday windows 02:00 local for 2 h: 4, 11, 18 Oct at 00:00Z-02:00Z; 25 Oct 02:00 happens
    # twice -> fold=0, 00:00Z-02:00Z. 4 x 8 = 32 intervals excluded: E = 2,948.
    # Failed requests: 25 Oct 01:50Z (interval 01:45, excluded: not down), 02:00Z and 02:20Z
    # (intervals 02:00 and 02:15, after the window: down). D = 2 -> 100 x 2,946 / 2,948.
    clause = availability(interval="15m", target=99)
    acme = contract(clause, effective_from="2026-09-01", maintenance=SUNDAYS_2H)
    lines = [
        requests("2026-10-25T01:50:00+00:00", 10, 10),
        requests("2026-10-25T02:00:00+00:00", 10, 10),
        requests("2026-10-25T02:20:00+00:00", 10, 10),
    ]
    rows = drive(acme, lines, "2026-11-02T00:00:00Z")
    assert rows.clause("api-availability", "2026-10")["attained_percent"] == float(Fraction(100 * 2946, 2948))


def test_a_pause_at_the_opening_instant_counts() -> None:
    # SPEC 10: pauses at or after the first `opened` count, whatever the event ids. Pausable,
    # within 1h, UTC. A: opened 10:00Z, paused 10:00Z (id "a-0", before the opening's id),
    # resumed 12:00Z -> counting from 12:00Z, deadline 13:00Z; answered 13:00Z: on time.
    # B: paused 09:59Z (before its opening: ignored), opened 10:00Z -> deadline 11:00Z;
    # answered 11:00:00.000001Z: missed. September 1 of 2.
    acme = contract(response(within="1h", pausable=True), timezone="UTC", effective_from="2026-09-01")
    lines = [
        ticket("B", "paused", "2026-09-10T09:59:00Z"),
        ticket("A", "paused", "2026-09-10T10:00:00Z", event_id="a-0"),
        ticket("A", "opened", "2026-09-10T10:00:00Z", event_id="a-1"),
        ticket("B", "opened", "2026-09-10T10:00:00Z"),
        ticket("B", "responded", "2026-09-10T11:00:00.000001Z"),
        ticket("A", "resumed", "2026-09-10T12:00:00Z"),
        ticket("A", "responded", "2026-09-10T13:00:00Z"),
    ]
    rows = drive(acme, lines, "2026-10-20T00:00:00Z")
    assert rows.clause("support", "2026-09")["attained_percent"] == 50.0


@pytest.mark.parametrize(
    ("as_of", "final"), [("2026-11-01T21:29:59.999999Z", False), ("2026-11-01T21:30:00Z", True)]
)
def test_a_business_hours_month_settles_past_a_holiday_after_its_end(as_of: str, final: bool) -> None:
    # Kolkata, open all week 00:00-24:00, 1 Nov 2026 a holiday, within 2h, lateness 1h.
    # October ends 1 Nov 00:00 IST = 31 Oct 18:30Z. D (a ticket opened then): 1 Nov is closed,
    # so counting starts 2 Nov 00:00 IST = 1 Nov 18:30Z -> D = 1 Nov 20:30Z. With every ticket
    # decided, October is final once the settled point (clock - 1h) reaches D: at 21:30Z.
    calendars = {"desk": {"hours": {"mon-sun": "00:00-24:00"}, "holidays": {"dates": ["2026-11-01"]}}}
    acme = contract(
        response(within="2h", calendar="desk"),
        timezone="Asia/Kolkata",
        effective_from="2026-10-01",
        calendars=calendars,
    )
    lines = [ticket("T", "opened", "2026-10-10T10:00:00Z"), ticket("T", "responded", "2026-10-10T11:00:00Z")]
    rows = drive(acme, lines, as_of)
    assert rows.clause("support", "2026-10")["final"] is final
    assert rows.contract("2026-10")["final"] is final


def test_min_outage_measures_the_whole_span_including_excluded_time() -> None:
    # SPEC 4: a down span is a maximal interval of status down; min_outage judges its whole
    # length; downtime is the part outside excluded time. UTC, min_outage 5m, window
    # 10 Sep 10:00-10:08Z. Down 09:58-10:10Z: 12 min >= 5m -> counts 09:58-10:00 and
    # 10:08-10:10 = 4 min (its parts outside the window are each shorter than 5m).
    # Down 11:00-11:04Z: 4 min < 5m -> ignored. Eligible 720 h - 8 min.
    window = {"windows": [{"start": "2026-09-10T10:00:00Z", "end": "2026-09-10T10:08:00Z"}]}
    acme = contract(uptime(min_outage="5m"), timezone="UTC", effective_from="2026-09-01", maintenance=window)
    lines = [
        *outage("2026-09-10T09:58:00Z", "2026-09-10T10:10:00Z"),
        *outage("2026-09-10T11:00:00Z", "2026-09-10T11:04:00Z"),
    ]
    rows = drive(acme, lines, "2026-10-02T00:00:00Z")
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(720 * H - 8 * M, 4 * M)


def test_an_announcement_made_after_its_start_never_excludes() -> None:
    # announced_min_notice 0s: start - at >= 0 holds for an announcement at or before the start.
    # M1 10:00-11:00Z announced 10:00Z (notice 0): excluded. M2 12:00-13:00Z announced
    # 12:30Z (after its start: notice -30 min): not excluded. Down 10:00-11:00 and
    # 12:00-13:00: 1 h counts; eligible 719 h.
    acme = contract(timezone="UTC", effective_from="2026-09-01", maintenance={"announced_min_notice": "0s"})
    lines = [
        maintenance("2026-09-10T10:00:00Z", "2026-09-10T11:00:00Z", "2026-09-10T10:00:00Z"),
        *outage("2026-09-10T10:00:00Z", "2026-09-10T11:00:00Z"),
        *outage("2026-09-10T12:00:00Z", "2026-09-10T13:00:00Z"),
        maintenance("2026-09-10T12:00:00Z", "2026-09-10T13:00:00Z", "2026-09-10T12:30:00Z"),
    ]
    rows = drive(acme, sorted(lines, key=lambda line: json.loads(line)["at"]), "2026-10-02T00:00:00Z")
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(719 * H, 1 * H)


def test_santiago_a_contract_starting_on_a_missing_midnight_and_a_window_in_the_repeated_hour() -> None:
    # America/Santiago 2026: 6 Sep 00:00 (-04) jumps to 01:00 (-03), so midnight does not exist;
    # 4 Apr 24:00 (-03) goes back to 23:00 (-04), so 23:00-24:00 on 4 Apr happens twice.
    # From 6 Sep: the first period starts at 6 Sep 00:00 with fold=0 (-04) = 04:00Z and ends
    # 1 Oct 00:00 (-03) = 03:00Z: 24 d 23 h = 599 h. Daily window at 00:00 for 1 h, DTSTART the
    # missing midnight: 6 Sep 04:00-05:00Z, then 7..30 Sep 03:00-04:00Z: 25 h; eligible 574 h.
    # Down 6 Sep 04:30-05:30Z: 05:00-05:30 counts, 30 min.
    midnight = {"windows": [{"rrule": "FREQ=DAILY;BYHOUR=0;BYMINUTE=0;BYSECOND=0", "duration": "1h"}]}
    acme = contract(timezone="America/Santiago", effective_from="2026-09-06", maintenance=midnight)
    rows = drive(acme, outage("2026-09-06T04:30:00Z", "2026-09-06T05:30:00Z"), "2026-10-03T00:00:00Z")
    assert rows.clause("api-uptime", "2026-09")["attained_percent"] == pct(574 * H, 30 * M)
    # April: 1 Apr 00:00 (-03) = 03:00Z .. 1 May 00:00 (-04) = 04:00Z: 721 h. Daily window at
    # 23:30 for 30 min: 30 windows, 15 h; on 4 Apr 23:30 happens twice -> fold=0, the first
    # (-03): 5 Apr 02:30-03:00Z. Down 5 Apr 02:30-03:30Z: 03:00-03:30 counts (fold=1 would
    # put the window at 03:30Z and count the whole hour). Eligible 706 h.
    late = {"windows": [{"rrule": "FREQ=DAILY;BYHOUR=23;BYMINUTE=30;BYSECOND=0", "duration": "30m"}]}
    acme = contract(timezone="America/Santiago", effective_from="2026-04-01", maintenance=late)
    rows = drive(acme, outage("2026-04-05T02:30:00Z", "2026-04-05T03:30:00Z"), "2026-05-03T00:00:00Z")
    assert rows.clause("api-uptime", "2026-04")["attained_percent"] == pct(706 * H, 30 * M)


def test_an_amended_maintenance_key_is_replaced_whole() -> None:
    # SPEC 12: a replaced key is replaced whole. Base: announced_min_notice 48h. From 1 Feb,
    # "Windows only" sets maintenance to a one-off window 10 Feb 00:00-01:00Z and no notice rule,
    # so announced maintenance is no longer excluded. UTC.
    # January: maintenance 10 Jan 10:00-11:00Z announced 3 days ahead: excluded; down over it:
    #   nothing counts; eligible 743 h.
    # February: the same announcement for 10 Feb: not excluded -> 1 h counts; the window
    #   10 Feb 00:00-01:00 is excluded: eligible 671 h.
    amendment = {
        "effective_from": "2026-02-01",
        "title": "Windows only",
        "maintenance": {"windows": [{"start": "2026-02-10T00:00:00Z", "end": "2026-02-10T01:00:00Z"}]},
    }
    acme = contract(timezone="UTC", maintenance={"announced_min_notice": "48h"}, amendments=[amendment])
    lines = []
    for month in ("01", "02"):
        start, end = f"2026-{month}-10T10:00:00Z", f"2026-{month}-10T11:00:00Z"
        lines += [maintenance(start, end, f"2026-{month}-07T10:00:00Z"), *outage(start, end)]
    rows = drive(acme, sorted(lines, key=lambda line: json.loads(line)["at"]), "2026-03-02T00:00:00Z")
    assert rows.clause("api-uptime", "2026-01")["attained_percent"] == pct(743 * H, 0)
    assert rows.clause("api-uptime", "2026-02")["attained_percent"] == pct(671 * H, 1 * H)


def test_a_response_dated_before_the_opening_is_on_time() -> None:
    # SPEC 4 bounds the first measure event only by opened + within. UTC, within 1h.
    # T: responded 09:59Z, opened 10:00Z -> on time. U: opened 10:00Z, responded 11:00:00.000001Z
    # -> missed. September 1 of 2.
    acme = contract(response(within="1h"), timezone="UTC", effective_from="2026-09-01")
    lines = [
        ticket("T", "responded", "2026-09-10T09:59:00Z"),
        ticket("T", "opened", "2026-09-10T10:00:00Z"),
        ticket("U", "opened", "2026-09-10T10:00:00Z"),
        ticket("U", "responded", "2026-09-10T11:00:00.000001Z"),
    ]
    rows = drive(acme, lines, "2026-10-03T00:00:00Z")
    assert rows.clause("support", "2026-09")["attained_percent"] == 50.0


def test_easter_in_new_south_wales_across_the_end_of_dst() -> None:
    # Sydney, mon-fri 09:00-17:00, public holidays of AU/NSW: Good Friday 3 Apr 2026 to Easter
    # Monday 6 Apr are closed; DST ends on 5 Apr (+11 -> +10). within 2h.
    # Opened Thu 2 Apr 16:00 AEDT (05:00Z): 1 h until 17:00 AEDT (06:00Z); then closed until
    # Tue 7 Apr 09:00 AEST (6 Apr 23:00Z) + 1 h -> deadline 7 Apr 00:00Z.
    # A answered at the deadline, B 1 us later: April 1 of 2.
    calendars = {
        "support": {"hours": {"mon-fri": "09:00-17:00"}, "holidays": {"country": "AU", "subdivision": "NSW"}}
    }
    acme = contract(
        response(within="2h", calendar="support"),
        timezone="Australia/Sydney",
        effective_from="2026-03-01",
        calendars=calendars,
    )
    lines = [
        ticket("A", "opened", "2026-04-02T16:00:00+11:00"),
        ticket("B", "opened", "2026-04-02T16:00:00+11:00"),
        ticket("A", "responded", "2026-04-07T00:00:00Z"),
        ticket("B", "responded", "2026-04-07T00:00:00.000001Z"),
    ]
    rows = drive(acme, lines, "2026-06-01T00:00:00Z")
    assert rows.clause("support", "2026-04")["attained_percent"] == 50.0
