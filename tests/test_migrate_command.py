"""Migrations as a one-off step: `crmassist migrate` upgrades and reports; with
CRMASSIST_MIGRATE_ON_START=false no other command migrates, and a schema that is behind
stops them in one line (SQLite and PostgreSQL)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from typer.testing import CliRunner

from crmassist.cli import app
from crmassist.db import make_engine
from crmassist.db.migrate import current_revision, head_revision
from tests.conftest import BACKENDS


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A database with no schema at all."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'data' / 'crm.db'}"
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    name = f"crmassist_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    try:
        yield sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def test_only_migrate_migrates_when_processes_may_not(
    empty_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRMASSIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CRMASSIST_DATABASE_URL", empty_url)
    monkeypatch.setenv("CRMASSIST_MIGRATE_ON_START", "false")
    cli = CliRunner()

    behind = cli.invoke(app, ["users", "list"])
    assert behind.exit_code == 1
    lines = behind.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in behind.stderr
    assert "revision none" in lines[0] and "run `crmassist migrate`" in lines[0]
    assert revision(empty_url) is None  # nothing was migrated behind the operator's back

    done = cli.invoke(app, ["migrate"])
    assert done.exit_code == 0, done.output
    assert f"schema at revision {head_revision()} (was empty)" in done.stdout
    assert revision(empty_url) == head_revision()
    again = cli.invoke(app, ["migrate"])
    assert again.exit_code == 0 and "(up to date)" in again.stdout
    assert cli.invoke(app, ["users", "list", "--json"]).stdout.strip() == "[]"


def test_by_default_a_process_migrates_on_start(
    empty_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRMASSIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CRMASSIST_DATABASE_URL", empty_url)
    monkeypatch.delenv("CRMASSIST_MIGRATE_ON_START", raising=False)
    assert CliRunner().invoke(app, ["users", "list", "--json"]).exit_code == 0
    assert revision(empty_url) == head_revision()
