"""``slamon ingest`` over real HTTP on 127.0.0.1 and the bundled broker: what it accepts reaches
its topic with its key, what it refuses reaches the dead-letter topic with the reason, and its
limits and tokens hold. Its OpenAPI description is checked against it with schemathesis."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest

from monitor.broker import DevBroker
from tests.ingest_service import Ingest, running_ingest

TOKEN = "tok-" + uuid.uuid4().hex
OTHER_TOKEN = "tok-" + uuid.uuid4().hex
MAX_BODY_BYTES = 65_536
MAX_EVENTS = 20


@pytest.fixture(scope="module")
def ingest(dev_broker: DevBroker, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ingest]:
    with running_ingest(
        dev_broker,
        tmp_path_factory.mktemp("ingest"),
        tokens=f"{TOKEN}, {OTHER_TOKEN}",
        max_body_bytes=str(MAX_BODY_BYTES),
        max_events=str(MAX_EVENTS),
        alert_selector='severity=~"page|critical"',
    ) as service:
        yield service


def _post(
    ingest: Ingest, path: str, content: bytes, token: str | None = TOKEN, **headers: str
) -> httpx.Response:
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    if path == "/v1/alertmanager":
        headers.setdefault("content-type", "application/json")  # as Alertmanager sends it
    return httpx.post(f"{ingest.url}{path}", content=content, headers=headers, timeout=30)


def _ids(ingest: Ingest, kind: str) -> dict[str, bytes | None]:
    """event_id -> key of each event on one of the topics."""
    return {json.loads(value)["event_id"]: key for key, value in ingest.records(kind)}


def _dead(ingest: Ingest, marker: str) -> list[dict]:
    records = [json.loads(value) for _, value in ingest.records("deadletter")]
    return [record for record in records if marker in record["value"]]


def _status(event_id: str, service: str = "api", at: str = "2026-10-01T00:00:00Z") -> dict:
    return {"event_id": event_id, "type": "status", "service": service, "status": "up", "at": at}


def test_malformed_ndjson_lines_are_refused_and_the_good_ones_still_accepted(ingest: Ingest) -> None:
    run = uuid.uuid4().hex[:8]
    lines = [
        orjson.dumps(_status(f"{run}-1")),
        b'{"event_id": "' + run.encode() + b'-2", "type": "status", ',  # cut short
        orjson.dumps(
            {
                "event_id": f"{run}-3",
                "type": "ticket",
                "ticket_id": "T-1",
                "contract": "acme",
                "action": "opened",
                "at": "2026-10-01T01:00:00+02:00",
            }
        ),
        b"",  # blank lines are skipped, but still counted as lines
        orjson.dumps(_status(f"{run}-4", at="2026-10-01T00:00:00")),  # naive timestamp
        orjson.dumps(
            {
                "event_id": f"{run}-5",
                "type": "maintenance",
                "service": "web",
                "start": "2026-10-02T00:00:00Z",
                "end": "2026-10-02T01:00:00Z",
                "at": "2026-09-01T00:00:00Z",
            }
        ),
        b'["' + run.encode() + b'-6"]',
    ]
    response = _post(
        ingest, "/v1/events", b"\n".join(lines) + b"\n", **{"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 200, response.text
    answer = response.json()
    assert (answer["accepted"], answer["invalid"]) == (3, 3)
    by_line = {result["line"]: result for result in answer["results"]}
    assert sorted(by_line) == [1, 2, 3, 5, 6, 7]
    assert by_line[1] == {
        "line": 1,
        "status": "accepted",
        "event_id": f"{run}-1",
        "topic": ingest.topics["uptime"],
    }
    assert by_line[3]["topic"] == ingest.topics["tickets"]
    assert by_line[6]["topic"] == ingest.topics["maintenance"]
    assert by_line[2]["status"] == "invalid" and by_line[2]["reason"].startswith("not valid JSON")
    assert by_line[5]["reason"] == "field 'at': timestamp must carry a UTC offset"
    assert by_line[7]["reason"] == "an event must be a JSON object"
    # on the broker (the answer came after its acknowledgement): keyed as the worker expects
    assert _ids(ingest, "uptime")[f"{run}-1"] == b"api"
    assert _ids(ingest, "tickets")[f"{run}-3"] == b"acme"
    assert _ids(ingest, "maintenance")[f"{run}-5"] == b"web"
    dead = {record["line"]: record for record in _dead(ingest, run)}
    assert sorted(dead) == [2, 5, 7]
    assert dead[5]["reason"] == by_line[5]["reason"]
    assert dead[5]["source"] == "ingest /v1/events"
    assert dead[2]["value"] == lines[1].decode()


def test_a_json_array_is_taken_element_by_element(ingest: Ingest) -> None:
    run = uuid.uuid4().hex[:8]
    body = orjson.dumps([_status(f"{run}-a", "db"), {"event_id": f"{run}-b", "type": "reboot"}])
    response = _post(ingest, "/v1/events", body, **{"content-type": "application/json"})
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["line"], r["status"]) for r in results] == [(1, "accepted"), (2, "invalid")]
    assert results[1]["reason"] == "unknown event type 'reboot'"
    assert _ids(ingest, "uptime")[f"{run}-a"] == b"db"
    assert [record["line"] for record in _dead(ingest, run)] == [2]


def test_a_broken_json_array_is_refused_whole(ingest: Ingest) -> None:
    response = _post(ingest, "/v1/events", b'[{"event_id": "x"', **{"content-type": "application/json"})
    assert response.status_code == 400
    assert "not a JSON array" in response.json()["detail"]


@pytest.mark.parametrize(
    "token", [None, "wrong", TOKEN + "x", TOKEN[:-1]], ids=["none", "wrong", "longer", "shorter"]
)  # ids: the tokens are random, and parallel workers must collect the same names
def test_a_missing_or_wrong_token_is_refused_and_nothing_is_produced(
    ingest: Ingest, token: str | None
) -> None:
    run = uuid.uuid4().hex[:8]
    for path, body in [
        ("/v1/events", orjson.dumps(_status(f"{run}-x"))),
        ("/v1/alertmanager", orjson.dumps({"version": "4", "alerts": []})),
    ]:
        response = _post(ingest, path, body, token=token)
        assert response.status_code == 401
        assert response.headers["www-authenticate"] == "Bearer"
    assert (
        _post(ingest, "/v1/events", orjson.dumps(_status(f"{run}-y")), token=OTHER_TOKEN).status_code == 200
    )
    produced = _ids(ingest, "uptime")
    assert f"{run}-y" in produced and f"{run}-x" not in produced


def test_bodies_over_the_limits_get_413_naming_the_limit(ingest: Ingest) -> None:
    run = uuid.uuid4().hex[:8]
    line = orjson.dumps(_status(f"{run}-big")) + b"\n"
    huge = line * (MAX_BODY_BYTES // len(line) + 1)  # one line more than fits
    response = _post(ingest, "/v1/events", huge)
    assert response.status_code == 413
    assert f"max_body_bytes = {MAX_BODY_BYTES}" in response.json()["detail"]

    def chunks() -> Iterator[bytes]:  # no Content-Length: the limit is counted while reading
        yield from (huge[i : i + 4096] for i in range(0, len(huge), 4096))

    streamed = httpx.post(
        f"{ingest.url}/v1/events", content=chunks(), headers={"authorization": f"Bearer {TOKEN}"}, timeout=30
    )
    assert streamed.status_code == 413
    assert f"max_body_bytes = {MAX_BODY_BYTES}" in streamed.json()["detail"]

    many = b"".join(orjson.dumps(_status(f"{run}-{i}")) + b"\n" for i in range(MAX_EVENTS + 1))
    response = _post(ingest, "/v1/events", many)
    assert response.status_code == 413
    assert (
        response.json()["detail"]
        == f"21 events are more than max_events = {MAX_EVENTS} (SLAMON_INGEST_MAX_EVENTS)"
    )
    exactly = b"".join(orjson.dumps(_status(f"{run}-ok{i}")) + b"\n" for i in range(MAX_EVENTS))
    assert _post(ingest, "/v1/events", exactly).json()["accepted"] == MAX_EVENTS
    produced = [event_id for event_id in _ids(ingest, "uptime") if event_id.startswith(run)]
    assert sorted(produced) == sorted(f"{run}-ok{i}" for i in range(MAX_EVENTS))


ZERO = "0001-01-01T00:00:00Z"  # Alertmanager's endsAt of an alert with no end yet


def _alert(fingerprint: str, status: str, labels: dict[str, str], starts: str, ends: str) -> dict:
    return {"status": status, "labels": labels, "annotations": {}, "startsAt": starts, "endsAt": ends,
            "generatorURL": "", "fingerprint": fingerprint}  # fmt: skip


def test_alertmanager_alerts_become_status_events_and_resends_repeat_their_ids(ingest: Ingest) -> None:
    run = uuid.uuid4().hex[:12]
    page = {"alertname": "Down", "severity": "page", "service": f"svc-{run}"}
    alerts = [
        _alert(f"{run}1", "firing", page, "2026-10-01T10:00:00.123456789Z", ZERO),
        _alert(f"{run}2", "resolved", page, "2026-10-01T08:00:00Z", "2026-10-01T09:30:00+02:00"),
        _alert(f"{run}3", "firing", {**page, "severity": "info"}, "2026-10-01T10:00:00Z", ZERO),
        _alert(f"{run}4", "firing", {"alertname": "Down", "severity": "page"}, "2026-10-01T10:00:00Z", ZERO),
    ]
    body = orjson.dumps({"version": "4", "status": "firing", "receiver": "slamon", "alerts": alerts})
    first = _post(ingest, "/v1/alertmanager", body)
    assert first.status_code == 200, first.text
    answer = first.json()
    assert (answer["accepted"], answer["ignored"], answer["invalid"]) == (2, 2, 0)
    outcomes = [(a["index"], a["outcome"], a.get("event_id"), a.get("reason")) for a in answer["alerts"]]
    assert outcomes == [
        # nanoseconds are cut to microseconds; times are written in UTC
        (1, "accepted", f"alertmanager:{run}1:down:2026-10-01T10:00:00.123456Z", None),
        (2, "accepted", f"alertmanager:{run}2:up:2026-10-01T07:30:00Z", None),
        (3, "ignored", None, 'labels do not match the selector {severity=~"page|critical"}'),
        (4, "ignored", None, "no 'service' label"),
    ]
    assert _post(ingest, "/v1/alertmanager", body).json() == answer  # a re-send: the same ids
    events = [json.loads(value) for _, value in ingest.records("uptime")]
    mine = [event for event in events if event["service"] == f"svc-{run}"]
    assert mine == 2 * [
        {"event_id": f"alertmanager:{run}1:down:2026-10-01T10:00:00.123456Z", "type": "status",
         "service": f"svc-{run}", "status": "down", "at": "2026-10-01T10:00:00.123456Z"},
        {"event_id": f"alertmanager:{run}2:up:2026-10-01T07:30:00Z", "type": "status",
         "service": f"svc-{run}", "status": "up", "at": "2026-10-01T07:30:00Z"},
    ]  # fmt: skip


def test_an_alertmanager_body_of_another_version_is_refused(ingest: Ingest) -> None:
    response = _post(ingest, "/v1/alertmanager", orjson.dumps({"version": "3", "alerts": []}))
    assert response.status_code == 422
    assert "'4'" in response.text


def test_health_and_metrics_need_no_token_and_count_outcomes(ingest: Ingest) -> None:
    assert httpx.get(f"{ingest.url}/healthz").json() == {"status": "ok"}
    _post(ingest, "/v1/events", b"nonsense\n")
    metrics = httpx.get(f"{ingest.url}/metrics").text
    invalid = [line for line in metrics.splitlines() if line.startswith("slamon_ingest_events_total{")]
    assert any('endpoint="/v1/events"' in line and 'outcome="invalid"' in line for line in invalid)
    assert 'slamon_ingest_requests_total{code="200",endpoint="/v1/events"}' in metrics


def test_the_openapi_description_holds_against_the_running_service(ingest: Ingest, tmp_path: Path) -> None:
    checks = [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_headers_conformance",
        "response_schema_conformance",
        "ignored_auth",
    ]
    done = subprocess.run(
        [
            str(Path(sys.executable).with_name("schemathesis")),
            "run", f"{ingest.url}/openapi.json",
            "--header", f"Authorization: Bearer {TOKEN}",
            "--checks", ",".join(checks),
            "--max-time", "12", "--workers", "1", "--seed", "1",
        ],
        capture_output=True, text=True, timeout=120, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    assert "4/4" in done.stdout  # every operation was tested
