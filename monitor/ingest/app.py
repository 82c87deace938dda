"""The ingest HTTP service (SPEC.md section 13), a FastAPI application.

It decodes with ``monitor.events`` and routes with ``monitor.produce`` (the worker's and
``slamon produce``'s rules), answers only once the broker acknowledged what it produced, and
computes no SLA figure.
"""

from __future__ import annotations

import hmac
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Annotated, Any, Literal

import orjson
from fastapi import Depends, FastAPI, HTTPException, Request
from fastapi.responses import JSONResponse, PlainTextResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from monitor.events import InvalidEvent, decode_event
from monitor.ingest.alertmanager import AlertOutcome, Notification, status_events
from monitor.ingest.body import BodyError, Item, split_body
from monitor.ingest.guard import Guard
from monitor.ingest.metrics import IngestMetrics
from monitor.ingest.publisher import Publisher, PublishError, Record
from monitor.ingest.settings import IngestSettings
from monitor.produce import route, route_document
from monitor.settings import Settings


class LineResult(BaseModel):
    line: int
    status: Literal["accepted", "invalid"]
    event_id: str | None = None
    topic: str | None = None
    reason: str | None = None


class EventsAnswer(BaseModel):
    accepted: int
    invalid: int
    results: list[LineResult]


class AlertResult(BaseModel):
    index: int
    fingerprint: str
    outcome: Literal["accepted", "ignored", "invalid"]
    event_id: str | None = None
    reason: str | None = None


class AlertsAnswer(BaseModel):
    accepted: int
    ignored: int
    invalid: int
    alerts: list[AlertResult]


class Health(BaseModel):
    status: Literal["ok", "starting"]


class Problem(BaseModel):
    detail: str


BEARER = HTTPBearer(auto_error=False, description="one of SLAMON_INGEST_TOKENS")
Credentials = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    meaning = {
        400: "the body as a whole cannot be read (not JSON, not UTF-8)",
        401: "a valid bearer token is required",
        413: "over a size limit (the answer names it)",
        422: "the body does not follow the schema",
        503: "the broker did not acknowledge: nothing should be taken as stored; send again",
    }
    return {code: {"model": Problem, "description": meaning[code]} for code in codes}


EVENTS_BODY = {
    "required": True,
    "content": {
        "application/json": {
            "schema": {
                "type": "array",
                "items": {"type": "object"},
                "description": "SPEC events (status, maintenance, ticket, ...), each checked on its own",
            }
        },
        "application/x-ndjson": {
            "schema": {"type": "string", "description": "one JSON event per line; blank lines skipped"}
        },
    },
}


