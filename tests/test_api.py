"""Every endpoint through the real FastAPI app on the sample CRM: identity, roles, errors,
idempotency, pagination, streaming, metrics."""

from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Iterator

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from crmassist.access.keys import issue_key
from crmassist.api import create_app
from crmassist.db import session_scope
from crmassist.domain.models import Interaction
from crmassist.runtime import Runtime

pytestmark = pytest.mark.slow
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def client(sample_rt: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(runtime=sample_rt)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def keys(sample_rt: Runtime) -> dict[str, dict[str, str]]:
    with session_scope(sample_rt.sessions) as session:
        issued = {
            u: issue_key(session, u, "tests").key for u in ("U001", "U003", "U004", "U010", "U013")
        }
    return {user: {"Authorization": f"Bearer {key}"} for user, key in issued.items()}


def test_health_needs_no_key_and_readiness_checks_components(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": "ok", "index": "ok", "model": "ok"}


@pytest.mark.parametrize("header", [None, "Bearer nope", "Bearer crm_abc_def", "Basic x"])
def test_everything_else_needs_a_valid_key(client: TestClient, header: str | None) -> None:
    headers = {"Authorization": header} if header else {}
    response = client.get("/v1/accounts", headers=headers)
    assert response.status_code in (401, 403)
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["status"] == response.status_code and body["request_id"]


def test_a_revoked_key_stops_working(client: TestClient, sample_rt: Runtime) -> None:
    from crmassist.access.keys import revoke_keys

    with session_scope(sample_rt.sessions) as session:
        key = issue_key(session, "U002").key
    assert client.get("/v1/tasks", headers={"Authorization": f"Bearer {key}"}).status_code == 200
    with session_scope(sample_rt.sessions) as session:
        revoke_keys(session, "U002")
    assert client.get("/v1/tasks", headers={"Authorization": f"Bearer {key}"}).status_code == 401


def test_revoking_by_label_leaves_the_other_keys_working(
    client: TestClient, sample_rt: Runtime
) -> None:
    from crmassist.access.keys import revoke_keys

    with session_scope(sample_rt.sessions) as session:
        demo, own = issue_key(session, "U003", "demo").key, issue_key(session, "U003").key
    with session_scope(sample_rt.sessions) as session:
        assert revoke_keys(session, "U003", label="demo") == 1
    status = {
        k: client.get("/v1/tasks", headers={"Authorization": f"Bearer {k}"}).status_code
        for k in (demo, own)
    }
    assert status == {demo: 401, own: 200}


def test_accounts_are_scoped_and_paginated(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    mine = client.get("/v1/accounts", headers=keys["U001"], params={"limit": 3}).json()
    assert mine["total"] < 20 and len(mine["items"]) == 3 and mine["next_offset"] == 3
    everyone = client.get("/v1/accounts", headers=keys["U013"]).json()
    assert everyone["total"] == 56
    found = client.get("/v1/accounts", headers=keys["U001"], params={"q": "acme"}).json()
    assert [a["id"] for a in found["items"]] == ["A001"]
    bad = client.get("/v1/accounts", headers=keys["U001"], params={"limit": 0})
    assert bad.status_code == 422 and bad.json()["errors"][0]["loc"] == ["query", "limit"]


def test_account_overview_per_role(client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    rep = client.get("/v1/accounts/A001", headers=keys["U001"]).json()
    assert rep["open_deals"] and rep["contacts"][0]["email"] == "maria.gonzalez@acme-corp.example"
    support = client.get("/v1/accounts/A001", headers=keys["U010"]).json()
    assert support["open_deals"] is None and support["contacts"][0]["email"].startswith("m***@")
    other = client.get("/v1/accounts/A001", headers=keys["U004"])
    assert other.status_code == 404 and other.headers["content-type"] == PROBLEM


def test_search_respects_roles(client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    body = {"query": "FlowGuard pressure drop plant 2", "k": 5}
    rep = client.post("/v1/search", headers=keys["U001"], json=body).json()
    assert "I90001" in {c["record_id"] for c in rep}
    other = client.post("/v1/search", headers=keys["U004"], json=body).json()
    assert "I90001" not in {c["record_id"] for c in other}
    denied = client.post(
        "/v1/search", headers=keys["U010"], json={**body, "sources": ["interactions"]}
    )
    assert denied.status_code == 403


def test_chat_json_then_follow_up_and_conversation(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    first = client.post(
        "/v1/chat", headers=keys["U001"], json={"message": "prepare me for my meeting with Acme"}
    )
    assert first.status_code == 200
    reply = first.json()
    assert {"A001", "T9001"} <= {c["record_id"] for c in reply["citations"]}
    follow = client.post(
        "/v1/chat", headers=keys["U001"],
        json={"message": "and their open tickets?", "conversation_id": reply["conversation_id"]},
    ).json()  # fmt: skip
    assert "T9001" in follow["answer"]
    stored = client.get(
        f"/v1/conversations/{reply['conversation_id']}", headers=keys["U001"]
    ).json()
    assert [m["role"] for m in stored["messages"]] == ["user", "assistant"] * 2
    assert stored["messages"][1]["tool_calls"][0]["name"] == "find_customer"
    assert "Maria Gonzalez" in stored["messages"][1]["content"]  # revealed for the owner
    theirs = client.get(f"/v1/conversations/{reply['conversation_id']}", headers=keys["U004"])
    assert theirs.status_code == 404


def test_chat_streams_server_sent_events(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    headers = {**keys["U001"], "Accept": "text/event-stream"}
    with client.stream(
        "POST", "/v1/chat", headers=headers, json={"message": "how do I fix error E3?"}
    ) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        text = "".join(response.iter_text())
    events = [
        (
            block.split("\n")[0].removeprefix("event: "),
            json.loads(block.split("\n")[1].removeprefix("data: ")),
        )
        for block in text.strip().split("\n\n")
    ]
    kinds = [k for k, _ in events]
    assert kinds[0] == "tool_call" and kinds[-1] == "reply" and "token" in kinds
    assert "".join(d["text"] for k, d in events if k == "token") == events[-1][1]["answer"]


def test_logging_is_idempotent(client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    body = {
        "account_id": "A001",
        "channel": "call",
        "summary": "Confirmed delivery window for the skid.",
        "follow_up_on": "2026-12-01",
    }
    headers = {**keys["U001"], "Idempotency-Key": "evt-42"}
    first = client.post("/v1/interactions", headers=headers, json=body)
    again = client.post("/v1/interactions", headers=headers, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json()["interaction_id"] == first.json()["interaction_id"]
    assert again.json()["task_id"] == first.json()["task_id"]
    other = client.post(
        "/v1/interactions", headers={**keys["U004"], "Idempotency-Key": "x"}, json=body
    )
    assert other.status_code == 404
    support = client.post("/v1/interactions", headers=keys["U010"], json=body)
    assert support.status_code == 403


def test_a_chat_message_resent_with_its_idempotency_key_logs_once(
    client: TestClient, keys: dict[str, dict[str, str]], sample_rt: Runtime
) -> None:
    message = {"message": "log a call with Acme: Tom asked for the plant 2 drawings by Monday"}
    headers = {**keys["U001"], "Idempotency-Key": "chat-msg-7"}
    first = client.post("/v1/chat", headers=headers, json=message).json()
    again = client.post("/v1/chat", headers=headers, json=message).json()
    assert first["answer"].startswith("Logged the call with Acme Corporation")
    assert "already logged" in again["answer"]
    fresh = client.post(
        "/v1/chat", headers={**headers, "Idempotency-Key": "chat-msg-8"}, json=message
    )
    assert fresh.json()["answer"].startswith("Logged the call")  # a new key is a new message
    with sample_rt.sessions() as session:
        logged = session.scalars(
            sa.select(Interaction.id).where(Interaction.body.contains("plant 2 drawings"))
        ).all()
    assert len(logged) == 2


def test_pipeline_query_parameters(client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    params = {"group_by": "stage", "metric": "count"}
    grouped = client.get("/v1/pipeline", headers=keys["U013"], params=params).json()
    assert sum(row[-1] for row in grouped["rows"]) == 120 and grouped["chart"]["labels"]
    listed = client.get(
        "/v1/pipeline", headers=keys["U001"],
        params=[("stages", "negotiation"), ("stages", "proposal"), ("min_amount", "50000")],
    ).json()  # fmt: skip
    assert listed["rows"] and all(
        r[3] in ("negotiation", "proposal") and r[4] >= 50000 for r in listed["rows"]
    )
    period = client.get(
        "/v1/pipeline", headers=keys["U003"], params={"close_period": "this quarter"}
    )
    assert period.status_code == 200
    assert client.get("/v1/pipeline", headers=keys["U010"]).status_code == 403
    bad = client.get("/v1/pipeline", headers=keys["U013"], params={"stages": "almost-won"})
    assert bad.status_code == 422


def test_tasks(client: TestClient, keys: dict[str, dict[str, str]]) -> None:
    listed = client.get("/v1/tasks", headers=keys["U001"], params={"due": "next month"})
    assert listed.status_code == 200
    assert (
        client.get("/v1/tasks", headers=keys["U001"], params={"due": "whenever"}).status_code == 400
    )


def test_import_is_admin_only_and_validates_first(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr(
            "export/users.csv",
            "id,name,email,role,team\nU099,New Person,new@aquapure.example,boss,APAC\n",
        )
    bad = buffer.getvalue()
    headers = {"Content-Type": "application/zip"}
    assert (
        client.post("/v1/import", headers={**keys["U001"], **headers}, content=bad).status_code
        == 403
    )
    refused = client.post("/v1/import", headers={**keys["U013"], **headers}, content=bad)
    assert refused.status_code == 422
    assert refused.json()["problems"][0].startswith("users.csv:2: role:")
    good = "---\ntitle: Parking at the Shanghai office\naudience: internal\n---\nUse level B2.\n"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        zipped.writestr("kb/KB-API-1.md", good)
    done = client.post("/v1/import", headers={**keys["U013"], **headers}, content=buffer.getvalue())
    assert done.status_code == 200, done.text
    assert done.json()["counts"]["kb articles"]["inserted"] == 1
    assert done.json()["records_indexed"] >= 1
    junk = client.post("/v1/import", headers={**keys["U013"], **headers}, content=b"not a zip")
    assert junk.status_code == 400 and "zip" in junk.json()["detail"]


def test_request_size_limit_and_request_ids(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    huge = client.post("/v1/search", headers=keys["U001"], content=b"x" * 2_000_000)
    assert huge.status_code == 413 and huge.headers["content-type"] == PROBLEM
    echoed = client.get("/healthz", headers={"X-Request-ID": "abc-123"})
    assert echoed.headers["X-Request-ID"] == "abc-123"


def test_metrics_count_requests(client: TestClient) -> None:
    client.get("/healthz")
    text = client.get("/metrics").text
    assert 'crmassist_http_requests_total{method="GET",route="/healthz",status="200"}' in text


def test_openapi_documents_the_endpoints(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/chat",
        "/v1/search",
        "/v1/accounts/{account_id}",
        "/v1/pipeline",
        "/v1/import",
    ):
        assert path in paths


def test_an_unsure_reading_comes_back_as_choices_in_json_and_sse(
    client: TestClient,
    keys: dict[str, dict[str, str]],
    sample_rt: Runtime,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Below the confidence bar, a request no record settles is asked back and the reply
    carries `choices`; sending a choice's message with its intent answers that reading."""
    monkeypatch.setattr(sample_rt.intents, "bar", 1.0)  # nothing is sure enough
    asked = client.post("/v1/chat", headers=keys["U001"], json={"message": "pipeline by stage"})
    reply = asked.json()
    assert reply["choices"] and reply["choices"][0]["intent"] == "pipeline_query"
    assert reply["choices"][0]["message"] == "pipeline by stage"
    assert "Did you mean" in reply["answer"] and not reply["tool_calls"]

    headers = {**keys["U001"], "Accept": "text/event-stream"}
    with client.stream(
        "POST", "/v1/chat", headers=headers, json={"message": "pipeline by stage"}
    ) as response:
        final = response.iter_text()
        streamed = "".join(final).strip().split("\n\n")[-1]
    assert json.loads(streamed.split("\n")[1].removeprefix("data: "))["choices"] == reply["choices"]

    picked = reply["choices"][0]
    answered = client.post(
        "/v1/chat", headers=keys["U001"],
        json={"message": picked["message"], "intent": picked["intent"],
              "conversation_id": reply["conversation_id"]},
    ).json()  # fmt: skip
    assert answered["choices"] == [] and answered["tool_calls"][0]["name"] == "pipeline_query"
    assert "| stage |" in answered["answer"]
    bad = client.post(
        "/v1/chat", headers=keys["U001"], json={"message": "hi", "intent": "DROP TABLE"}
    )
    assert bad.status_code == 422
