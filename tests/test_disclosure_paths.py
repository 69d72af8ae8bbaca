"""Every exit masks by role: each route of the app (enumerated from the app itself, so a
new route fails here until it is walked), each SSE event and each Slack reply, as each
role, over a note, a ticket and a task seeded with every type of personal data."""

from __future__ import annotations

import io
import json
import time
import urllib.parse
import zipfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient
from starlette.routing import Route

from crmassist.access.keys import issue_key
from crmassist.access.principal import Principal
from crmassist.api import create_app
from crmassist.db import session_scope
from crmassist.runtime import Runtime
from tests.agent_support import who
from tests.pii_seed import (
    ACCOUNT,
    NOTE_ID,
    ROLES,
    SLACK_IDS,
    TASK_ID,
    TICKET_ID,
    VALUES,
    leaks,
    seeded_runtime,
    shown,
)
from tests.slack_stub import SlackStub, mention, serve, signed, slack_runtime

pytestmark = pytest.mark.slow

CHAT_QUESTIONS = [
    "prepare me for my meeting with Acme",
    "what did we note about the refund for Terence Vassiliev?",
    "what are my tasks this week?",
    "show Acme's open tickets",
]


@dataclass
class Walk:
    rt: Runtime
    client: TestClient
    slack: SlackStub
    headers: dict[str, dict[str, str]]
    principals: dict[str, Principal]


@pytest.fixture(scope="module")
def walk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Walk]:
    rt = seeded_runtime(tmp_path_factory.mktemp("seeded"))
    stub = SlackStub()
    with serve(stub) as url, TestClient(create_app(runtime=slack_runtime(rt, url))) as client:
        with session_scope(rt.sessions) as session:
            keys = {u: issue_key(session, u, "walk").key for u in ROLES.values()}
        headers = {u: {"Authorization": f"Bearer {k}"} for u, k in keys.items()}
        yield Walk(rt, client, stub, headers, {u: who(rt, u) for u in ROLES.values()})
    rt.close()


Call = Callable[[Walk, str], list[str]]
"""Makes a route's requests as one user; returns every text that came back."""


def _json(response: Any) -> str:
    return response.text


def _get(path: str) -> Call:
    return lambda w, user: [_json(w.client.get(path, headers=w.headers[user]))]


def _post(path: str, body: dict[str, Any]) -> Call:
    return lambda w, user: [_json(w.client.post(path, headers=w.headers[user], json=body))]


def _chat(w: Walk, user: str) -> list[str]:
    out = []
    for question in CHAT_QUESTIONS:
        response = w.client.post("/v1/chat", headers=w.headers[user], json={"message": question})
        out.append(response.text)
        sse = {**w.headers[user], "Accept": "text/event-stream"}
        with w.client.stream("POST", "/v1/chat", headers=sse, json={"message": question}) as s:
            out += [block for block in "".join(s.iter_text()).split("\n\n") if block]
    return out


def _conversation(w: Walk, user: str) -> list[str]:
    reply = w.client.post("/v1/chat", headers=w.headers[user], json={"message": CHAT_QUESTIONS[1]})
    if reply.status_code != 200:
        return [reply.text]
    conversation_id = reply.json()["conversation_id"]
    path = f"/v1/conversations/{conversation_id}"
    return [reply.text, w.client.get(path, headers=w.headers[user]).text]


def _search(w: Walk, user: str) -> list[str]:
    queries = ["refund Terence Vassiliev card IBAN", "callback doubled charge insurance"]
    return [
        w.client.post("/v1/search", headers=w.headers[user], json={"query": q, "k": 10}).text
        for q in queries
    ]


def _log(w: Walk, user: str) -> list[str]:
    body = {
        "account_id": ACCOUNT,
        "channel": "call",
        "summary": "Terence Vassiliev called from +44 20 7946 0321, card 4539 1488 0343 6467",
    }
    return [w.client.post("/v1/interactions", headers=w.headers[user], json=body).text]


def _records(w: Walk, user: str) -> list[str]:
    paths = [f"/v1/records/interactions/{NOTE_ID}", f"/v1/records/tickets/{TICKET_ID}"]
    paths.append(f"/v1/records/tasks/{TASK_ID}")
    return [w.client.get(p, headers=w.headers[user]).text for p in paths]


def _import(w: Walk, user: str) -> list[str]:
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("users.csv", "id,name,email,role,team\nU999,x,474-49-7577,rep,x\n")
    headers = {**w.headers[user], "Content-Type": "application/zip"}
    return [w.client.post("/v1/import", headers=headers, content=archive.getvalue()).text]


def _backup(w: Walk, user: str) -> list[str]:
    """Admins get the whole data set as an archive (theirs to see); others a refusal."""
    response = w.client.post("/v1/admin/backup", headers=w.headers[user])
    if response.status_code == 200:
        return [f"an archive of {len(response.content)} bytes"]
    return [response.text]


def _reminders(w: Walk, user: str) -> list[str]:
    listed = w.client.get("/v1/reminders?include_done=true", headers=w.headers[user])
    cancelled = w.client.delete("/v1/reminders/R-NONE", headers=w.headers[user])
    return [listed.text, cancelled.text]


def _time_zone(w: Walk, user: str) -> list[str]:
    body = {"time_zone": "UTC"}
    return [_json(w.client.put("/v1/me/time-zone", headers=w.headers[user], json=body))]


CHART = {"title": "Deals", "x_label": "stage", "y_label": "deals", "labels": ["won"],
         "series": {"deals": [1.0]}}  # fmt: skip


