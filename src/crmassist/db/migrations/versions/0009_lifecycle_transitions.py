"""lifecycle transitions: every change of an account's lifecycle stage, with its reason

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02 08:20:00.000000

The stage itself stays on `accounts.lifecycle_stage` (stored as its string value, so the
new stages loyal and at_risk need no schema change); this table keeps its history.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lifecycle_transitions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("from_stage", sa.String(length=20), nullable=True),
        sa.Column("to_stage", sa.String(length=20), nullable=False),
        sa.Column("on", sa.Date(), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("lifecycle_transitions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_lifecycle_transitions_account_id"), ["account_id"])
        batch_op.create_index(batch_op.f("ix_lifecycle_transitions_to_stage"), ["to_stage"])
        batch_op.create_index(batch_op.f("ix_lifecycle_transitions_on"), ["on"])


def downgrade() -> None:
    op.drop_table("lifecycle_transitions")
