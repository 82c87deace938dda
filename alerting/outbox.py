"""The durable webhook outbox in the ledger: enqueue, claim, record attempts, list.

Times in the ledger are naive UTC datetimes (as elsewhere in the ledger); the functions here take
and give Unix seconds, and the listings give aware UTC datetimes.

Claiming is a conditional UPDATE (``status = 'pending'`` and no live claim) whose row count says
whether this worker won, so workers sharing a database never send one delivery at the same time.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, Engine, case, func, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, aliased

from alerting.subscriptions import NOTICE_TYPES, Subscription
from monitor.ledger.models import DeliveryAttemptRow, DeliveryRow, NoticeRow, SubscriptionStateRow
from monitor.ledger.writes import rows_changed

PENDING, DELIVERED, DEAD, DISABLED = "pending", "delivered", "dead", "disabled"
STATUSES = (PENDING, DELIVERED, DEAD, DISABLED)


def to_db(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC).replace(tzinfo=None)


def from_db(value: datetime) -> float:
    return value.replace(tzinfo=UTC).timestamp()


def _aware(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(tzinfo=UTC)


def _now(now: float | None) -> float:
    return datetime.now(UTC).timestamp() if now is None else now


def _insert(session: Session) -> Any:
    return (postgresql if session.get_bind().dialect.name == "postgresql" else sqlite).insert


# enqueueing --------------------------------------------------------------------------------
@contextmanager
def _use(target: Session | Engine) -> Iterator[Session]:
    """A caller's session as it is (the caller commits), or a new one on an engine, committed."""
    if isinstance(target, Session):
        yield target
        return
    with Session(target) as session, session.begin():
        yield session


def disabled_subscriptions(target: Session | Engine) -> dict[str, dict[str, Any]]:
    """Subscriptions disabled in the ledger: name -> {disabled_at, reason}."""
    query = select(SubscriptionStateRow).where(SubscriptionStateRow.disabled_at.is_not(None))
    with _use(target) as session:
        return {
            row.name: {"disabled_at": _aware(row.disabled_at), "reason": row.disabled_reason}
            for row in session.scalars(query)
        }


def enqueue(
    target: Session | Engine,
    notice_id: str,
    notice_type: str,
    contract: str,
    subscriptions: Sequence[Subscription],
    now: float | None = None,
) -> int:
    """One pending delivery per matching, not disabled subscription; a delivery that exists is
    kept as it is. Returns how many were added. On a session, the caller commits."""
    return _enqueue_many(target, [(notice_id, notice_type, contract)], subscriptions, now)


def _enqueue_many(
    target: Session | Engine,
    notices: Iterable[tuple[str, str, str]],
    subscriptions: Sequence[Subscription],
    now: float | None,
) -> int:
    created = to_db(_now(now))
    added = 0
    with _use(target) as session:
        disabled = disabled_subscriptions(session)
        insert = _insert(session)
        for notice_id, notice_type, contract in notices:
            for subscription in subscriptions:
                if subscription.name in disabled or not subscription.matches(notice_type, contract):
                    continue
                statement = (
                    insert(DeliveryRow)
                    .values(
                        notice_id=notice_id,
                        subscription=subscription.name,
                        status=PENDING,
                        attempts=0,
                        next_attempt_at=created,
                        created_at=created,
                    )
                    .on_conflict_do_nothing(index_elements=["notice_id", "subscription"])
                )
                added += rows_changed(session, statement) or 0
    return added


class Outbox:
    """The outbox as the live worker uses it: ``enqueue_all`` of stored notice records."""

    def __init__(self, engine: Engine, subscriptions: Sequence[Subscription]) -> None:
        self.engine = engine
        self.subscriptions = list(subscriptions)

    def enqueue_all(self, notices: Iterable[Mapping[str, Any]], now: float | None = None) -> int:
        """``notices`` have ``id``, ``type`` and ``contract`` and are already in the ledger."""
        rows = [(n["id"], n["type"], n["contract"]) for n in notices]
        if not rows or not self.subscriptions:
            return 0
        return _enqueue_many(self.engine, rows, self.subscriptions, now)

    def enqueue_unqueued(self, now: float | None = None) -> int:
        """Deliveries for the notices in the ledger that have none yet. A worker killed between
        storing a batch of notices and queueing their deliveries leaves such notices behind when
        the batch is not read again; this sweep makes good on them (it is idempotent)."""
        if not self.subscriptions:
            return 0
        queued = select(DeliveryRow.id).where(DeliveryRow.notice_id == NoticeRow.id).exists()
        with Session(self.engine) as session:
            rows = session.execute(
                select(NoticeRow.id, NoticeRow.type, NoticeRow.contract).where(~queued).order_by(NoticeRow.id)
            ).all()
        notices = [(row.id, row.type, row.contract) for row in rows]
        return _enqueue_many(self.engine, notices, self.subscriptions, now) if notices else 0


