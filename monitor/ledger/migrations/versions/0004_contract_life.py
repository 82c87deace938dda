"""The contract's life (SPEC.md section 12): the terms and chronic flag of each result, the
adjustments of each month's credit, the customer's claims, and the fingerprints of the terms
each begun month was evaluated under.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-03
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("clause_results") as table:
        table.add_column(sa.Column("chronic", sa.Boolean(), nullable=False, server_default=sa.false()))
        table.add_column(sa.Column("terms", sa.String(200), nullable=False, server_default="base"))
    with op.batch_alter_table("contract_results") as table:
        table.add_column(sa.Column("adjustments", sa.JSON(), nullable=False, server_default="[]"))
        table.add_column(sa.Column("terms", sa.String(200), nullable=False, server_default="base"))
    op.create_table(
        "credit_claims",
        sa.Column("contract", sa.String(128), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("claimed_at", sa.DateTime(), nullable=False),
    )
    op.create_table(
        "term_fingerprints",
        sa.Column("contract", sa.String(128), primary_key=True),
        sa.Column("period", sa.String(7), primary_key=True),
        sa.Column("fingerprint", sa.JSON(), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("term_fingerprints")
    op.drop_table("credit_claims")
    with op.batch_alter_table("contract_results") as table:
        table.drop_column("terms")
        table.drop_column("adjustments")
    with op.batch_alter_table("clause_results") as table:
        table.drop_column("terms")
        table.drop_column("chronic")