def create_app(
    settings: Settings,
    ingest: IngestSettings,
    publisher: Publisher,
    lifespan: AbstractAsyncContextManager[None] | None = None,
) -> FastAPI:
    """The service; ``lifespan`` (if given) is entered at start-up and left at shutdown."""
    metrics = IngestMetrics()
    tokens = ingest.token_list
    selector = ingest.selector

    @asynccontextmanager
    async def run(_: FastAPI) -> AsyncIterator[None]:
        if lifespan is None:
            yield
            return
        async with lifespan:
            yield

    app = FastAPI(
        title="sla-monitor ingest",
        version="1",
        description="Takes events and Alertmanager notifications in and produces SPEC events "
        "to the input topics. Every /v1 request needs `Authorization: Bearer <token>` when tokens "
        "are configured.",
        lifespan=run,
    )
    app.add_middleware(Guard, max_body_bytes=ingest.max_body_bytes, metrics=metrics)

    def authorised(credentials: Credentials) -> None:
        if not tokens:
            return  # no tokens: the service listens on 127.0.0.1 only (IngestSettings)
        given = credentials.credentials.encode() if credentials is not None else b""
        matched = False
        for token in tokens:  # compare with every token, so timing tells nothing
            matched |= hmac.compare_digest(given, token)
        if not matched:
            raise HTTPException(401, "a valid bearer token is required", {"WWW-Authenticate": "Bearer"})

    async def publish(records: Sequence[Record]) -> None:
        try:
            await publisher.publish(records)
        except PublishError as error:
            metrics.broker_errors.inc()
            raise HTTPException(503, str(error)) from None

    def count(endpoint: str, outcomes: Sequence[str]) -> None:
        for outcome in set(outcomes):
            metrics.events.labels(endpoint, outcome).inc(outcomes.count(outcome))

    @app.post(
        "/v1/events",
        response_model=EventsAnswer,
        response_model_exclude_none=True,
        dependencies=[Depends(authorised)],
        responses=_errors(400, 401, 413, 503),
        openapi_extra={"requestBody": EVENTS_BODY},
        summary="Events as a JSON array or NDJSON; answered once the broker has them",
    )
    async def post_events(request: Request) -> EventsAnswer:
        body = await request.body()
        try:
            items = split_body(body)
        except BodyError as error:
            raise HTTPException(400, error.reason) from None
        if len(items) > ingest.max_events:
            raise HTTPException(
                413,
                f"{len(items)} events are more than max_events = {ingest.max_events} "
                "(SLAMON_INGEST_MAX_EVENTS)",
            )
        results, records = _event_lines(items, settings)
        await publish(records)
        statuses = [r.status for r in results]
        count("/v1/events", statuses)
        return EventsAnswer(
            accepted=statuses.count("accepted"), invalid=statuses.count("invalid"), results=results
        )

    @app.post(
        "/v1/alertmanager",
        response_model=AlertsAnswer,
        response_model_exclude_none=True,
        dependencies=[Depends(authorised)],
        responses=_errors(400, 401, 413, 503),
        summary="Alertmanager's webhook (version 4): firing alerts are down, resolved ones up",
    )
    async def post_alertmanager(notification: Notification) -> AlertsAnswer:
        outcomes = status_events(notification, selector, ingest.service_label)
        await publish(_alert_records(outcomes, settings))
        answers = [
            AlertResult(
                index=o.index,
                fingerprint=o.fingerprint,
                outcome=o.outcome,
                event_id=o.event["event_id"] if o.event is not None else None,
                reason=o.reason,
            )
            for o in outcomes
        ]
        kinds = [o.outcome for o in outcomes]
        count("/v1/alertmanager", kinds)
        return AlertsAnswer(
            accepted=kinds.count("accepted"),
            ignored=kinds.count("ignored"),
            invalid=kinds.count("invalid"),
            alerts=answers,
        )

    @app.get("/healthz", response_model=Health, responses={503: {"model": Health}})
    async def healthz() -> Any:
        if publisher.ready():
            return Health(status="ok")
        return JSONResponse(Health(status="starting").model_dump(), 503)

    @app.get(
        "/metrics",
        response_class=PlainTextResponse,
        responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}}},
    )
    async def prometheus_metrics() -> PlainTextResponse:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return app


def _event_lines(items: Sequence[Item], settings: Settings) -> tuple[list[LineResult], list[Record]]:
    """Each line's result, and the records to produce: valid events to their topic with their
    key (as sent), invalid ones to the dead-letter topic."""
    results: list[LineResult] = []
    records: list[Record] = []
    for item in items:
        try:
            event = decode_event(item.raw)
        except InvalidEvent as error:
            results.append(LineResult(line=item.line, status="invalid", reason=error.reason))
            records.append(_dead_letter(settings, error.reason, "/v1/events", item.line, item.raw))
            continue
        topic, key = route(item.raw, settings)
        results.append(LineResult(line=item.line, status="accepted", event_id=event.event_id, topic=topic))
        records.append(Record(topic, key, item.raw))
    return results, records


def _alert_records(outcomes: Sequence[AlertOutcome], settings: Settings) -> list[Record]:
    """The status events of accepted alerts, and the dead-letter records of invalid ones."""
    records: list[Record] = []
    for outcome in outcomes:
        if outcome.event is None:
            continue  # ignored: nothing to send
        value = orjson.dumps(outcome.event)
        if outcome.outcome == "accepted":
            topic, key = route_document(outcome.event, settings)
            records.append(Record(topic, key, value))
        else:
            reason = outcome.reason or "invalid"
            records.append(_dead_letter(settings, reason, "/v1/alertmanager", outcome.index, value))
    return records


def _dead_letter(settings: Settings, reason: str, endpoint: str, position: int, value: bytes) -> Record:
    """The dead-letter record of something refused: why, where it came in, and what it was."""
    document = {
        "reason": reason,
        "source": f"ingest {endpoint}",
        "line": position,
        "value": value.decode("utf-8", errors="replace"),
    }
    return Record(settings.topics.deadletter, None, orjson.dumps(document))