def _slack(w: Walk, user: str) -> list[str]:
    """A mention and a `/crm ask` as the user's Slack account; the bot's replies."""
    slack_user = SLACK_IDS[user]
    before = len(w.slack.calls)
    for i, question in enumerate(CHAT_QUESTIONS[:2]):
        ts = f"{time.time_ns() // 1000}.{i:06d}"
        event = mention(slack_user, question, ts)
        body = json.dumps({"type": "event_callback", "team_id": "T1",
                           "event_id": f"Ev{time.time_ns()}", "event": event})  # fmt: skip
        posted = _posts(w.slack)
        w.client.post(
            "/slack/events",
            content=body,
            headers={"Content-Type": "application/json", **signed(body)},
        )
        w.slack.wait_for("chat.postMessage", count=posted + 1)
    fields = {"command": "/crm", "text": f"ask {CHAT_QUESTIONS[1]}", "user_id": slack_user,
              "channel_id": "C1", "team_id": "T1",
              "response_url": f"{w.slack.base}response/{user}"}  # fmt: skip
    form = urllib.parse.urlencode(fields)
    responded = _responses(w.slack)
    ack = w.client.post(
        "/slack/events",
        content=form,
        headers={"Content-Type": "application/x-www-form-urlencoded", **signed(form)},
    )
    w.slack.wait_for("response_url", count=responded + 1)
    return [ack.text] + [json.dumps(args, ensure_ascii=False) for _, args in w.slack.calls[before:]]


def _posts(stub: SlackStub) -> int:
    return sum(1 for m, _ in stub.calls if m == "chat.postMessage")


def _responses(stub: SlackStub) -> int:
    return sum(1 for m, _ in stub.calls if m == "response_url")


WALKS: dict[tuple[str, str], Call] = {
    ("GET", "/healthz"): _get("/healthz"),
    ("GET", "/readyz"): _get("/readyz"),
    ("GET", "/metrics"): _get("/metrics"),
    ("GET", "/"): _get("/"),
    ("GET", "/openapi.json"): _get("/openapi.json"),
    ("GET", "/docs"): _get("/docs"),
    ("GET", "/docs/oauth2-redirect"): _get("/docs/oauth2-redirect"),
    ("GET", "/redoc"): _get("/redoc"),
    ("POST", "/v1/chat"): _chat,
    ("GET", "/v1/conversations/{conversation_id}"): _conversation,
    ("POST", "/v1/search"): _search,
    ("GET", "/v1/accounts"): _get("/v1/accounts?q=Acme"),
    ("GET", "/v1/accounts/{account_id}"): _get(f"/v1/accounts/{ACCOUNT}"),
    ("POST", "/v1/interactions"): _log,
    ("GET", "/v1/pipeline"): _get(f"/v1/pipeline?account_id={ACCOUNT}"),
    ("GET", "/v1/tasks"): _get("/v1/tasks?include_done=true"),
    ("GET", "/v1/me"): _get("/v1/me"),
    ("GET", "/v1/records/{kind}/{record_id}"): _records,
    ("POST", "/v1/import"): _import,
    ("POST", "/slack/events"): _slack,
    ("GET", "/v1/audit"): _get("/v1/audit?limit=500"),
    ("POST", "/v1/privacy/export"): _post("/v1/privacy/export", {"contact_id": "C0001"}),
    # An unknown contact: erasing the seeded one would change what later walks see.
    ("POST", "/v1/privacy/erase"): _post("/v1/privacy/erase", {"contact_id": "C-NONE"}),
    ("POST", "/v1/privacy/purge"): _post("/v1/privacy/purge", {"days": 36500}),
    ("POST", "/v1/admin/backup"): _backup,
    ("GET", "/v1/dashboard"): _get("/v1/dashboard"),
    ("POST", "/v1/charts/vega-lite"): _post("/v1/charts/vega-lite", CHART),
    ("GET", "/v1/reminders"): _reminders,
    ("DELETE", "/v1/reminders/{reminder_id}"): _reminders,
    ("PUT", "/v1/me/time-zone"): _time_zone,
}


def app_routes(routes: Sequence[Any], prefix: str = "") -> set[tuple[str, str]]:
    """(method, path) of every route, inside included routers too (FastAPI keeps those as
    wrappers around the original router)."""
    found = set()
    for route in routes:
        if isinstance(route, Route):
            found |= {(m, prefix + route.path) for m in (route.methods or ()) if m != "HEAD"}
        elif (inner := getattr(route, "original_router", None)) is not None:
            found |= app_routes(inner.routes, prefix + route.include_context.prefix)
    return found


def test_every_route_is_walked(walk: Walk) -> None:
    assert app_routes(walk.client.app.routes) == set(WALKS)  # type: ignore[attr-defined]


@pytest.mark.parametrize("role", list(ROLES))
def test_no_route_shows_a_role_what_it_may_not_see(walk: Walk, role: str) -> None:
    user = ROLES[role]
    principal = walk.principals[user]
    responses = {route: call(walk, user) for route, call in WALKS.items()}
    leaked = {
        route: found
        for route, texts in responses.items()
        if (found := sorted({v for t in texts for v in leaks(t, principal)}))
    }
    assert leaked == {}
    seen = set().union(*(shown(t) for texts in responses.values() for t in texts))
    if role == "admin":  # the walk reaches the seeded records: admins see every value
        assert seen == {v.value for v in VALUES}
    if role == "rep":  # the owner sees the contact details in full
        assert {"+44 20 7946 0321", "terence.vassiliev@northwind-mail.example"} <= seen
