"""The service on PostgreSQL, configured by settings alone as in docker-compose.yml: the
same app, import, index and assistant as on SQLite."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from crmassist.access.keys import issue_key
from crmassist.api import create_app
from crmassist.db import session_scope
from crmassist.ingest.importer import import_directory
from crmassist.runtime import Runtime
from crmassist.settings import Settings
from tests.conftest import DATA, fresh_database

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


@pytest.fixture(scope="module")
def pg_runtime(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Runtime]:
    tmp: Path = tmp_path_factory.mktemp("pg")
    with fresh_database("postgres", request, tmp) as url:
        rt = Runtime(Settings(data_dir=tmp, database_url=url, today=date(2026, 11, 20)))
        import_directory(DATA / "mini_crm", rt.sessions, as_of=date(2026, 11, 20))
        rt.indexer().sync()
        yield rt
        rt.close()


def test_the_service_on_postgresql(pg_runtime: Runtime) -> None:
    with session_scope(pg_runtime.sessions) as session:
        rep = {"Authorization": f"Bearer {issue_key(session, 'U1').key}"}
        support = {"Authorization": f"Bearer {issue_key(session, 'U4').key}"}
    with TestClient(create_app(runtime=pg_runtime)) as client:
        assert client.get("/readyz").json()["ready"] is True
        assert [a["id"] for a in client.get("/v1/accounts", headers=rep).json()["items"]] == ["A1"]
        reply = client.post(
            "/v1/chat", headers=rep, json={"message": "prepare me for my meeting with Acme"}
        ).json()
        assert "[A1]" in reply["answer"] and "Maria Gonzalez" in reply["answer"]
        masked = client.get("/v1/accounts/A2", headers=support).json()
        assert masked["open_deals"] is None and masked["contacts"][0]["email"].startswith("t***@")
        logged = client.post(
            "/v1/interactions", headers={**rep, "Idempotency-Key": "pg-1"},
            json={"account_id": "A1", "summary": "Called about the skid delivery."},
        )  # fmt: skip
        again = client.post(
            "/v1/interactions", headers={**rep, "Idempotency-Key": "pg-1"},
            json={"account_id": "A1", "summary": "Called about the skid delivery."},
        )  # fmt: skip
        assert (logged.status_code, again.status_code) == (201, 200)
        found = client.post("/v1/search", headers=rep, json={"query": "skid delivery"}).json()
        assert logged.json()["interaction_id"] in {c["record_id"] for c in found}
