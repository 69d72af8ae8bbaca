"""Faults end in a clear state (issue 11): interrupted migrations, broken data directories,
and databases that are locked, read-only, gone or unreachable."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import alembic.op
import pytest
import sqlalchemy as sa
from alembic import command
from alembic.script import ScriptDirectory
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from crmassist.access.keys import issue_key, principal_for_key
from crmassist.api import errors
from crmassist.cli import app as cli_app
from crmassist.db import make_engine, make_session_factory, session_scope, upgrade_schema
from crmassist.db.engine import DatabaseUnavailable, check_writable, unavailable_reason
from crmassist.db.migrate import MIGRATIONS_DIR, BrokenSchema, alembic_config, current_revision
from crmassist.domain.enums import Role
from crmassist.domain.models import ApiKey, Base, Team, User
from tests.conftest import BACKENDS, DATA, fresh_database

HEAD = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all (the conftest one is migrated; downgrade it)."""
    with fresh_database(request.param, request, tmp_path) as url:
        engine = make_engine(url)
        command.downgrade(alembic_config(engine), "base")
        with engine.begin() as conn:
            conn.execute(sa.text("DROP TABLE alembic_version"))
        engine.dispose()
        yield url


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names())
    finally:
        engine.dispose()


# --- migrations: atomic per revision, recoverable -------------------------------------------

KILL_AFTER_TABLES = (
    "import os, signal, sys\n"
    "import alembic.op as op\n"
    "real, made = op.create_table, []\n"
    "def create_table(*args, **kwargs):\n"
    "    made.append(args[0])\n"
    "    if len(made) == 5:\n"
    "        os.kill(os.getpid(), signal.SIGKILL)\n"
    "    return real(*args, **kwargs)\n"
    "op.create_table = create_table\n"
)


