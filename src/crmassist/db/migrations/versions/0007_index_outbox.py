"""index outbox and index state: nothing written to SQL is left out of the index

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02 05:00:00.000000

`index_outbox` holds records (notes logged through crmassist) written to SQL whose index
entry is still owed; the row is written in the record's own transaction and deleted when
the index holds it. `index_state` records facts about the index as a whole, such as a
rebuild that started and has not finished (such an index must not serve as ready).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_outbox",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("source_type", sa.String(length=20), nullable=False),
        sa.Column("record_id", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("index_outbox", schema=None) as batch_op:
        batch_op.create_index("ix_index_outbox_record", ["source_type", "record_id"])
        batch_op.create_index(batch_op.f("ix_index_outbox_next_attempt_at"), ["next_attempt_at"])
    op.create_table(
        "index_state",
        sa.Column("key", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )


def downgrade() -> None:
    op.drop_table("index_state")
    with op.batch_alter_table("index_outbox", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_index_outbox_next_attempt_at"))
        batch_op.drop_index("ix_index_outbox_record")
    op.drop_table("index_outbox")
