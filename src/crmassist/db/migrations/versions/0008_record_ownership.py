"""record ownership: ticket assignees, account teams, a hierarchy of teams

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02 08:00:00.000000

Visibility follows owners as in Salesforce and HubSpot (see docs/access.md): a ticket
may have an assignee, an account has a team of users beside its owner, and a team may
sit under a parent team, whose managers see everything below it. All three are optional,
so existing data keeps its meaning.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("assignee_id", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_tickets_assignee_id"), ["assignee_id"])
        batch_op.create_foreign_key(
            "fk_tickets_assignee_id_users", "users", ["assignee_id"], ["id"]
        )
    # No foreign key, and no batch copy: users reference teams, so SQLite could not drop
    # the table to rebuild it (nor drop a referencing column later). The importer checks
    # that a parent exists and that parents never loop.
    op.add_column("teams", sa.Column("parent_id", sa.String(length=64), nullable=True))
    op.create_index(op.f("ix_teams_parent_id"), "teams", ["parent_id"])
    op.create_table(
        "account_team",
        sa.Column("id", sa.String(length=130), nullable=False),
        sa.Column("account_id", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=100), nullable=True),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"]),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "user_id", name="uq_account_team_member"),
    )
    with op.batch_alter_table("account_team", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_account_team_account_id"), ["account_id"])
        batch_op.create_index(batch_op.f("ix_account_team_user_id"), ["user_id"])


def downgrade() -> None:
    op.drop_table("account_team")
    op.drop_index(op.f("ix_teams_parent_id"), table_name="teams")
    op.drop_column("teams", "parent_id")
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_constraint("fk_tickets_assignee_id_users", type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_tickets_assignee_id"))
        batch_op.drop_column("assignee_id")