def test_a_first_import_killed_during_schema_creation_leaves_nothing_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    monkeypatch.setenv("CRMASSIST_DATA_DIR", str(data))
    monkeypatch.delenv("CRMASSIST_DATABASE_URL", raising=False)
    code = KILL_AFTER_TABLES + "from crmassist.cli import app\napp()\n"
    killed = subprocess.run(
        [sys.executable, "-c", code, "import", str(DATA / "mini_crm"), "--no-index"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert killed.returncode == -9, killed.stderr

    listed = CliRunner().invoke(cli_app, ["users", "list", "--json"])

    assert listed.exit_code == 0, listed.output
    assert listed.stdout.strip() == "[]"
    imported = CliRunner().invoke(cli_app, ["import", str(DATA / "mini_crm"), "--no-index"])
    assert imported.exit_code == 0, imported.output


def test_a_killed_migration_leaves_the_database_at_its_last_whole_revision(
    empty_url: str,
) -> None:
    code = KILL_AFTER_TABLES.replace("== 5", "== 15")  # 0001 makes 13 tables, 0002 more
    code += "from crmassist.db import make_engine, upgrade_schema\n"
    code += f"upgrade_schema(make_engine({empty_url!r}))\n"
    killed = subprocess.run([sys.executable, "-c", code], capture_output=True, check=False)
    assert killed.returncode == -9

    engine = make_engine(empty_url)
    assert current_revision(engine) == "0001"
    assert "conversations" not in _tables(empty_url)
    upgrade_schema(engine)
    assert current_revision(engine) == HEAD
    engine.dispose()


def test_a_failing_migration_rolls_back_to_the_last_whole_revision(
    empty_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    real, made = alembic.op.create_table, []

    def failing(*args: object, **kwargs: object) -> object:
        made.append(args[0])
        if args[0] == "messages":  # 0002, after "conversations"
            raise RuntimeError("power cut")
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(alembic.op, "create_table", failing)
    engine = make_engine(empty_url)
    with pytest.raises(RuntimeError, match="power cut"):
        upgrade_schema(engine)
    assert current_revision(engine) == "0001"
    assert "conversations" not in _tables(empty_url)

    monkeypatch.setattr(alembic.op, "create_table", real)
    upgrade_schema(engine)
    assert current_revision(engine) == HEAD
    engine.dispose()


def test_empty_tables_without_a_schema_version_are_made_again(empty_url: str) -> None:
    """What an older crmassist left when it was stopped while creating the schema."""
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        for name in ("audit_events", "teams", "users"):
            Base.metadata.tables[name].create(conn)

    upgrade_schema(engine)

    assert current_revision(engine) == HEAD
    assert {"audit_events", "interactions", "api_keys"} <= _tables(empty_url)
    engine.dispose()


def test_tables_with_data_but_no_schema_version_stop_with_one_line(empty_url: str) -> None:
    engine = make_engine(empty_url)
    with engine.begin() as conn:
        Base.metadata.tables["teams"].create(conn)
        conn.execute(sa.insert(Team).values(id="t1", name="West"))

    with pytest.raises(BrokenSchema) as caught:
        upgrade_schema(engine)

    message = str(caught.value)
    assert "\n" not in message
    assert "holds crmassist tables with data (teams) but no schema version" in message
    assert "Restore a backup, or move it away" in message
    assert "password" not in message
    with engine.connect() as conn:  # nothing was dropped
        assert conn.execute(sa.select(Team.name)).scalar_one() == "West"
    engine.dispose()


def test_a_half_applied_revision_stops_with_one_line(empty_url: str) -> None:
    """An older crmassist made 0003's table and was stopped before stamping the revision."""
    engine = make_engine(empty_url)
    upgrade_schema(engine, "0002")
    with engine.begin() as conn:
        Base.metadata.tables["api_keys"].create(conn)

    with pytest.raises(BrokenSchema) as caught:
        upgrade_schema(engine)

    message = str(caught.value)
    assert "\n" not in message
    assert "could not be upgraded from revision 0002" in message
    assert "api_keys" in message and "already exists" in message
    assert "Restore a backup, or move it away" in message
    engine.dispose()


def test_the_cli_says_how_to_recover_a_broken_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = tmp_path / "data"
    data.mkdir()
    with sqlite3.connect(data / "crmassist.db") as conn:
        conn.execute("CREATE TABLE audit_events (id INTEGER PRIMARY KEY, action VARCHAR(100))")
        conn.execute("INSERT INTO audit_events (action) VALUES ('import')")
    monkeypatch.setenv("CRMASSIST_DATA_DIR", str(data))
    monkeypatch.delenv("CRMASSIST_DATABASE_URL", raising=False)

    result = CliRunner().invoke(cli_app, ["users", "list"])

    assert result.exit_code == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert str((data / "crmassist.db").resolve()) in lines[0]
    assert "move it away" in lines[0]


# --- database faults in the API: 503 + Retry-After, problem+json ---------------------------


def _fault_app(engine: sa.Engine) -> TestClient:
    """The API's real error handling around one route that writes."""
    app = FastAPI()
    errors.install(app)
    sessions = make_session_factory(engine)

    @app.post("/teams")
    def add_team() -> dict[str, str]:
        with session_scope(sessions) as session:
            session.add(Team(id=uuid.uuid4().hex, name="New"))
        return {"ok": "yes"}

    return TestClient(app, raise_server_exceptions=False)


def _assert_unavailable(response: object, reason: str) -> None:
    assert response.status_code == 503, response.text  # type: ignore[attr-defined]
    assert response.headers["retry-after"] == "5"  # type: ignore[attr-defined]
    assert response.headers["content-type"] == "application/problem+json"  # type: ignore[attr-defined]
    body = response.json()  # type: ignore[attr-defined]
    assert body["status"] == 503
    assert body["title"] == "Database unavailable"
    assert reason in body["detail"]


@pytest.fixture
def sqlite_url(tmp_path: Path) -> Iterator[str]:
    with fresh_database("sqlite", None, tmp_path) as url:  # type: ignore[arg-type]
        yield url


def _hold_write_lock(url: str) -> sqlite3.Connection:
    holder = sqlite3.connect(sa.make_url(url).database or "", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    return holder


def test_a_locked_sqlite_database_is_a_503_not_a_500(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url, connect_args={"timeout": 0.2})
    client = _fault_app(engine)
    holder = _hold_write_lock(sqlite_url)
    try:
        _assert_unavailable(client.post("/teams"), "locked")
    finally:
        holder.rollback()
        holder.close()
    assert client.post("/teams").status_code == 200
    engine.dispose()


def test_a_read_only_sqlite_database_is_a_503(sqlite_url: str) -> None:
    path = sa.make_url(sqlite_url).database
    engine = make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    _assert_unavailable(_fault_app(engine).post("/teams"), "read-only")
    engine.dispose()


def test_a_deleted_sqlite_file_is_a_503_and_is_not_recreated(sqlite_url: str) -> None:
    path = Path(sa.make_url(sqlite_url).database or "")
    engine = make_engine(sqlite_url)
    client = _fault_app(engine)
    assert client.post("/teams").status_code == 200
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)

    _assert_unavailable(client.post("/teams"), "missing or cannot be opened")
    assert not path.exists()
    engine.dispose()


@pytest.mark.postgres
def test_an_unreachable_postgres_is_a_503(postgres_admin_url: str) -> None:
    url = sa.make_url(postgres_admin_url).set(host="127.0.0.1", port=1)
    engine = make_engine(url.render_as_string(hide_password=False))
    _assert_unavailable(_fault_app(engine).post("/teams"), "unreachable")
    engine.dispose()


@pytest.mark.postgres
def test_a_read_only_postgres_is_a_503(request: pytest.FixtureRequest, tmp_path: Path) -> None:
    with fresh_database("postgres", request, tmp_path) as url:
        engine = _read_only_postgres(url)
        _assert_unavailable(_fault_app(engine).post("/teams"), "read-only")
        engine.dispose()


def _read_only_postgres(url: str) -> sa.Engine:
    return make_engine(url, connect_args={"options": "-c default_transaction_read_only=on"})


# --- check_writable: what /readyz asks -------------------------------------------------------


def test_check_writable_passes_on_a_healthy_database(db_engine: sa.Engine) -> None:
    check_writable(db_engine)
    assert current_revision(db_engine) == HEAD  # the probe changed nothing


def test_check_writable_sees_a_held_lock_within_its_wait(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    holder = _hold_write_lock(sqlite_url)
    started = time.monotonic()
    try:
        with pytest.raises(DatabaseUnavailable, match="locked"):
            check_writable(engine, wait_s=0.2)
    finally:
        holder.rollback()
        holder.close()
    assert time.monotonic() - started < 2
    check_writable(engine)
    engine.dispose()


def test_check_writable_sees_a_read_only_sqlite_file(sqlite_url: str) -> None:
    path = sa.make_url(sqlite_url).database
    engine = make_engine(f"sqlite:///file:{path}?mode=ro&uri=true")
    with pytest.raises(DatabaseUnavailable, match="read-only"):
        check_writable(engine)
    engine.dispose()


@pytest.mark.postgres
def test_check_writable_sees_a_read_only_postgres(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with fresh_database("postgres", request, tmp_path) as url:
        engine = _read_only_postgres(url)
        with pytest.raises(DatabaseUnavailable, match="read-only"):
            check_writable(engine)
        engine.dispose()


def test_a_driver_fault_is_named_through_a_wrapping_exception() -> None:
    try:
        try:
            raise sqlite3.OperationalError("database is locked")
        except sqlite3.OperationalError as exc:
            exc.sqlite_errorcode = 5  # type: ignore[attr-defined]
            raise RuntimeError("while saving") from exc
    except RuntimeError as outer:
        assert unavailable_reason(outer) == "locked by another writer"
    assert unavailable_reason(ValueError("no")) is None


# --- authentication needs no write -----------------------------------------------------------


def _key(sessions: sessionmaker[Session]) -> str:
    with session_scope(sessions) as session:
        session.add(Team(id="t1", name="West"))
        session.add(User(id="u1", name="Ann", email="ann@example.com", role=Role.REP))
        session.flush()
        return issue_key(session, "u1").key


def _authenticate(sessions: sessionmaker[Session], key: str) -> str | None:
    with session_scope(sessions) as session:
        principal = principal_for_key(session, key)
    return principal.user_id if principal else None


def test_authentication_succeeds_at_once_while_another_process_writes(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    sessions = make_session_factory(engine)
    key = _key(sessions)
    holder = _hold_write_lock(sqlite_url)
    started = time.monotonic()
    try:
        assert _authenticate(sessions, key) == "u1"
    finally:
        holder.rollback()
        holder.close()
    assert time.monotonic() - started < 1
    engine.dispose()


@pytest.mark.postgres
def test_authentication_succeeds_on_a_read_only_postgres(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    with fresh_database("postgres", request, tmp_path) as url:
        writable = make_engine(url)
        key = _key(make_session_factory(writable))
        writable.dispose()
        engine = _read_only_postgres(url)
        assert _authenticate(make_session_factory(engine), key) == "u1"
        engine.dispose()


def test_last_use_is_recorded_at_most_once_a_minute(session_factory: sessionmaker[Session]) -> None:
    key = _key(session_factory)
    assert _authenticate(session_factory, key) == "u1"
    with session_factory() as session:
        first = session.scalar(sa.select(ApiKey.last_used_at))
    assert first is not None

    assert _authenticate(session_factory, key) == "u1"

    with session_factory() as session:
        assert session.scalar(sa.select(ApiKey.last_used_at)) == first
