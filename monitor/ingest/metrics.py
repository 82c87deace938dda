"""The ingest service's Prometheus metrics, in a registry of its own (bounded labels only)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Histogram


class IngestMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.events = Counter(
            "slamon_ingest_events",
            "Events and alerts received, by endpoint and outcome (accepted, invalid, ignored)",
            ["endpoint", "outcome"],
            registry=self.registry,
        )
        self.requests = Counter(
            "slamon_ingest_requests",
            "Requests answered, by endpoint and HTTP status code",
            ["endpoint", "code"],
            registry=self.registry,
        )
        self.broker_errors = Counter(
            "slamon_ingest_broker_errors",
            "Requests answered 503 because the broker did not acknowledge their events",
            registry=self.registry,
        )
        self.duration = Histogram(
            "slamon_ingest_request_duration_seconds",
            "Time from a request's arrival to its answer, broker acknowledgement included",
            ["endpoint"],
            registry=self.registry,
        )
