"""The ledger store: idempotent writes of period results, reads in the replay format."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from monitor.contract import Contract
from monitor.engine.credits import contract_records
from monitor.engine.results import record_sort_key
from monitor.ledger.models import (
    ClauseResultRow,
    ContractResultRow,
    CreditClaimRow,
    NoticeRow,
    PeriodDetailsRow,
    TermFingerprintRow,
)
from monitor.ledger.schema import upgrade
from monitor.ledger.writes import rows_changed
from monitor.terms import BASE_TERMS, Fingerprint, contract_terms, month_fingerprint

CLAUSE_FIELDS = (
    "final",
    "attained_percent",
    "target_percent",
    "met",
    "consecutive_breaches",
    "credit_percent",
    "remedies",
    "chronic",
    "terms",
)
CONTRACT_FIELDS = ("final", "credit_percent", "credit_amount", "currency", "adjustments", "terms")
# records written before SPEC.md section 12 (or by older writers) lack these fields
RECORD_DEFAULTS: dict[str, Any] = {"chronic": False, "terms": BASE_TERMS, "adjustments": []}
DETAIL_KEYS = ("contract", "clause", "period")


def connect(url: str) -> Engine:
    engine = create_engine(url, pool_pre_ping=True)
    if engine.dialect.name == "sqlite":

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(connection: Any, _: Any) -> None:
            cursor = connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA busy_timeout=10000")
            cursor.close()

    return engine


class Ledger:
    def __init__(self, url: str, contracts: Sequence[Contract] = ()) -> None:
        upgrade(url)
        self.engine = connect(url)
        self.contracts = {c.id: c for c in contracts}

    def close(self) -> None:
        self.engine.dispose()

    # writing -----------------------------------------------------------------------------
    def _upsert(
        self,
        session: Session,
        model: type,
        keys: tuple[str, ...],
        fields: tuple[str, ...],
        row: dict,
        final_is_fixed: bool = False,
    ) -> None:
        """Insert or overwrite, except that a provisional row never overwrites a final one
        (and with ``final_is_fixed``, nothing overwrites a final one)."""
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        values = {name: row[name] if name in row else RECORD_DEFAULTS[name] for name in (*keys, *fields)}
        statement = dialect.insert(model).values(**values)
        table = model.__table__  # type: ignore[attr-defined]
        statement = statement.on_conflict_do_update(
            index_elements=list(keys),
            set_={name: statement.excluded[name] for name in fields},
            where=(~table.c.final if final_is_fixed else statement.excluded.final | ~table.c.final),
        )
        session.execute(statement)

    def write_results(self, records: Iterable[dict[str, Any]]) -> None:
        """Write replay-format records as they are (idempotent; final beats provisional)."""
        with Session(self.engine) as session, session.begin():
            for record in records:
                if record["record"] == "clause":
                    self._upsert(
                        session, ClauseResultRow, ("contract", "clause", "period"), CLAUSE_FIELDS, record
                    )
                else:
                    self._upsert(session, ContractResultRow, ("contract", "period"), CONTRACT_FIELDS, record)

    def record_clause_results(self, records: Sequence[dict[str, Any]]) -> None:
        """Write clause records from the live worker and recompute their contracts' records
        (with the engine's own function) from every clause record of those periods."""
        touched = {(r["contract"], r["period"]) for r in records if r["contract"] in self.contracts}
        with Session(self.engine) as session, session.begin():
            for record in records:
                self._upsert(
                    session, ClauseResultRow, ("contract", "clause", "period"), CLAUSE_FIELDS, record
                )
            for contract_id in {contract for contract, _ in touched}:
                periods = sorted(p for c, p in touched if c == contract_id)
                self._note_fingerprints(session, self.contracts[contract_id], periods)
                rows = session.scalars(
                    select(ClauseResultRow).where(ClauseResultRow.contract == contract_id)
                ).all()
                clause_rows = sorted((_clause_record(row) for row in rows), key=record_sort_key)
                for record in contract_records(self.contracts[contract_id], clause_rows):
                    # a month's annual cap depends on the earlier months of its contract year
                    if record["period"] >= periods[0]:
                        self._upsert(
                            session, ContractResultRow, ("contract", "period"), CONTRACT_FIELDS, record
                        )

    def _note_fingerprints(self, session: Session, contract: Contract, periods: Sequence[str]) -> None:
        """Keep the terms each month was first evaluated under (the first version stays)."""
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        terms = contract_terms(contract)
        for period in periods:
            values = {
                "contract": contract.id,
                "period": period,
                "fingerprint": month_fingerprint(contract, period, terms),
            }
            session.execute(dialect.insert(TermFingerprintRow).values(**values).on_conflict_do_nothing())

    def record_fingerprints(self, contract: Contract, periods: Sequence[str]) -> None:
        with Session(self.engine) as session, session.begin():
            self._note_fingerprints(session, contract, periods)

    def read_fingerprints(self) -> dict[tuple[str, str], Fingerprint]:
        """``(contract, period) -> fingerprint`` of every month begun."""
        with Session(self.engine) as session:
            rows = session.scalars(select(TermFingerprintRow))
            return {(row.contract, row.period): dict(row.fingerprint) for row in rows}

    def record_claim(self, contract: str, period: str, at: datetime) -> datetime:
        """Record that the customer claimed a month's credit at ``at`` (aware). Idempotent:
        a month claimed before keeps its first claim time, which is returned."""
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        moment = at.astimezone(UTC).replace(tzinfo=None)
        with Session(self.engine) as session, session.begin():
            session.execute(
                dialect.insert(CreditClaimRow)
                .values(contract=contract, period=period, claimed_at=moment)
                .on_conflict_do_nothing()
            )
            stored = session.get(CreditClaimRow, (contract, period))
            assert stored is not None
            return stored.claimed_at.replace(tzinfo=UTC)

    def read_claims(self) -> dict[tuple[str, str], datetime]:
        """``(contract, period) -> when it was claimed`` (UTC)."""
        with Session(self.engine) as session:
            rows = session.scalars(select(CreditClaimRow))
            return {(row.contract, row.period): row.claimed_at.replace(tzinfo=UTC) for row in rows}

    def record_details(self, records: Sequence[dict[str, Any]]) -> None:
        """Write detail records (idempotent; final beats provisional, like the results)."""
        with Session(self.engine) as session, session.begin():
            for record in records:
                # the first final version wins: later ones may have forgotten old maintenance
                self._upsert(session, PeriodDetailsRow, DETAIL_KEYS, ("final", "details"), record, True)

    def read_details(self, contract: str, period: str) -> dict[str, dict[str, Any]]:
        """Per clause id: ``{"final": ..., "details": ...}`` of one contract's period."""
        with Session(self.engine) as session:
            rows = session.scalars(
                select(PeriodDetailsRow).where(
                    PeriodDetailsRow.contract == contract, PeriodDetailsRow.period == period
                )
            )
            return {row.clause: {"final": row.final, "details": row.details} for row in rows}

    def record_notices(self, notices: Sequence[dict[str, Any]]) -> list[str]:
        """Store notices (``id``, ``type``, ``contract``, ``clause``, ``period``, ``payload``).
        An id already stored keeps its first version. Returns the ids stored now, each once:
        an id given twice, or stored meanwhile by another worker, is not among them."""
        if not notices:
            return []
        ids = [n["id"] for n in notices]
        now = datetime.now(UTC).replace(tzinfo=None)
        stored = []
        dialect = postgresql if self.engine.dialect.name == "postgresql" else sqlite
        with Session(self.engine) as session, session.begin():
            known = set(session.scalars(select(NoticeRow.id).where(NoticeRow.id.in_(ids))))
            fresh = {n["id"]: n for n in notices if n["id"] not in known}
            for notice in fresh.values():
                values = {k: notice[k] for k in ("id", "type", "contract", "clause", "period", "payload")}
                inserted = rows_changed(
                    session,
                    dialect.insert(NoticeRow).values(**values, created_at=now).on_conflict_do_nothing(),
                )
                if inserted:
                    stored.append(notice["id"])
        return stored

    def read_notices(self, contract: str | None = None) -> list[dict[str, Any]]:
        with Session(self.engine) as session:
            query = select(NoticeRow).order_by(NoticeRow.created_at, NoticeRow.id)
            if contract is not None:
                query = query.where(NoticeRow.contract == contract)
            return [
                {
                    "id": row.id,
                    "type": row.type,
                    "contract": row.contract,
                    "clause": row.clause,
                    "period": row.period,
                    "created_at": row.created_at,
                    "payload": row.payload,
                }
                for row in session.scalars(query)
            ]

    # reading -----------------------------------------------------------------------------
    def read_results(self, contract: str | None = None) -> list[dict[str, Any]]:
        with Session(self.engine) as session:
            clauses = select(ClauseResultRow)
            contracts = select(ContractResultRow)
            if contract is not None:
                clauses = clauses.where(ClauseResultRow.contract == contract)
                contracts = contracts.where(ContractResultRow.contract == contract)
            records = [_clause_record(r) for r in session.scalars(clauses)]
            records += [_contract_record(r) for r in session.scalars(contracts)]
        return sorted(records, key=record_sort_key)


def _clause_record(row: ClauseResultRow) -> dict[str, Any]:
    return {
        "record": "clause",
        "contract": row.contract,
        "clause": row.clause,
        "period": row.period,
        "final": row.final,
        "attained_percent": row.attained_percent,
        "target_percent": row.target_percent,
        "met": row.met,
        "consecutive_breaches": row.consecutive_breaches,
        "credit_percent": row.credit_percent,
        "remedies": list(row.remedies),
        "chronic": row.chronic,
        "terms": row.terms,
    }


def _contract_record(row: ContractResultRow) -> dict[str, Any]:
    return {
        "record": "contract",
        "contract": row.contract,
        "period": row.period,
        "final": row.final,
        "credit_percent": row.credit_percent,
        "credit_amount": row.credit_amount,
        "currency": row.currency,
        "adjustments": list(row.adjustments),
        "terms": row.terms,
    }