# claiming and recording --------------------------------------------------------------------
@dataclass(frozen=True)
class Claimed:
    """A delivery this worker holds until ``claimed_until``."""

    id: int
    notice_id: str
    subscription: str
    attempts: int
    created: float
    payload: dict[str, Any]


def _stage(notice_type: Any) -> ColumnElement[int]:
    """A notice type's place in a period's story: at risk, breached, closed."""
    return case({name: rank for rank, name in enumerate(NOTICE_TYPES)}, value=notice_type, else_=0)


def _waits_for_predecessor() -> ColumnElement[bool]:
    """The delivery (joined with its notice) has a pending delivery to the same subscription
    of an earlier notice of the same clause and period: that one goes first."""
    earlier = aliased(DeliveryRow)
    earlier_notice = aliased(NoticeRow)
    return (
        select(earlier.id)
        .join(earlier_notice, earlier_notice.id == earlier.notice_id)
        .where(
            earlier.subscription == DeliveryRow.subscription,
            earlier.status == PENDING,
            earlier_notice.contract == NoticeRow.contract,
            earlier_notice.clause == NoticeRow.clause,
            earlier_notice.period == NoticeRow.period,
            _stage(earlier_notice.type) < _stage(NoticeRow.type),
        )
        .exists()
    )


def due(
    engine: Engine, now: float, subscriptions: Collection[str], limit: int = 100
) -> list[tuple[int, str]]:
    """(id, subscription) of pending deliveries that are due and not claimed, for these (not
    disabled) subscriptions, the longest waiting first. A notice waits while a subscription
    still has an earlier notice of the same clause and period pending (at risk, then breached,
    then closed): a receiver never gets a month's close before its at-risk warning, unless
    that warning is dead or disabled."""
    if not subscriptions:
        return []
    at = to_db(now)
    query = (
        select(DeliveryRow.id, DeliveryRow.subscription)
        .join(NoticeRow, NoticeRow.id == DeliveryRow.notice_id)
        .where(
            ~_waits_for_predecessor(),
            DeliveryRow.status == PENDING,
            DeliveryRow.next_attempt_at <= at,
            or_(DeliveryRow.claimed_until.is_(None), DeliveryRow.claimed_until < at),
            DeliveryRow.subscription.in_(sorted(subscriptions)),
            DeliveryRow.subscription.not_in(
                select(SubscriptionStateRow.name).where(SubscriptionStateRow.disabled_at.is_not(None))
            ),
        )
        .order_by(DeliveryRow.next_attempt_at, DeliveryRow.id)
        .limit(limit)
    )
    with Session(engine) as session:
        return [(delivery_id, name) for delivery_id, name in session.execute(query)]


def claim(engine: Engine, delivery_id: int, worker: str, now: float, lease: float) -> Claimed | None:
    """Take a due delivery for ``lease`` seconds; None if another worker has it or it is not due."""
    at = to_db(now)
    with Session(engine) as session, session.begin():
        won = rows_changed(
            session,
            update(DeliveryRow)
            .where(
                DeliveryRow.id == delivery_id,
                DeliveryRow.status == PENDING,
                DeliveryRow.next_attempt_at <= at,
                or_(DeliveryRow.claimed_until.is_(None), DeliveryRow.claimed_until < at),
            )
            .values(claimed_until=to_db(now + lease), claimed_by=worker),
        )
        if won != 1:
            return None
        row = session.execute(
            select(DeliveryRow, NoticeRow.payload)
            .join(NoticeRow, NoticeRow.id == DeliveryRow.notice_id)
            .where(DeliveryRow.id == delivery_id)
        ).one()
        delivery: DeliveryRow = row[0]
        return Claimed(
            delivery.id,
            delivery.notice_id,
            delivery.subscription,
            delivery.attempts,
            from_db(delivery.created_at),
            row[1],
        )


@dataclass(frozen=True)
class Attempt:
    """What one attempt found and what follows from it."""

    at: float
    status_code: int | None
    error: str | None
    duration: float
    outcome: str  # delivered | failed | dead | disabled
    next_attempt: float | None = None


