"""The ledger's tables (SQLAlchemy 2). Changed only through Alembic migrations."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Double,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class ClauseResultRow(Base):
    """One clause in one period, provisional or final (the replay record)."""

    __tablename__ = "clause_results"

    contract: Mapped[str] = mapped_column(String(128), primary_key=True)
    clause: Mapped[str] = mapped_column(String(128), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    final: Mapped[bool] = mapped_column(Boolean)
    attained_percent: Mapped[float] = mapped_column(Double)
    target_percent: Mapped[float] = mapped_column(Double)
    met: Mapped[bool] = mapped_column(Boolean)
    consecutive_breaches: Mapped[int] = mapped_column(Integer)
    credit_percent: Mapped[float] = mapped_column(Double)
    remedies: Mapped[list[str]] = mapped_column(JSON)
    chronic: Mapped[bool] = mapped_column(Boolean, server_default=false())  # 0004
    terms: Mapped[str] = mapped_column(String(200), server_default="base")  # 0004


class ContractResultRow(Base):
    """A contract's credit in one period, after the cap."""

    __tablename__ = "contract_results"

    contract: Mapped[str] = mapped_column(String(128), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    final: Mapped[bool] = mapped_column(Boolean)
    credit_percent: Mapped[float] = mapped_column(Double)
    credit_amount: Mapped[str] = mapped_column(String(40))  # exact decimal text, e.g. "1200.00"
    currency: Mapped[str] = mapped_column(String(3))
    adjustments: Mapped[list[str]] = mapped_column(JSON, server_default="[]")  # 0004
    terms: Mapped[str] = mapped_column(String(200), server_default="base")  # 0004


class CreditClaimRow(Base):
    """The customer claimed a month's credit (``slamon claim``) (0004)."""

    __tablename__ = "credit_claims"

    contract: Mapped[str] = mapped_column(String(128), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    claimed_at: Mapped[datetime] = mapped_column()  # UTC, naive


class TermFingerprintRow(Base):
    """The terms a begun month was evaluated under, one digest per key (0004)."""

    __tablename__ = "term_fingerprints"

    contract: Mapped[str] = mapped_column(String(128), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    fingerprint: Mapped[dict[str, str]] = mapped_column(JSON)


class NoticeRow(Base):
    """A notice (at risk, breached, period closed); its id is deterministic, so it is stored once."""

    __tablename__ = "notices"

    id: Mapped[str] = mapped_column(String(200), primary_key=True)
    type: Mapped[str] = mapped_column(String(40))
    contract: Mapped[str] = mapped_column(String(128), index=True)
    clause: Mapped[str | None] = mapped_column(String(128))
    period: Mapped[str] = mapped_column(String(7))
    created_at: Mapped[datetime] = mapped_column()
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)


class DeliveryRow(Base):
    """The webhook outbox: one delivery of a notice to a subscription."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("notice_id", "subscription"),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),  # added by 0002
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    notice_id: Mapped[str] = mapped_column(ForeignKey("notices.id"))
    subscription: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16), index=True)  # pending|delivered|dead|disabled
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column()
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column()
    delivered_at: Mapped[datetime | None] = mapped_column()
    # added by 0002: a worker holds a delivery until claimed_until while it sends it
    claimed_until: Mapped[datetime | None] = mapped_column()
    claimed_by: Mapped[str | None] = mapped_column(String(64))


class DeliveryAttemptRow(Base):
    """Each attempt of a delivery, so the retry schedule can be seen."""

    __tablename__ = "delivery_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    delivery_id: Mapped[int] = mapped_column(ForeignKey("webhook_deliveries.id"), index=True)
    attempted_at: Mapped[datetime] = mapped_column()
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_seconds: Mapped[float] = mapped_column(Double)


class SubscriptionStateRow(Base):
    """What the ledger knows about a subscription: disabled (by a 410 Gone), when and why (0002)."""

    __tablename__ = "webhook_subscriptions"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    disabled_at: Mapped[datetime | None] = mapped_column()
    disabled_reason: Mapped[str | None] = mapped_column(Text)


class PeriodDetailsRow(Base):
    """The detail behind a clause's period (outages, maintenance excluded, missed tickets) (0003)."""

    __tablename__ = "period_details"

    contract: Mapped[str] = mapped_column(String(128), primary_key=True)
    clause: Mapped[str] = mapped_column(String(128), primary_key=True)
    period: Mapped[str] = mapped_column(String(7), primary_key=True)
    final: Mapped[bool] = mapped_column(Boolean)
    details: Mapped[dict[str, Any]] = mapped_column(JSON)
