"""Prometheus Alertmanager's webhook (version 4) turned into status events (SPEC.md section 13).

A firing alert is a ``down`` at ``startsAt``, a resolved one an ``up`` at ``endsAt``, for the
service its service label names. The event id is built from the alert's fingerprint, the status
and that time, so Alertmanager's re-sends of one notification give the same ids (duplicates the
worker ignores) while a new firing of the same alert (a new ``startsAt``) is a new event.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from monitor.events import InvalidEvent, validate_event
from monitor.ingest.selector import Selector
from monitor.timeutil import format_instant, to_us

Fingerprint = Annotated[str, StringConstraints(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9]+$")]


class Alert(BaseModel):
    """One alert of a notification; fields the product does not use are allowed and ignored."""

    model_config = ConfigDict(extra="ignore")

    status: Literal["firing", "resolved"]
    labels: dict[str, str]
    annotations: dict[str, str] = Field(default_factory=dict)
    startsAt: AwareDatetime
    endsAt: AwareDatetime | None = None
    generatorURL: str = ""
    fingerprint: Fingerprint


class Notification(BaseModel):
    """Alertmanager's webhook body, ``"version": "4"``."""

    model_config = ConfigDict(extra="ignore")

    version: Literal["4"]
    status: Literal["firing", "resolved"] | None = None
    receiver: str = ""
    groupKey: str = ""
    truncatedAlerts: int = 0
    groupLabels: dict[str, str] = Field(default_factory=dict)
    commonLabels: dict[str, str] = Field(default_factory=dict)
    commonAnnotations: dict[str, str] = Field(default_factory=dict)
    externalURL: str = ""
    alerts: list[Alert]


Outcome = Literal["accepted", "ignored", "invalid"]


@dataclass(frozen=True)
class AlertOutcome:
    """What became of one alert: ``event`` is the status event when ``outcome`` is accepted,
    or the event that failed validation when it is invalid."""

    index: int
    fingerprint: str
    outcome: Outcome
    reason: str | None = None
    event: dict[str, Any] | None = None


def status_events(notification: Notification, selector: Selector, service_label: str) -> list[AlertOutcome]:
    """One outcome per alert, in the notification's order."""
    return [
        _outcome(index, alert, selector, service_label)
        for index, alert in enumerate(notification.alerts, start=1)
    ]


def _outcome(index: int, alert: Alert, selector: Selector, service_label: str) -> AlertOutcome:
    fingerprint = alert.fingerprint
    if not selector.matches(alert.labels):
        return AlertOutcome(index, fingerprint, "ignored", f"labels do not match the selector {selector}")
    service = alert.labels.get(service_label, "")
    if not service:
        return AlertOutcome(index, fingerprint, "ignored", f"no {service_label!r} label")
    if alert.status == "firing":
        status, moment = "down", alert.startsAt
    elif alert.endsAt is None or alert.endsAt.year < 1970:
        return AlertOutcome(index, fingerprint, "invalid", "a resolved alert needs 'endsAt'")
    else:
        status, moment = "up", alert.endsAt
    event = _event(fingerprint, service, status, moment)
    try:
        validate_event(event)
    except InvalidEvent as error:
        return AlertOutcome(index, fingerprint, "invalid", error.reason, event)
    return AlertOutcome(index, fingerprint, "accepted", None, event)


def _event(fingerprint: str, service: str, status: str, moment: datetime) -> dict[str, Any]:
    at = format_instant(to_us(moment))
    return {
        "event_id": f"alertmanager:{fingerprint}:{status}:{at}",
        "type": "status",
        "service": service,
        "status": status,
        "at": at,
    }
