"""The audit log, read through `GET /v1/audit` and `crmassist audit` (SQLite and
PostgreSQL, the real app): every tool call, search, record read, import, export and
erasure is there, the filters narrow it and pages never overlap."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from crmassist.api import create_app
from crmassist.cli import app
from tests.api_support import bearer_keys, mini_runtime
from tests.conftest import BACKENDS, DATA, fresh_database

pytestmark = pytest.mark.slow


class Audited:
    def __init__(self, client: TestClient, keys: dict[str, dict[str, str]], reply: Any) -> None:
        self.client, self.keys, self.reply = client, keys, reply

    def get(self, **params: Any) -> Any:
        response = self.client.get("/v1/audit", params=params, headers=self.keys["U5"])
        assert response.status_code == 200, response.text
        return response.json()


@pytest.fixture(params=BACKENDS, scope="module")
def audited(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Audited]:
    """One of each audited action, through the API, as a rep and the admin."""
    tmp = tmp_path_factory.mktemp("audit")
    with fresh_database(request.param, request, tmp) as url:
        rt = mini_runtime(tmp / "data", database_url=url)
        keys = bearer_keys(rt, "U1", "U5")
        with TestClient(create_app(runtime=rt)) as client:
            rep = keys["U1"]
            reply = client.post("/v1/chat", json={"message": "prepare me for Acme"}, headers=rep)
            assert reply.status_code == 200
            client.post("/v1/search", json={"query": "pressure drop"}, headers=rep)
            client.get("/v1/records/interactions/I1", headers=rep)
            admin = keys["U5"]
            client.post(
                "/v1/import", content=_zip(DATA / "mini_crm"), headers=_zipped(admin)
            ).raise_for_status()
            client.post("/v1/privacy/export", json={"contact_id": "C2"}, headers=admin)
            client.post("/v1/privacy/erase", json={"contact_id": "C2"}, headers=admin)
            yield Audited(client, keys, reply.json())
        rt.close()


def _zip(directory: Path) -> bytes:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in directory.rglob("*"):
            if path.is_file():
                zipped.write(path, path.relative_to(directory))
    return archive.getvalue()


def _zipped(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Content-Type": "application/zip"}


def test_every_kind_of_access_is_there(audited: Audited) -> None:
    actions = {e["action"] for e in audited.get(limit=500)["items"]}
    calls = audited.reply["tool_calls"]
    assert calls
    assert {f"tool:{c['name']}" for c in calls} <= actions
    assert {"ask", "search", "api:record", "api:import", "privacy:export", "privacy:erase"} <= (
        actions
    )


def test_each_tool_call_is_an_event_with_its_arguments_and_status(audited: Audited) -> None:
    for call in audited.reply["tool_calls"]:
        events = audited.get(tool=call["name"])["items"]
        assert all(e["action"] == f"tool:{call['name']}" for e in events)
        details = [(e["details"]["arguments"], e["details"]["status"]) for e in events]
        assert (call["arguments"], call["status"]) in details, call


def test_filters_narrow_and_combine(audited: Audited) -> None:
    rep_events = audited.get(user="U1")["items"]
    assert rep_events and {e["actor_id"] for e in rep_events} == {"U1"}
    assert {e["action"] for e in audited.get(action="privacy:")["items"]} == {
        "privacy:export",
        "privacy:erase",
    }
    read = audited.get(record="interactions/I1", action="api:record")["items"]
    assert [e["target"] for e in read] == ["interactions/I1"]
    touched = audited.get(record="I1")["items"]  # the search and tool calls that returned it
    assert {"api:record", "search"} <= {e["action"] for e in touched}
    erased = audited.get(record="contact/C2")["items"]
    assert {e["action"] for e in erased} == {"privacy:export", "privacy:erase"}
    everything = audited.get(limit=500)["items"]
    middle = everything[len(everything) // 2]["at"]
    newer = audited.get(since=middle, limit=500)["items"]
    older = audited.get(until=middle, limit=500)["items"]
    assert len(newer) + len(older) == len(everything) and newer and older
    assert audited.get(user="U1", action="privacy:")["items"] == []


def test_pages_follow_the_cursor_without_overlap(audited: Audited) -> None:
    everything = [e["id"] for e in audited.get(limit=500)["items"]]
    assert everything == sorted(everything, reverse=True)
    seen: list[int] = []
    page = audited.get(limit=3)
    while True:
        seen += [e["id"] for e in page["items"]]
        if page["next_before"] is None:
            break
        page = audited.get(limit=3, before=page["next_before"])
    assert seen == everything


def test_only_admins_read_it_and_bad_filters_are_422(audited: Audited) -> None:
    denied = audited.client.get("/v1/audit", headers=audited.keys["U1"])
    assert denied.status_code == 403
    assert denied.headers["content-type"] == "application/problem+json"
    bad = audited.client.get("/v1/audit?since=yesterday", headers=audited.keys["U5"])
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "since"]
    schema = audited.client.get("/openapi.json").json()
    page = schema["components"]["schemas"]["AuditPage"]
    assert set(page["properties"]) == {"items", "next_before"}
    params = {p["name"] for p in schema["paths"]["/v1/audit"]["get"]["parameters"]}
    assert {"user", "tool", "action", "record", "since", "until", "before", "limit"} <= params


def test_the_cli_reads_the_same_log(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = mini_runtime(tmp_path / "data")
    try:
        rt.audit.record(None, "import", target="x")
        rt.audit.record(None, "privacy:erase", target="contact/C9", clean=True)
        keys = bearer_keys(rt, "U1")
        with TestClient(create_app(runtime=rt)) as client:
            client.get("/v1/records/interactions/I1", headers=keys["U1"])
    finally:
        rt.close()
    monkeypatch.setenv("CRMASSIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CRMASSIST_DATABASE_URL", raising=False)
    result = CliRunner().invoke(app, ["audit", "--record", "I1", "--user", "U1", "--json"])
    assert result.exit_code == 0, result.output
    page = json.loads(result.stdout)
    assert [(e["action"], e["target"]) for e in page["items"]] == [
        ("api:record", "interactions/I1")
    ]
    table = CliRunner().invoke(app, ["audit", "--action", "privacy:", "--limit", "1"])
    assert table.exit_code == 0 and "contact/C9" in table.stdout
    bad = CliRunner().invoke(app, ["audit", "--since", "yesterday"])
    assert bad.exit_code == 2
