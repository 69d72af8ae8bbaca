"""Schema migrations with Alembic, run programmatically so no alembic.ini is needed.

Each revision is one transaction (see migrations/env.py), so an interrupted upgrade
leaves the last whole revision behind and the next start carries on. Databases that an
older crmassist left half-made are recovered when that loses nothing (tables without a
schema version and without rows are dropped and created again); otherwise the start
stops with one line that says what to do.
"""

from __future__ import annotations

import logging
from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.migration import MigrationContext

from crmassist.db.engine import DatabaseUnavailable, unavailable_reason
from crmassist.domain.models import Base
from crmassist.errors import CrmassistError

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


class BrokenSchema(CrmassistError):
    """The database's schema is neither absent nor a whole revision: a person must decide."""


def alembic_config(engine: sa.Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade_schema(engine: sa.Engine, revision: str = "head") -> None:
    """Bring the database to `revision`; safe to call on every start."""
    try:
        _clear_unversioned_tables(engine)
        command.upgrade(alembic_config(engine), revision)
    except sa.exc.DBAPIError as exc:
        if (reason := unavailable_reason(exc)) is not None:
            raise DatabaseUnavailable(reason) from exc
        raise BrokenSchema(_failed_upgrade(engine, exc)) from exc


class SchemaBehind(CrmassistError):
    """The schema is not this version's and this process may not migrate it itself."""


def head_revision() -> str:
    """The newest revision this crmassist ships."""
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None  # the package always ships its migrations
    return head


def check_current(engine: sa.Engine) -> None:
    """For processes that must not migrate (several servers, containers): the schema is
    this version's, or one line that says to run the one-off `crmassist migrate`."""
    try:
        at = current_revision(engine)
    except sa.exc.DBAPIError as exc:
        if (reason := unavailable_reason(exc)) is not None:
            raise DatabaseUnavailable(reason) from exc
        raise
    if at != (head := head_revision()):
        raise SchemaBehind(
            f"the database at {describe(engine)} is at schema revision {at or 'none'}, this "
            f"crmassist needs {head}: run `crmassist migrate` once, then start it again"
        )


def current_revision(engine: sa.Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def describe(engine: sa.Engine) -> str:
    """Where the database is, in words a user can act on (never a password)."""
    if engine.dialect.name == "sqlite" and engine.url.database:
        return str(Path(engine.url.database).resolve())
    return engine.url.render_as_string(hide_password=True)


def _clear_unversioned_tables(engine: sa.Engine) -> None:
    """crmassist tables with no schema version are what an older crmassist left when it
    was stopped while creating the schema: empty ones are dropped, data stops us."""
    if current_revision(engine) is not None:
        return
    present = set(sa.inspect(engine).get_table_names())
    tables = [t for t in reversed(Base.metadata.sorted_tables) if t.name in present]
    if not tables:
        return
    with engine.begin() as connection:
        filled = [t.name for t in tables if connection.execute(sa.select(t).limit(1)).first()]
        if filled:
            raise BrokenSchema(
                f"the database at {describe(engine)} holds crmassist tables with data "
                f"({', '.join(sorted(filled))}) but no schema version: it was not made by a "
                "finished migration. Restore a backup, or move it away and run "
                "`crmassist import DIR` again to start a new one"
            )
        log.warning("dropping %d empty tables left by an interrupted schema creation", len(tables))
        for table in tables:
            table.drop(connection)


def _failed_upgrade(engine: sa.Engine, exc: sa.exc.DBAPIError) -> str:
    try:
        at = current_revision(engine) or "none"
    except sa.exc.DBAPIError:
        at = "unknown"
    cause = str(exc.orig).strip().splitlines()[0] if str(exc.orig).strip() else type(exc).__name__
    return (
        f"the schema of the database at {describe(engine)} could not be upgraded from "
        f"revision {at} ({cause}): it was probably left half-migrated by an interrupted start "
        "of an older crmassist. Restore a backup, or move it away and run "
        "`crmassist import DIR` again to start a new one"
    )
