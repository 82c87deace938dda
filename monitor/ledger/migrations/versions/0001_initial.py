"""The ledger: period results, contract credits, notices and the webhook outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "clause_results",
        sa.Column("contract", sa.String(128), primary_key=True),
        sa.Column("clause", sa.String(128), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("attained_percent", sa.Double(), nullable=False),
        sa.Column("target_percent", sa.Double(), nullable=False),
        sa.Column("met", sa.Boolean(), nullable=False),
        sa.Column("consecutive_breaches", sa.Integer(), nullable=False),
        sa.Column("credit_percent", sa.Double(), nullable=False),
        sa.Column("remedies", sa.JSON(), nullable=False),
    )
    op.create_table(
        "contract_results",
        sa.Column("contract", sa.String(128), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("final", sa.Boolean(), nullable=False),
        sa.Column("credit_percent", sa.Double(), nullable=False),
        sa.Column("credit_amount", sa.String(40), nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
    )
    op.create_table(
        "notices",
        sa.Column("id", sa.String(200), primary_key=True),
        sa.Column("type", sa.String(40), nullable=False),
        sa.Column("contract", sa.String(128), nullable=False),
        sa.Column("clause", sa.String(128), nullable=True),
        sa.Column("period", sa.String(7), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
    )
    op.create_index("ix_notices_contract", "notices", ["contract"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("notice_id", sa.String(200), sa.ForeignKey("notices.id"), nullable=False),
        sa.Column("subscription", sa.String(128), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("delivered_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("notice_id", "subscription"),
    )
    op.create_index("ix_webhook_deliveries_status", "webhook_deliveries", ["status"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("delivery_id", sa.Integer(), sa.ForeignKey("webhook_deliveries.id"), nullable=False),
        sa.Column("attempted_at", sa.DateTime(), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("duration_seconds", sa.Double(), nullable=False),
    )
    op.create_index("ix_delivery_attempts_delivery_id", "delivery_attempts", ["delivery_id"])


def downgrade() -> None:
    op.drop_table("delivery_attempts")
    op.drop_table("webhook_deliveries")
    op.drop_table("notices")
    op.drop_table("contract_results")
    op.drop_table("clause_results")
