"""record origin: notes and tasks say whether an import or crmassist created them

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-02 04:00:00.000000

`crmassist import --prune` deletes only what an export owns. Rows that exist before
this revision are classified once: tasks are never imported, so they are crmassist's;
a note is crmassist's when it carries an idempotency key or the id shape crmassist
gives notes (`N-` and 12 hex digits), the export's otherwise.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("interactions", "tasks"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "origin", sa.String(length=20), nullable=False, server_default="crmassist"
                )
            )
    interactions = sa.table(
        "interactions",
        sa.column("id", sa.String),
        sa.column("idempotency_key", sa.String),
        sa.column("origin", sa.String),
    )
    created_here = sa.and_(interactions.c.id.like("N-%"), sa.func.length(interactions.c.id) == 14)
    op.execute(
        interactions.update()
        .where(interactions.c.idempotency_key.is_(None), sa.not_(created_here))
        .values(origin="import")
    )


def downgrade() -> None:
    for table in ("tasks", "interactions"):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("origin")
