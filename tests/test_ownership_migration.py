"""Revision 0008 (ticket assignees, account teams, parent teams) on data made before it."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic import command

from crmassist.db import upgrade_schema
from crmassist.db.migrate import alembic_config, current_revision


def _insert_before_0008(conn: sa.Connection) -> None:
    conn.execute(sa.text("INSERT INTO teams (id, name) VALUES ('west', 'West')"))
    conn.execute(
        sa.text(
            "INSERT INTO users (id, name, email, role, team_id) "
            "VALUES ('u1', 'Ann', 'ann@example.com', 'rep', 'west')"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO accounts (id, name, owner_id, lifecycle_stage) "
            "VALUES ('a1', 'Acme', 'u1', 'lead')"
        )
    )
    conn.execute(
        sa.text(
            "INSERT INTO tickets (id, account_id, subject, body, status, priority, created_at) "
            "VALUES ('t1', 'a1', 'Leak', 'It leaks', 'open', 'high', '2026-01-01 00:00:00')"
        )
    )


def test_0008_keeps_existing_rows_and_goes_down_and_up_again(db_engine: sa.Engine) -> None:
    config = alembic_config(db_engine)
    command.downgrade(config, "0007")
    with db_engine.begin() as conn:
        _insert_before_0008(conn)
    upgrade_schema(db_engine, "0008")
    assert current_revision(db_engine) == "0008"
    with db_engine.begin() as conn:
        assert conn.execute(sa.text("SELECT assignee_id FROM tickets")).all() == [(None,)]
        assert conn.execute(sa.text("SELECT parent_id FROM teams")).all() == [(None,)]
        conn.execute(sa.text("UPDATE tickets SET assignee_id = 'u1'"))
        conn.execute(
            sa.text(
                "INSERT INTO account_team (id, account_id, user_id, role) "
                "VALUES ('a1\tu1', 'a1', 'u1', 'Sales engineer')"
            )
        )
    with db_engine.begin() as conn, pytest.raises(sa.exc.IntegrityError):
        conn.execute(
            sa.text(
                "INSERT INTO account_team (id, account_id, user_id) VALUES ('other', 'a1', 'u1')"
            )
        )
    command.downgrade(config, "0007")
    inspector = sa.inspect(db_engine)
    assert "account_team" not in inspector.get_table_names()
    assert "assignee_id" not in {c["name"] for c in inspector.get_columns("tickets")}
    with db_engine.connect() as conn:
        assert conn.execute(sa.text("SELECT id FROM tickets")).all() == [("t1",)]
    upgrade_schema(db_engine)
    assert {"id", "account_id", "user_id", "role"} <= {
        c["name"] for c in sa.inspect(db_engine).get_columns("account_team")
    }
