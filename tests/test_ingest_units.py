"""The pure parts of ingest: label selectors, the settings' binding rule, and 0/1 series to
status events (a property test against a reconstruction of the series from the events)."""

from __future__ import annotations

import itertools
import subprocess
import sys
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from monitor.ingest.selector import parse_selector
from monitor.ingest.series import MINUTE_US, Series, SeriesError, request_events, status_events
from monitor.ingest.settings import IngestSettings
from monitor.timeutil import format_instant
from tests.conftest import REPO


@pytest.mark.parametrize(
    ("selector", "labels", "matches"),
    [
        ("", {}, True),
        ('alertname="Down"', {"alertname": "Down"}, True),
        ('{alertname="Down"}', {"alertname": "Down2"}, False),
        ('severity=~"page|critical"', {"severity": "critical"}, True),
        ('severity=~"page|critical"', {"severity": "critical-ish"}, False),  # anchored, as in Prometheus
        ('severity!~"info|warning", team!="db"', {"severity": "page"}, True),  # a missing label is ""
        ('team!=""', {}, False),
        ('note="a, b=\\"c\\""', {"note": 'a, b="c"'}, True),  # commas and quotes inside the value
    ],
)
def test_selectors_match_as_prometheus_matchers_do(selector: str, labels: dict, matches: bool) -> None:
    assert parse_selector(selector).matches(labels) is matches


@pytest.mark.parametrize(
    ("selector", "problem"),
    [
        ("alertname=Down", "cannot read a matcher at 'alertname=Down'"),
        ('a="x" b="y"', "expected ',' between matchers, before 'b=\"y\"'"),
        ('a=~"("', 'matcher a=~"(": bad regular expression'),
    ],
)
def test_a_bad_selector_is_refused_naming_the_part(selector: str, problem: str) -> None:
    with pytest.raises(ValueError) as error:
        parse_selector(selector)
    assert problem in str(error.value)


def test_without_tokens_the_service_listens_on_loopback_only() -> None:
    assert IngestSettings(host="127.0.0.1").host == "127.0.0.1"
    assert IngestSettings(host="0.0.0.0", tokens="secret").host == "0.0.0.0"
    with pytest.raises(
        ValidationError, match=r"without SLAMON_INGEST_TOKENS the service listens on 127\.0\.0\.1"
    ):
        IngestSettings(host="0.0.0.0")
    with pytest.raises(ValidationError, match="without SLAMON_INGEST_TOKENS"):
        IngestSettings(host="0.0.0.0", tokens=" , ")  # no token in it


def test_slamon_ingest_refuses_to_start_open_to_the_network() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "monitor.cli", "ingest", "--host", "0.0.0.0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 2
    assert "without SLAMON_INGEST_TOKENS the service listens on 127.0.0.1 only, not '0.0.0.0'" in done.stderr


STEP_US = 15_000_000


@given(st.dictionaries(st.sampled_from(["api", "web", "db"]), st.lists(st.sampled_from([0, 1]), max_size=40)))
def test_status_events_rebuild_every_sample_with_no_redundant_event(samples: dict[str, list[int]]) -> None:
    series = [
        Series({"service": name, "job": "probe"}, [(i * STEP_US, Decimal(v)) for i, v in enumerate(values)])
        for name, values in samples.items()
    ]
    events = status_events(series, "service")
    # reference: replaying the events gives back each series' value at each of its samples
    for name, values in samples.items():
        mine = [event for event in events if event["service"] == name]
        for index, value in enumerate(values):
            at = format_instant(index * STEP_US)
            latest = [event for event in mine if event["at"] <= at][-1]  # same-length UTC stamps
            assert latest["status"] == ("up" if value == 1 else "down")
        statuses = [event["status"] for event in mine]
        assert all(a != b for a, b in itertools.pairwise(statuses))  # changes only
        assert len({event["event_id"] for event in mine}) == len(mine)
    assert [e["at"] for e in events] == sorted(e["at"] for e in events)


def test_a_series_without_the_service_label_is_refused() -> None:
    with pytest.raises(SeriesError, match="a series has no 'service' label"):
        status_events([Series({"job": "x"}, [(0, Decimal(1))])], "service")


def test_compose_wires_alertmanager_to_the_ingest_service() -> None:
    import yaml

    compose = yaml.safe_load((REPO / "docker-compose.yml").read_text())
    ingest = compose["services"]["ingest"]
    env = ingest["environment"]
    assert ingest["command"] == ["ingest"]
    assert env["SLAMON_INGEST_TOKENS"].startswith("${SLAMON_ALERTMANAGER_INGEST_TOKEN")
    settings = IngestSettings(
        host=env["SLAMON_INGEST_HOST"], tokens="t", alert_selector=env["SLAMON_INGEST_ALERT_SELECTOR"]
    )
    secret = compose["secrets"]["alertmanager_ingest_token"]
    assert secret == {"environment": "SLAMON_ALERTMANAGER_INGEST_TOKEN"}
    assert "alertmanager_ingest_token" in compose["services"]["alertmanager"]["secrets"]

    config = yaml.safe_load((REPO / "deploy" / "alertmanager" / "alertmanager.yml").read_text())
    (route,) = [r for r in config["route"]["routes"] if r["receiver"] == "slamon-ingest"]
    assert route["continue"] is True  # the alerts still reach the people's routes
    (receiver,) = [r for r in config["receivers"] if r["name"] == "slamon-ingest"]
    (webhook,) = receiver["webhook_configs"]
    assert webhook["url"] == f"http://ingest:{env['SLAMON_INGEST_PORT']}/v1/alertmanager"
    assert webhook["send_resolved"] is True  # resolved alerts are the `up` events
    assert (
        webhook["http_config"]["authorization"]["credentials_file"]
        == "/run/secrets/alertmanager_ingest_token"
    )
    # what the route sends is what the service takes: the route's matcher is its selector
    (matcher,) = route["matchers"]
    label, value = (part.strip().strip('"') for part in matcher.split("="))
    assert settings.selector.matches({label: value, "service": "api"})
    assert not settings.selector.matches({"service": "api"})


def _counter(service: str, *values: str) -> Series:
    return Series({"service": service}, [(i * MINUTE_US, Decimal(v)) for i, v in enumerate(values)])


def test_failures_above_the_total_are_capped_and_counted() -> None:
    # minute 0: 10 requests, 12 failures (the counters were sampled apart): 10 failed, capped
    # minute 1: 0 requests, 0 failures: no event; minute 2: 5 requests, 1 failure
    events, capped = request_events(
        [_counter("api", "100", "110", "110", "115")], [_counter("api", "0", "12", "12", "13")], "service"
    )
    assert [(e["start"], e["total"], e["failed"]) for e in events] == [
        ("1970-01-01T00:00:00Z", 10, 10),
        ("1970-01-01T00:02:00Z", 5, 1),
    ]
    assert capped == 1


@pytest.mark.parametrize(
    ("totals", "failures", "problem"),
    [
        ([_counter("api", "1.5", "2")], [], "api at 1970-01-01T00:00:00Z: 1.5 is not a count"),
        ([_counter("api", "NaN", "2")], [], "NaN is not a count"),
        ([_counter("api", "1", "2")], [_counter("web", "0", "1")], "failed requests but no total for web"),
    ],
)
def test_counters_that_are_not_counts_are_refused(totals: list, failures: list, problem: str) -> None:
    with pytest.raises(SeriesError) as error:
        request_events(totals, failures, "service")
    assert problem in str(error.value)
