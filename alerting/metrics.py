"""The worker's Prometheus metrics (SPEC.md section 7).

Names follow the Prometheus conventions: a ``slamon_`` namespace, base units in the name
(``_seconds``, ``_ratio``), ``_total`` on counters. Label sets are bounded by configuration
(contracts, clauses, topics, partitions, subscriptions): never a period or a ticket id.
Everything lives in one registry, so tests and several apps in one process stay apart.
"""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

CLAIM_HELP = {
    "claimed": "claimed by the customer",
    "claimable": "not claimed yet, its claim window still open",
    "expired": "not claimed within claim_within",
}


class Metrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry if registry is not None else CollectorRegistry()
        clause = ("contract", "clause")
        self.attainment = self._gauge(
            "slamon_clause_attainment_ratio",
            "Attained share of the open period so far (uptime or on-time tickets), 0-1.",
            clause,
        )
        self.target = self._gauge(
            "slamon_clause_target_ratio", "The clause's target for the open period, 0-1.", clause
        )
        self.budget_remaining = self._gauge(
            "slamon_clause_error_budget_remaining_ratio",
            "Share of the open period's error budget not yet used; negative once overspent.",
            clause,
        )
        self.breached = self._gauge(
            "slamon_clause_breached",
            "1 when the open period can no longer be met (or, for tickets, is below target now).",
            clause,
        )
        self.consecutive = self._gauge(
            "slamon_clause_consecutive_breaches",
            "Consecutive breached periods up to and including the open one.",
            clause,
        )
        self.paused_tickets = self._gauge(
            "slamon_clause_tickets_paused",
            "Open tickets of a pausable response-time clause that are paused now (waiting on the customer).",
            clause,
        )
        self.credit_final = self._gauge(
            "slamon_contract_credit_final_amount",
            "Credit owed for the contract's final periods, summed, in the contract currency.",
            ("contract", "currency"),
        )
        self.credit_projected = self._gauge(
            "slamon_contract_credit_projected_amount",
            "Credit the open period would owe if it closed now, in the contract currency.",
            ("contract", "currency"),
        )
        # the owed credit split by the customer's claims (SPEC.md section 12)
        self.credit_claims = {
            state: self._gauge(
                f"slamon_contract_credit_{state}_amount",
                f"Credit owed for final periods, {CLAIM_HELP[state]}, in the contract currency.",
                ("contract", "currency"),
            )
            for state in ("claimed", "claimable", "expired")
        }
        self.events = Counter(
            "slamon_events_total",
            "Input events by topic and outcome (applied, duplicate, late, invalid, future).",
            ("topic", "outcome"),
            registry=self.registry,
        )
        self.watermark = self._gauge(
            "slamon_watermark_timestamp_seconds",
            "The engine clock (watermark) of an input partition, as a Unix time.",
            ("stream", "partition"),
        )
        self.consumer_lag = self._gauge(
            "slamon_consumer_lag_messages",
            "Messages in an input partition not yet read by this worker.",
            ("topic", "partition"),
        )
        self.notices = Counter(
            "slamon_notices_total",
            "Notices recorded in the ledger, by type.",
            ("type",),
            registry=self.registry,
        )
        self.deliveries = Counter(
            "slamon_webhook_deliveries_total",
            "Webhook delivery attempts by subscription and outcome (delivered, failed, dead, disabled).",
            ("subscription", "outcome"),
            registry=self.registry,
        )
        self.outbox_backlog = self._gauge(
            "slamon_webhook_outbox_backlog", "Webhook deliveries waiting in the outbox (pending)."
        )
        self.outbox_oldest_age = self._gauge(
            "slamon_webhook_outbox_oldest_age_seconds", "Age of the oldest pending webhook delivery."
        )
        self.dead_deliveries = self._gauge(
            "slamon_webhook_dead_deliveries",
            "Webhook deliveries marked dead or disabled, waiting for a person.",
        )

    def _gauge(self, name: str, documentation: str, labels: tuple[str, ...] = ()) -> Gauge:
        return Gauge(name, documentation, labels, registry=self.registry)
