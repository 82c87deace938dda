"""The agent that writes the clause results published to ``sla.results`` into the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

import faust
import orjson

from alerting.metrics import Metrics
from monitor.contract import Contract
from monitor.statements.liability import build_liability
from monitor.stream.collaborators import ResultsLedger
from monitor.stream.ledger_calls import call_until_done
from monitor.timeutil import to_us

RESULTS_BATCH = 500
RESULTS_BATCH_SECONDS = 0.5


class LedgerWriter:
    """Results are keyed by contract, so one writer sees every clause of a contract."""

    def __init__(self, ledger: ResultsLedger, metrics: Metrics, contracts: Sequence[Contract] = ()) -> None:
        self._ledger = ledger
        self._metrics = metrics
        self._contracts = contracts

    async def write(self, stream: faust.StreamT) -> None:
        """The agent: clause and detail records into the ledger, then the credit gauges of the
        contracts touched. A batch is acknowledged only once written."""
        async for batch in stream.take(RESULTS_BATCH, within=RESULTS_BATCH_SECONDS):
            records = [orjson.loads(value) for value in batch]
            clauses = [record for record in records if record["record"] == "clause"]
            details = [record for record in records if record["record"] == "details"]
            await call_until_done(self._ledger.record_clause_results, clauses)
            await call_until_done(self._ledger.record_details, details)
            await call_until_done(self._set_credit_gauges, {record["contract"] for record in clauses})

    def _set_credit_gauges(self, contracts: set[str]) -> None:
        """Owed (split by claims at the wall clock) and projected credit of each contract."""
        metrics = self._metrics
        claims = {key: to_us(at) for key, at in self._ledger.read_claims().items()}
        now = to_us(datetime.now(UTC))
        for contract in contracts:
            records = self._ledger.read_results(contract)
            for entry in build_liability(records, self._contracts, None, claims, now):
                labels = (entry.contract, entry.currency)
                metrics.credit_final.labels(*labels).set(float(entry.owed))
                metrics.credit_projected.labels(*labels).set(float(entry.projected))
                for state, gauge in metrics.credit_claims.items():
                    gauge.labels(*labels).set(float(getattr(entry, state)))
