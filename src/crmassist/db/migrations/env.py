"""Alembic environment: the engine comes from `config.attributes`, set by migrate.py.

Every revision runs in its own transaction and is stamped in it, so an interrupted
upgrade leaves the database at the last whole revision. SQLite can roll back DDL, but
its Python driver commits before each DDL statement unless it is told to keep out of
transactions: `_sqlite_transactional_ddl` does that for the migration connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Literal

import sqlalchemy as sa
from alembic import context
from alembic.autogenerate.api import AutogenContext

from crmassist.domain.models import Base, UTCDateTime


def render_item(type_: str, obj: Any, autogen_context: AutogenContext) -> str | Literal[False]:
    """Write migrations in plain SQLAlchemy types so they never import the models."""
    if type_ == "type" and isinstance(obj, UTCDateTime):
        return "sa.DateTime(timezone=True)"
    return False


@contextmanager
def _sqlite_transactional_ddl(connection: sa.Connection) -> Iterator[None]:
    """The driver leaves transactions alone; a BEGIN starts each one (SQLAlchemy's recipe)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    driver: Any = connection.connection.driver_connection
    previous = driver.isolation_level
    driver.isolation_level = None

    def begin(conn: sa.Connection) -> None:
        conn.exec_driver_sql("BEGIN")

    sa.event.listen(connection, "begin", begin)
    try:
        yield
    finally:
        sa.event.remove(connection, "begin", begin)
        driver.isolation_level = previous


engine = context.config.attributes["engine"]

with engine.connect() as connection, _sqlite_transactional_ddl(connection):
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        render_item=render_item,
        transactional_ddl=True,
        transaction_per_migration=True,
    )
    with context.begin_transaction():
        context.run_migrations()
    connection.commit()
