"""One engine per process, sessions per unit of work, and what a database fault means.

A database that is locked, read-only, gone or unreachable is a state to wait out, not a
bug: `unavailable_reason` names it in words, `DatabaseUnavailable` carries it to the
interfaces (503 with Retry-After in the API, one line in the CLI).
"""

from __future__ import annotations

import logging
import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

from crmassist.errors import CrmassistError

log = logging.getLogger(__name__)

RETRY_AFTER_S = 5
"""What a client is told to wait before retrying a request the database could not serve."""

_SQLITE_FAULTS = {
    5: "locked by another writer",  # SQLITE_BUSY
    6: "locked",  # SQLITE_LOCKED
    8: "read-only",  # SQLITE_READONLY
    10: "failing (disk I/O error)",  # SQLITE_IOERR
    11: "damaged (malformed file)",  # SQLITE_CORRUPT
    13: "full (no disk space)",  # SQLITE_FULL
    14: "missing or cannot be opened",  # SQLITE_CANTOPEN
    26: "not a database file",  # SQLITE_NOTADB
}
_PG_FAULTS = {
    "08": "unreachable (connection failed)",
    "25006": "read-only",
    "53": "out of resources (disk, memory or connections)",
    "55P03": "locked by another transaction",
    "57014": "too slow to answer (statement timed out)",
    "57P": "shutting down or starting up",
}


class DatabaseUnavailable(CrmassistError):
    """The database cannot serve right now; the same request may succeed later."""

    retry_after_s = RETRY_AFTER_S

    def __init__(self, reason: str) -> None:
        super().__init__(f"the database is {reason}; try again shortly")
        self.reason = reason


def unavailable_reason(exc: BaseException) -> str | None:
    """Why the database could not serve, if `exc` (or what caused it) is such a fault."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, DatabaseUnavailable):
            return current.reason
        if (reason := _driver_reason(current)) is not None:
            return reason
        if isinstance(current, sa.exc.DBAPIError) and current.connection_invalidated:
            return "unreachable (connection lost)"
        current = current.__cause__ or current.__context__
    return None


def _driver_reason(exc: BaseException) -> str | None:
    orig = exc.orig if isinstance(exc, sa.exc.DBAPIError) else exc
    if isinstance(orig, sqlite3.Error):
        code = getattr(orig, "sqlite_errorcode", None)
        return _SQLITE_FAULTS.get(code & 0xFF) if isinstance(code, int) else None
    if type(orig).__module__.startswith("psycopg"):
        state = getattr(orig, "sqlstate", None)
        if state is None:  # no server answer at all: the connection itself failed
            return _PG_FAULTS["08"] if type(orig).__name__ == "OperationalError" else None
        return next((why for prefix, why in _PG_FAULTS.items() if state.startswith(prefix)), None)
    return None


def make_engine(url: str, **kwargs: Any) -> sa.Engine:
    """Create an engine. SQLite gets foreign keys, WAL, its directory made, and a file that
    must stay where it is; PostgreSQL gets pings and a bounded connect timeout."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        engine = sa.create_engine(url, **kwargs)
        sa.event.listen(engine, "connect", _sqlite_pragmas)
        if parsed.database and parsed.database != ":memory:" and "mode=" not in url:
            _guard_sqlite_file(engine, Path(parsed.database))
        return engine
    if parsed.get_backend_name() == "postgresql" and "connect_timeout" not in parsed.query:
        kwargs.setdefault("connect_args", {}).setdefault("connect_timeout", 5)
    return sa.create_engine(url, pool_pre_ping=True, **kwargs)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.close()


def _guard_sqlite_file(engine: sa.Engine, path: Path) -> None:
    """The file is created once, here; afterwards a missing or replaced file is a fault.

    SQLite would silently create an empty database in place of a deleted one, and a
    connection to a deleted file keeps writing into a file nobody will ever read.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists():
        sqlite3.connect(path).close()
    target = f"file:{quote(str(path.resolve()))}?mode=rw"

    @sa.event.listens_for(engine, "do_connect")
    def _existing_only(
        _dialect: Any, _record: Any, cargs: list[Any], cparams: dict[str, Any]
    ) -> None:
        cargs[:] = [target]
        cparams["uri"] = True

    @sa.event.listens_for(engine, "connect")
    def _remember_file(_dbapi: Any, record: Any) -> None:
        record.info["sqlite_file"] = _identity(path)

    @sa.event.listens_for(engine, "checkout")
    def _same_file(_dbapi: Any, record: Any, _proxy: Any) -> None:
        if _identity(path) != record.info.get("sqlite_file"):
            log.warning("database file %s is gone or was replaced; reconnecting", path)
            raise sa.exc.DisconnectionError(f"{path} is gone or was replaced")


def _identity(path: Path) -> tuple[int, int] | None:
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino)


def make_session_factory(engine: sa.Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A transaction: committed when the block ends, rolled back if it raises."""
    with factory() as session, session.begin():
        yield session


@contextmanager
def short_wait(connection: sa.Connection, wait_s: float) -> Iterator[None]:
    """Inside: wait at most `wait_s` for a lock instead of the engine's default."""
    millis = max(int(wait_s * 1000), 0)
    if connection.dialect.name == "sqlite":
        previous = connection.exec_driver_sql("PRAGMA busy_timeout").scalar()
        connection.exec_driver_sql(f"PRAGMA busy_timeout = {millis}")
        try:
            yield
        finally:
            try:
                connection.exec_driver_sql(f"PRAGMA busy_timeout = {int(previous or 0)}")
            except sa.exc.DBAPIError:  # a broken connection must not go back to the pool
                connection.invalidate()
        return
    if connection.dialect.name == "postgresql":
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {millis}")
        connection.exec_driver_sql(f"SET LOCAL statement_timeout = {max(millis, 1) * 2}")
    yield


@contextmanager
def _quick_connection(engine: sa.Engine, wait_s: float) -> Iterator[sa.Connection]:
    """A connection that waits at most `wait_s` for locks; a database that cannot serve
    raises `DatabaseUnavailable` with the reason."""
    try:
        with engine.connect() as connection, short_wait(connection, wait_s):
            yield connection
    except sa.exc.DBAPIError as exc:
        if (reason := unavailable_reason(exc)) is None:
            raise
        raise DatabaseUnavailable(reason) from exc


def try_write(engine: sa.Engine, statement: sa.Executable, *, wait_s: float = 0.05) -> bool:
    """Run one write in its own transaction, giving up quickly: False if the database
    could not take it. For writes nobody must wait on (a key's last use)."""
    try:
        with _quick_connection(engine, wait_s) as connection:
            connection.execute(statement)
            connection.commit()
    except DatabaseUnavailable as exc:
        log.info("skipped a best-effort write: the database is %s", exc.reason)
        return False
    return True


def check_writable(engine: sa.Engine, *, wait_s: float = 1.0) -> None:
    """Raise `DatabaseUnavailable` unless the database would take a write within `wait_s`.

    It writes for real (the schema version, to itself) and rolls back, so read-only
    files, read-only replicas, full disks and held locks all show.
    """
    bump = sa.text("UPDATE alembic_version SET version_num = version_num")
    with _quick_connection(engine, wait_s) as connection:
        connection.execute(bump)
        connection.rollback()
