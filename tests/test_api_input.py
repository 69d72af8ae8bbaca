"""Bad input gets a 4xx with a problem body, never a 500: times without a zone, blank text,
ids with control characters, huge offsets and dates, bodies over the limit however they
arrive, a reused idempotency key, someone else's conversation streamed; the access log
keeps query values out; an error leaves the keep-alive connection usable."""

from __future__ import annotations

import http.client
import json
import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from crmassist.api import create_app
from crmassist.domain.models import Interaction
from crmassist.runtime import Runtime
from tests.api_support import bearer_keys, mini_runtime
from tests.conftest import fresh_database

pytestmark = pytest.mark.slow
PROBLEM = "application/problem+json"


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = mini_runtime(tmp_path_factory.mktemp("api-input"))
    yield runtime
    runtime.close()


@pytest.fixture(scope="module")
def app(rt: Runtime) -> FastAPI:
    return create_app(runtime=rt)


@pytest.fixture(scope="module")
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def keys(rt: Runtime) -> dict[str, dict[str, str]]:
    """U1 and U2 are reps with an account each (A1, A2), U5 an admin."""
    return bearer_keys(rt, "U1", "U2", "U5")


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["request_id"]
    return body


def _error_locs(response: Any) -> list[list[Any]]:
    return [e["loc"] for e in _problem(response, 422)["errors"]]


@pytest.mark.parametrize(
    ("given", "stored"),
    [
        ("2026-11-19T10:00:00", "2026-11-19T10:00:00Z"),
        ("2026-11-19", "2026-11-19T00:00:00Z"),
        ("2026-11-19T10:00:00+08:00", "2026-11-19T02:00:00Z"),
    ],
)
def test_a_time_without_an_offset_is_utc_as_in_the_import_format(
    client: TestClient, keys: dict[str, dict[str, str]], given: str, stored: str
) -> None:
    body = {"account_id": "A1", "summary": f"Site visit ({given}).", "occurred_at": given}
    logged = client.post("/v1/interactions", headers=keys["U1"], json=body)
    assert logged.status_code == 201, logged.text
    assert logged.json()["occurred_at"] == stored