def record_attempt(engine: Engine, claimed: Claimed, worker: str, attempt: Attempt) -> bool:
    """Store the attempt and the delivery's new state, releasing the claim. A 410 (outcome
    ``disabled``) also disables the subscription and its other pending deliveries. Returns False
    if the claim had been lost (the attempt is still recorded, the state left alone)."""
    status = {"delivered": DELIVERED, "failed": PENDING, "dead": DEAD, "disabled": DISABLED}[attempt.outcome]
    at = to_db(attempt.at)
    with Session(engine) as session, session.begin():
        session.add(
            DeliveryAttemptRow(
                delivery_id=claimed.id,
                attempted_at=at,
                status_code=attempt.status_code,
                error=attempt.error,
                duration_seconds=attempt.duration,
            )
        )
        session.flush()
        kept = rows_changed(
            session,
            update(DeliveryRow)
            .where(
                DeliveryRow.id == claimed.id, DeliveryRow.claimed_by == worker, DeliveryRow.status == PENDING
            )
            .values(
                status=status,
                attempts=DeliveryRow.attempts + 1,
                last_attempt_at=at,
                last_status_code=attempt.status_code,
                last_error=attempt.error,
                next_attempt_at=to_db(attempt.next_attempt) if attempt.next_attempt is not None else None,
                delivered_at=at if status == DELIVERED else None,
                claimed_until=None,
                claimed_by=None,
            ),
        )
        if attempt.outcome == "disabled":
            reason = f"410 Gone in reply to notice {claimed.notice_id}"
            _disable(session, claimed.subscription, reason, at)
    return kept == 1


def _disable(session: Session, name: str, reason: str, at: datetime) -> None:
    values = {"name": name, "disabled_at": at, "disabled_reason": reason}
    statement = _insert(session)(SubscriptionStateRow).values(**values)
    session.execute(
        statement.on_conflict_do_update(
            index_elements=["name"], set_={"disabled_at": at, "disabled_reason": reason}
        )
    )
    session.execute(
        update(DeliveryRow)
        .where(DeliveryRow.subscription == name, DeliveryRow.status == PENDING)
        .values(status=DISABLED, next_attempt_at=None, claimed_until=None, claimed_by=None)
    )


def disable_subscription(engine: Engine, name: str, reason: str, now: float | None = None) -> None:
    """Disable a subscription by hand: its pending deliveries become ``disabled``."""
    with Session(engine) as session, session.begin():
        _disable(session, name, reason, to_db(_now(now)))


def enable_subscription(engine: Engine, name: str) -> bool:
    """Enable a disabled subscription again (its disabled deliveries stay as they are)."""
    with Session(engine) as session, session.begin():
        return (
            rows_changed(
                session,
                update(SubscriptionStateRow)
                .where(SubscriptionStateRow.name == name, SubscriptionStateRow.disabled_at.is_not(None))
                .values(disabled_at=None, disabled_reason=None),
            )
            == 1
        )


# reading -----------------------------------------------------------------------------------
def list_deliveries(engine: Engine, status: str | None = None) -> list[dict[str, Any]]:
    """Deliveries, oldest first, optionally of one status (pending, delivered, dead, disabled)."""
    if status is not None and status not in STATUSES:
        raise ValueError(f"unknown delivery status {status!r}; expected one of {STATUSES}")
    query = select(DeliveryRow).order_by(DeliveryRow.created_at, DeliveryRow.id)
    if status is not None:
        query = query.where(DeliveryRow.status == status)
    with Session(engine) as session:
        return [
            {
                "id": row.id,
                "notice_id": row.notice_id,
                "subscription": row.subscription,
                "status": row.status,
                "attempts": row.attempts,
                "last_status_code": row.last_status_code,
                "last_error": row.last_error,
                "last_attempt_at": _aware(row.last_attempt_at),
                "next_attempt_at": _aware(row.next_attempt_at),
                "created_at": _aware(row.created_at),
                "delivered_at": _aware(row.delivered_at),
            }
            for row in session.scalars(query)
        ]


def list_attempts(engine: Engine, notice_id: str) -> list[dict[str, Any]]:
    """Every attempt to deliver a notice, to every subscription, in time order."""
    query = (
        select(DeliveryAttemptRow, DeliveryRow.subscription)
        .join(DeliveryRow, DeliveryRow.id == DeliveryAttemptRow.delivery_id)
        .where(DeliveryRow.notice_id == notice_id)
        .order_by(DeliveryAttemptRow.attempted_at, DeliveryAttemptRow.id)
    )
    with Session(engine) as session:
        return [
            {
                "notice_id": notice_id,
                "subscription": subscription,
                "attempted_at": _aware(attempt.attempted_at),
                "status_code": attempt.status_code,
                "error": attempt.error,
                "duration_seconds": attempt.duration_seconds,
            }
            for attempt, subscription in session.execute(query)
        ]


@dataclass(frozen=True)
class OutboxStats:
    backlog: int  # pending deliveries
    oldest_age: float  # seconds since the oldest pending delivery was created (0 if none)
    dead: int  # dead or disabled deliveries, waiting for a person


def outbox_stats(engine: Engine, now: float | None = None) -> OutboxStats:
    with Session(engine) as session:
        backlog, oldest = session.execute(
            select(func.count(), func.min(DeliveryRow.created_at)).where(DeliveryRow.status == PENDING)
        ).one()
        dead = session.scalar(select(func.count()).where(DeliveryRow.status.in_((DEAD, DISABLED))))
    age = max(0.0, _now(now) - from_db(oldest)) if oldest is not None else 0.0
    return OutboxStats(int(backlog), age, int(dead or 0))
