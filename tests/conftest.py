"""Shared fixtures: real databases (SQLite and PostgreSQL), each test its own."""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from crmassist.db import make_engine, make_session_factory, upgrade_schema
from crmassist.domain.encrypted import bind_cipher
from crmassist.privacy.crypto import Keyring
from crmassist.runtime import Runtime

POSTGRES_ADMIN_URL = os.environ.get(
    "CRMASSIST_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
DATA = Path(__file__).parent / "data"

# One encryption key for the whole run: the fixtures' engines, every Runtime's settings
# and the CLI processes tests start all read the same personal data.
os.environ.setdefault("CRMASSIST_SECRET_KEY", secrets.token_urlsafe(32))


def keyed_engine(url: str, **kwargs: object) -> sa.Engine:
    """An engine bound to the run's key, as a Runtime's is bound to its settings' key."""
    engine = make_engine(url, **kwargs)
    bind_cipher(engine, Keyring(os.environ["CRMASSIST_SECRET_KEY"]))
    return engine


def _postgres_unreachable_reason() -> str | None:
    try:
        engine = sa.create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 3})
        with engine.connect():
            pass
        engine.dispose()
        return None
    except Exception as exc:  # any driver or network failure means "not here"
        return f"PostgreSQL not reachable at {POSTGRES_ADMIN_URL}: {exc.__class__.__name__}"


@pytest.fixture(scope="session")
def postgres_admin_url() -> str:
    reason = _postgres_unreachable_reason()
    if reason:
        pytest.skip(reason)
    return POSTGRES_ADMIN_URL


@contextmanager
def fresh_database(backend: str, request: pytest.FixtureRequest, tmp: Path) -> Iterator[str]:
    """A new, migrated database of `backend`; a PostgreSQL one is dropped afterwards."""
    if backend == "sqlite":
        url = f"sqlite:///{tmp / 'crm.db'}"
        _migrate(url)
        yield url
        return
    admin_url = request.getfixturevalue("postgres_admin_url")
    name = f"crmassist_test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.make_url(admin_url).set(database=name).render_as_string(hide_password=False)
    try:
        _migrate(url)
        yield url
    finally:
        with admin.connect() as conn:
            conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def _migrate(url: str) -> None:
    engine = keyed_engine(url)
    upgrade_schema(engine)
    engine.dispose()


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL; every test gets its own."""
    with fresh_database(request.param, request, tmp_path) as url:
        yield url


@pytest.fixture
def db_engine(db_url: str) -> Iterator[sa.Engine]:
    engine = keyed_engine(db_url)
    yield engine
    engine.dispose()


@pytest.fixture
def session_factory(db_engine: sa.Engine) -> sessionmaker[Session]:
    return make_session_factory(db_engine)


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory) -> Iterator[sessionmaker[Session]]:
    """One SQLite database shared by a module's tests, for tests that only need a vault."""
    engine = keyed_engine(f"sqlite:///{tmp_path_factory.mktemp('module') / 'crm.db'}")
    upgrade_schema(engine)
    yield make_session_factory(engine)
    engine.dispose()


@pytest.fixture(scope="session")
def sample_rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    """The sample CRM imported and indexed once per test session (SQLite, embedded Qdrant)."""
    from tests.agent_support import sample_runtime

    rt = sample_runtime(tmp_path_factory.mktemp("sample"))
    yield rt
    rt.close()
