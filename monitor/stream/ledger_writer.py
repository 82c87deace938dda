"""The agent that writes the clause results published to ``sla.results`` into the ledger."""

from __future__ import annotations

import faust
import orjson

from alerting.metrics import Metrics
from monitor.engine.liability import liabilities
from monitor.stream.collaborators import ResultsLedger
from monitor.stream.ledger_calls import call_until_done

RESULTS_BATCH = 500
RESULTS_BATCH_SECONDS = 0.5


class LedgerWriter:
    """Results are keyed by contract, so one writer sees every clause of a contract."""

    def __init__(self, ledger: ResultsLedger, metrics: Metrics) -> None:
        self._ledger = ledger
        self._metrics = metrics

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
        metrics = self._metrics
        for contract in contracts:
            for entry in liabilities(self._ledger.read_results(contract)):
                labels = (entry.contract, entry.currency)
                metrics.credit_final.labels(*labels).set(float(entry.owed))
                metrics.credit_projected.labels(*labels).set(float(entry.projected))
