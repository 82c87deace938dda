"""Webhook delivery: claims on outbox rows (two workers never send one delivery at once), an index
for due deliveries, and the subscriptions' state (disabled by a 410 Gone, when and why).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("webhook_deliveries", sa.Column("claimed_until", sa.DateTime(), nullable=True))
    op.add_column("webhook_deliveries", sa.Column("claimed_by", sa.String(64), nullable=True))
    op.create_index("ix_webhook_deliveries_due", "webhook_deliveries", ["status", "next_attempt_at"])
    op.create_table(
        "webhook_subscriptions",
        sa.Column("name", sa.String(128), primary_key=True),
        sa.Column("disabled_at", sa.DateTime(), nullable=True),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
    )


def downgrade() -> None:
    op.drop_table("webhook_subscriptions")
    op.drop_index("ix_webhook_deliveries_due", table_name="webhook_deliveries")
    with op.batch_alter_table("webhook_deliveries") as batch:  # SQLite drops columns by copying
        batch.drop_column("claimed_by")
        batch.drop_column("claimed_until")
