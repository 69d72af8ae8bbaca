"""A small CRM of its own for API tests that write: notes logged there never reach the
session's shared sample CRM, whose contents other modules' answers depend on."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

from crmassist.access.keys import issue_key
from crmassist.db import session_scope
from crmassist.ingest.importer import import_directory
from crmassist.runtime import Runtime
from crmassist.settings import Settings
from tests.conftest import DATA

TODAY = date(2026, 11, 20)


def mini_runtime(data_dir: Path, **settings: Any) -> Runtime:
    """tests/data/mini_crm imported and indexed (SQLite unless `database_url` is given)."""
    rt = Runtime(Settings(data_dir=data_dir, today=TODAY, **settings))
    import_directory(DATA / "mini_crm", rt.sessions, as_of=TODAY)
    rt.indexer().sync()
    return rt


def bearer_keys(rt: Runtime, *users: str) -> dict[str, dict[str, str]]:
    """An Authorization header per user."""
    with session_scope(rt.sessions) as session:
        issued = {u: issue_key(session, u, "api tests").key for u in users}
    return {user: {"Authorization": f"Bearer {key}"} for user, key in issued.items()}
