"""opportunity product and created date

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 23:20:00.000000
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("product", sa.String(length=200), nullable=True))
        batch_op.add_column(sa.Column("created_date", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("opportunities", schema=None) as batch_op:
        batch_op.drop_column("created_date")
        batch_op.drop_column("product")