def test_blank_text_is_refused_with_the_field_named(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    note = client.post(
        "/v1/interactions", headers=keys["U1"], json={"account_id": "A1", "summary": "  \n"}
    )
    assert _error_locs(note) == [["body", "summary"]]
    chat = client.post("/v1/chat", headers=keys["U1"], json={"message": " \t "})
    assert _error_locs(chat) == [["body", "message"]]
    streamed = client.post(
        "/v1/chat",
        headers={**keys["U1"], "Accept": "text/event-stream"},
        json={"message": "   "},
    )
    assert _error_locs(streamed) == [["body", "message"]]
    search = client.post("/v1/search", headers=keys["U1"], json={"query": "   "})
    assert _error_locs(search) == [["body", "query"]]


def test_offsets_past_any_page_are_refused_and_the_deepest_allowed_page_is_empty(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    for offset in (2**63, 10**19, 10**30):
        response = client.get("/v1/accounts", headers=keys["U1"], params={"offset": offset})
        assert _error_locs(response) == [["query", "offset"]]
    deepest = client.get("/v1/accounts", headers=keys["U1"], params={"offset": 1_000_000_000})
    assert deepest.status_code == 200 and deepest.json()["items"] == []


@pytest.mark.parametrize(
    ("path", "params"),
    [
        ("/v1/tasks", {"due": "in 99999999 days"}),
        ("/v1/tasks", {"due": "in 9999999999999 weeks"}),
        ("/v1/pipeline", {"close_period": "last 99999999 days"}),
        ("/v1/pipeline", {"created_period": "past 99999 months"}),
    ],
)
def test_dates_beyond_the_calendar_are_unreadable_not_a_crash(
    client: TestClient, keys: dict[str, dict[str, str]], path: str, params: dict[str, str]
) -> None:
    body = _problem(client.get(path, headers=keys["U5"], params=params), 400)
    assert "cannot read" in body["detail"]


CONTROL_CHARACTERS = pytest.mark.parametrize(
    ("method", "path", "payload"),
    [
        ("GET", "/v1/accounts/%00'", None),
        ("GET", "/v1/accounts/A1%0A", None),
        ("GET", "/v1/records/interactions/%00'", None),
        ("GET", "/v1/conversations/%00'", None),
        ("GET", "/v1/tasks?account_id=%00'", None),
        ("GET", "/v1/accounts?q=%00'", None),
        ("GET", "/v1/pipeline?account_names=%00'", None),
        ("POST", "/v1/interactions", {"account_id": "\x00'", "summary": "x"}),
        ("POST", "/v1/interactions", {"account_id": "A1", "summary": "x\x00"}),
        ("POST", "/v1/search", {"query": "filters", "account_id": "A1\x00'"}),
        ("POST", "/v1/chat", {"message": "hi", "conversation_id": "\x00'"}),
        ("POST", "/v1/chat", {"message": "hi\x00"}),
    ],
)


@CONTROL_CHARACTERS
def test_ids_and_text_with_nul_or_control_characters_are_refused(
    client: TestClient,
    keys: dict[str, dict[str, str]],
    method: str,
    path: str,
    payload: dict[str, str] | None,
) -> None:
    response = client.request(method, path, headers=keys["U5"], json=payload)
    assert _error_locs(response), response.text


@pytest.fixture(scope="module")
def pg_client(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[TestClient, dict[str, str]]]:
    tmp = tmp_path_factory.mktemp("api-input-pg")
    with fresh_database("postgres", request, tmp) as url:
        runtime = mini_runtime(tmp, database_url=url)
        admin = bearer_keys(runtime, "U5")["U5"]
        with TestClient(create_app(runtime=runtime), raise_server_exceptions=False) as test_client:
            yield test_client, admin
        runtime.close()


@pytest.mark.postgres
@CONTROL_CHARACTERS
def test_nul_never_reaches_postgresql(
    pg_client: tuple[TestClient, dict[str, str]],
    method: str,
    path: str,
    payload: dict[str, str] | None,
) -> None:
    """PostgreSQL refuses NUL in text: unchecked, these fail there as a 500."""
    client, admin = pg_client
    assert _error_locs(client.request(method, path, headers=admin, json=payload))


def test_a_chunked_body_over_the_limit_gets_413(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    """No Content-Length to check: the limit is counted on the body itself."""

    def body() -> Iterator[bytes]:
        for _ in range(50):
            yield b"x" * 100_000

    response = client.post("/v1/search", headers=keys["U1"], content=body())
    assert "the limit is" in _problem(response, 413)["detail"]


def test_the_server_stops_reading_a_chunked_body_just_past_the_limit(
    served: int, meter: BodyMeter, keys: dict[str, dict[str, str]], rt: Runtime
) -> None:
    """50 MB sent chunked over a real connection: the app takes in about the limit only."""
    chunk = b"x" * 100_000
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=30)
    headers = {**keys["U1"], "Content-Type": "application/json"}
    try:
        connection.request(
            "POST", "/v1/search", body=(chunk for _ in range(500)), headers=headers,
            encode_chunked=True,
        )  # fmt: skip
        status = connection.getresponse().status
    except (BrokenPipeError, ConnectionResetError):
        status = 413  # answered and closed while the client was still sending
    connection.close()
    assert status == 413
    limit = rt.settings.max_request_bytes
    assert 0 < meter.received <= 2 * limit  # the limit and what uvicorn had read with it


def test_an_idempotency_key_sent_with_a_different_note_is_refused(
    client: TestClient, keys: dict[str, dict[str, str]], rt: Runtime
) -> None:
    headers = {**keys["U1"], "Idempotency-Key": "input-reuse-1"}
    body = {
        "account_id": "A1",
        "summary": "Quoted the filter upgrade.",
        "follow_up_on": "2026-12-02",
    }
    first = client.post("/v1/interactions", headers=headers, json=body)
    again = client.post("/v1/interactions", headers=headers, json=body)
    assert (first.status_code, again.status_code) == (201, 200)
    for change in ({"summary": "Something else entirely."}, {"follow_up_on": "2026-12-09"},
                   {"channel": "email"}, {"account_id": "A2"}):  # fmt: skip
        other = client.post("/v1/interactions", headers=headers, json={**body, **change})
        if other.status_code == 404:  # A2 is not U1's: not found before any replay
            continue
        problem = _problem(other, 422)
        assert (
            problem["title"] == "Idempotency key reused" and next(iter(change)) in problem["detail"]
        )
    with rt.sessions() as session:
        notes = session.scalars(
            sa.select(Interaction.id).where(Interaction.idempotency_key == "input-reuse-1")
        ).all()
    assert notes == [first.json()["interaction_id"]]


def test_streaming_someone_elses_conversation_is_a_404_before_the_stream(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    mine = client.post("/v1/chat", headers=keys["U1"], json={"message": "how do I fix error E3?"})
    conversation = mine.json()["conversation_id"]
    theirs = client.post(
        "/v1/chat",
        headers={**keys["U2"], "Accept": "text/event-stream"},
        json={"message": "and E4?", "conversation_id": conversation},
    )
    assert "no conversation" in _problem(theirs, 404)["detail"]


def test_the_access_log_keeps_query_values_out(
    client: TestClient, keys: dict[str, dict[str, str]], caplog: pytest.LogCaptureFixture
) -> None:
    secret = "crm_0123456789ab_s3cr3t-value"
    with caplog.at_level(logging.INFO, logger="crmassist.access"):
        client.get(
            "/v1/accounts",
            headers=keys["U1"],
            params={"q": "Maria Gonzalez", "api_key": secret, secret: "", "limit": 3},
        )
    lines = [r.getMessage() for r in caplog.records if r.name == "crmassist.access"]
    assert lines and lines[-1].startswith("GET /v1/accounts?q=***&api_key=***&?=***&limit=*** 200")
    assert not any(secret in line or "Maria" in line for line in lines)


class BodyMeter:
    """ASGI wrapper: how many body bytes the server handed the app in the last request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app, self.received = app, 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.received = 0

        async def counted() -> Message:
            message = await receive()
            self.received += len(message.get("body", b""))
            return message

        await self.app(scope, counted, send)


@pytest.fixture(scope="module")
def meter(app: FastAPI) -> BodyMeter:
    return BodyMeter(app)


@pytest.fixture(scope="module")
def served(app: FastAPI, meter: BodyMeter) -> Iterator[int]:
    """The app behind a real uvicorn on a free loopback port, with one route that fails."""

    def boom() -> None:
        raise RuntimeError("a bug")

    app.add_api_route("/test-only/boom", boom, include_in_schema=False)
    server = uvicorn.Server(uvicorn.Config(meter, host="127.0.0.1", port=0, log_config=None))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "uvicorn did not start"
    yield server.servers[0].sockets[0].getsockname()[1]
    server.should_exit = True
    thread.join(timeout=10)


def test_an_error_leaves_the_keep_alive_connection_usable(served: int) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
    connection.request("GET", "/test-only/boom")
    failed = connection.getresponse()
    body = json.loads(failed.read())
    assert (failed.status, failed.getheader("content-type")) == (500, PROBLEM)
    assert body["detail"] == "the error was logged with its request id"
    assert "a bug" not in json.dumps(body)
    connection.request("GET", "/healthz")  # the same connection, as a pooling client does
    assert connection.getresponse().status == 200
    connection.close()


def test_uvicorns_access_line_is_redacted_too(
    served: int, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="uvicorn.access"):
        connection = http.client.HTTPConnection("127.0.0.1", served, timeout=10)
        connection.request("GET", "/healthz?token=crm_abc_secret&who=Maria")
        assert connection.getresponse().status == 200
        connection.close()
        deadline = time.monotonic() + 5
        while not _access_lines(caplog) and time.monotonic() < deadline:
            time.sleep(0.05)  # uvicorn writes the line after the response
    lines = _access_lines(caplog)
    assert any("/healthz?token=***&who=***" in line for line in lines), lines
    assert not any("secret" in line or "Maria" in line for line in lines)


def _access_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == "uvicorn.access"]


def test_the_openapi_document_declares_problem_details_for_every_error(
    client: TestClient,
) -> None:
    document = client.get("/openapi.json").json()
    assert "Problem" in document["components"]["schemas"]
    for path, operations in document["paths"].items():
        if not path.startswith("/v1/"):
            continue
        for method, operation in operations.items():
            responses = operation["responses"]
            for status in ("401", "403", "404", "409", "413", "422", "503"):
                content = responses[status]["content"]
                assert list(content) == [PROBLEM], (method, path, status)
                assert content[PROBLEM]["schema"] == {"$ref": "#/components/schemas/Problem"}
            success = next(s for s in responses if s.startswith("2"))
            bodies = responses[success]["content"]  # JSON (an SSE stream beside), or a file
            declared = bodies.get("application/json", bodies.get("application/gzip", {}))
            assert declared.get("schema"), (method, path)


def test_a_single_valued_query_parameter_sent_twice_is_a_422(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    twice = client.get("/v1/tasks?account_id=A1&account_id=A2", headers=keys["U5"])
    assert twice.status_code == 422
    assert twice.json()["errors"][0]["loc"] == ["query", "account_id"]
    many = client.get("/v1/pipeline?stages=negotiation&stages=proposal", headers=keys["U5"])
    assert many.status_code == 200  # a list parameter takes repeats


def test_optional_query_parameters_are_documented_as_strings_not_nullable(
    client: TestClient,
) -> None:
    """A URL has no null: documented as nullable, `?user=null` reads as a null to clients."""
    document = client.get("/openapi.json").json()
    audit = {p["name"]: p["schema"] for p in document["paths"]["/v1/audit"]["get"]["parameters"]}
    assert audit["user"]["type"] == "string" and "anyOf" not in audit["user"]


@pytest.mark.parametrize(
    ("path", "body", "loc"),
    [
        ("/v1/search", {"query": "pump", "k": True}, ["body", "k"]),
        ("/v1/privacy/purge", {"days": True}, ["body", "days"]),
        (
            "/v1/charts/vega-lite",
            {
                "title": "t",
                "x_label": "x",
                "y_label": "y",
                "labels": ["a"],
                "series": {"s": [True]},
            },
            ["body", "series", "s", 0],
        ),
    ],
)
def test_true_is_not_a_number(
    client: TestClient, keys: dict[str, dict[str, str]], path: str, body: Any, loc: list[Any]
) -> None:
    assert loc in _error_locs(client.post(path, json=body, headers=keys["U5"]))


def test_an_integral_json_number_is_an_integer(
    client: TestClient, keys: dict[str, dict[str, str]]
) -> None:
    found = client.post("/v1/search", json={"query": "pump", "k": 2.0}, headers=keys["U5"])
    assert found.status_code == 200, found.text
