"""The future-time guard: an event whose ``at`` is more than the allowed skew after the driver's
clock (the live worker's wall clock, replay's ``--as-of``) is refused as ``future``, moves no
clock, and leaves the results exactly as the events around it give them alone."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from monitor.cli import main
from monitor.engine import Engine, Outcome
from monitor.events import StatusEvent, TicketEvent, decode_event, event_json, status_event
from monitor.replay import replay
from monitor.timeutil import to_us
from tests.builders import contract, maintenance, status, uptime
from tests.reference import reference_records
from tests.test_properties import LATENESS, scenarios

SKEW = timedelta(hours=1)


def _line(event: StatusEvent | TicketEvent) -> bytes:
    return event_json(event).encode()


@settings(max_examples=60)
@given(scenarios(), st.data())
def test_future_events_leave_replay_equal_to_the_reference_of_the_others(scenario, data) -> None:
    chosen, events = scenario
    if not events:
        return
    as_of = max(e.at for e in events) + data.draw(st.sampled_from([timedelta(0), timedelta(days=3)]))
    bound = as_of + SKEW
    count = data.draw(st.integers(1, 4))
    future = []
    for index in range(count):
        at = data.draw(
            st.sampled_from([bound + timedelta(microseconds=1), bound + timedelta(days=40)])
            | st.just(datetime(2100, 1, 1, tzinfo=UTC))
        )
        # some reuse the id of a counted event: a refused event must not make it a duplicate
        reused = data.draw(st.sampled_from([None, *[e.event_id for e in events]]))
        future.append(
            status_event(
                event_id=reused or f"future{index}",
                service=data.draw(st.sampled_from(["api", "web"])),
                status="down",
                at=at,
            )
        )
    lines = [_line(e) for e in events]
    for event in future:
        lines.insert(data.draw(st.integers(0, len(lines))), _line(event))
    report = replay(chosen, lines, as_of, LATENESS, SKEW)
    assert report.outcomes[Outcome.FUTURE] == count
    assert sorted(reason for _, reason in report.future_lines) == sorted(
        f"future: 'at' {e.at.isoformat()} is after {bound.isoformat().replace('+00:00', 'Z')}" for e in future
    )
    assert report.records == reference_records(chosen, events, LATENESS, as_of)
    assert report.notices == replay(chosen, [_line(e) for e in events], as_of, LATENESS, SKEW).notices


def test_the_bound_is_inclusive_and_the_clock_does_not_move() -> None:
    engine = Engine([contract(uptime())], LATENESS, clocked_by_events=True)
    bound = to_us(datetime(2026, 6, 1, 12, tzinfo=UTC))
    at_bound = decode_event(status("2026-06-01T12:00:00Z", "up", event_id="a"))
    just_after = decode_event(status("2026-06-01T12:00:00.000001Z", "down", event_id="b"))
    assert engine.apply(just_after, bound).outcome is Outcome.FUTURE
    assert engine.watermark is None  # refused: no clock moved
    assert engine.apply(just_after, bound + 1).outcome is Outcome.APPLIED  # nothing was remembered
    assert engine.apply(at_bound, bound).outcome is Outcome.APPLIED
    assert engine.watermark == bound + 1


def test_maintenance_announced_now_for_a_far_future_window_is_counted() -> None:
    """The guard reads ``at`` (when it was announced): the window itself may lie years ahead."""
    engine = Engine([contract(uptime())], LATENESS)
    announced = maintenance("2100-01-01T00:00:00Z", "2100-01-01T04:00:00Z", "2026-06-01T12:00:00Z")
    verdict = engine.apply(decode_event(announced), to_us(datetime(2026, 6, 1, 12, tzinfo=UTC)))
    assert verdict.outcome is Outcome.APPLIED


def test_without_as_of_replay_has_no_clock_to_be_ahead_of() -> None:
    """SPEC section 5 unchanged: without ``--as-of`` the file's own watermark is the clock."""
    lines = [status("2026-06-01T00:00:00Z", "up"), status("2100-01-01T00:00:00Z", "up")]
    report = replay([contract(uptime())], lines)
    assert report.outcomes == {Outcome.APPLIED: 2}


def test_replay_reports_future_lines_on_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    contracts = tmp_path / "contracts"
    contracts.mkdir()
    (contracts / "acme.yaml").write_text(
        json.dumps(contract(uptime()).model_dump(mode="json", exclude_none=True))
    )
    events = tmp_path / "events.jsonl"
    good = [status("2026-06-01T00:00:00Z", "up"), status("2026-06-01T10:00:00Z", "down")]
    events.write_text("\n".join([good[0], status("2100-01-01T00:00:00Z", "up", event_id="y2100"), good[1]]))
    base = [
        "replay",
        "--contracts",
        str(contracts),
        "--events",
        str(events),
        "--as-of",
        "2026-07-01T00:00:00Z",
    ]
    assert main([*base, "--max-future-skew", "2h"]) == 0
    out, err = capsys.readouterr()
    assert err.splitlines() == [
        "event on line 2 not counted: future: 'at' 2100-01-01T00:00:00+00:00 is after 2026-07-01T02:00:00Z",
        "events: applied 2, future 1",
    ]
    events.write_text("\n".join(good))
    assert main(base) == 0
    alone, _ = capsys.readouterr()
    assert out == alone  # exactly what the good events give
