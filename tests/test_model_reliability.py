"""Outside model calls are bounded: a time-out per call, a few retries with backoff for
what is transient (no connection, 429, 5xx), then one line (CLI) or a 503 (API) that
names the model, never a client library's traceback. Real ChatOllama and ChatOpenAI
clients over real HTTP to a loopback server that decides every answer."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from crmassist.agent.models import ModelUnavailable
from crmassist.api import create_app
from crmassist.cli import app as cli_app
from crmassist.runtime import Runtime
from tests import loopback
from tests.agent_support import who
from tests.api_support import bearer_keys, mini_runtime
from tests.loopback import Reply

pytestmark = pytest.mark.slow
STAMP = "2026-11-20T10:00:00Z"
ANSWER = "Acme has two open tickets [A1]."


def ollama_answer(body: dict[str, Any]) -> bytes:
    message = {"role": "assistant", "content": ANSWER}
    line = {"model": body.get("model"), "created_at": STAMP, "message": message, "done": True}
    return (json.dumps({**line, "done_reason": "stop"}) + "\n").encode()


@contextmanager
def model_server(failures: int, status: int = 503, delay: float = 0.0) -> Iterator[dict[str, Any]]:
    """An Ollama /api/chat that fails `failures` times with `status` (or answers after
    `delay` seconds), then answers; records how many requests came."""
    seen: dict[str, Any] = {"requests": 0}

    def handle(path: str, headers: dict[str, str], body: bytes) -> tuple[str, bytes] | Reply:
        seen["requests"] += 1
        if delay:
            time.sleep(delay)
        if seen["requests"] <= failures:
            return Reply(status, "application/json", b'{"error": "overloaded"}')
        return "application/json", ollama_answer(json.loads(body))

    with loopback.serve(handle) as url:
        seen["url"] = url
        yield seen


def closed_port() -> str:
    """A loopback URL nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    runtime = mini_runtime(tmp_path_factory.mktemp("models") / "data")
    yield runtime
    runtime.close()


def on(rt: Runtime, **settings: Any) -> Runtime:
    """The same runtime (database, index, redactor) with another model configured."""
    import copy

    other = copy.copy(rt)
    other.settings = rt.settings.model_copy(update=settings)
    return other


def test_an_overloaded_ollama_is_retried_with_backoff_and_then_answers(rt: Runtime) -> None:
    with model_server(failures=2) as server:
        ollama = on(rt, llm="ollama", llm_base_url=server["url"], llm_max_retries=2)
        reply = ollama.assistant().ask(who(rt, "U1"), "open tickets of Acme?")
    assert reply.answer == ANSWER
    assert server["requests"] == 3


def test_retries_are_bounded_and_end_in_one_line(rt: Runtime) -> None:
    with model_server(failures=99) as server:
        ollama = on(rt, llm="ollama", llm_base_url=server["url"], llm_max_retries=1)
        with pytest.raises(ModelUnavailable) as failed:
            ollama.assistant().ask(who(rt, "U1"), "open tickets of Acme?")
    assert server["requests"] == 2  # the first try and one retry, no more
    message = str(failed.value)
    assert "\n" not in message and "answered 503" in message and server["url"] in message


def test_a_model_slower_than_the_time_out_is_cut_off(rt: Runtime) -> None:
    with model_server(failures=0, delay=3.0) as server:
        slow = on(rt, llm="ollama", llm_base_url=server["url"], llm_timeout_seconds=0.5,
                  llm_max_retries=0)  # fmt: skip
        started = time.monotonic()
        with pytest.raises(ModelUnavailable, match="timed out"):
            slow.assistant().ask(who(rt, "U1"), "open tickets of Acme?")
        assert time.monotonic() - started < 2.5


@pytest.mark.parametrize("kind", ["ollama", "openai"])
def test_an_unreachable_model_is_a_503_in_the_api(rt: Runtime, kind: str) -> None:
    url = closed_port() + ("/v1" if kind == "openai" else "")
    down = on(rt, llm=kind, llm_base_url=url, llm_max_retries=0)
    with TestClient(create_app(runtime=down)) as client:
        response = client.post(
            "/v1/chat", headers=bearer_keys(rt, "U1")["U1"], json={"message": "Acme tickets?"}
        )
    assert response.status_code == 503, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    detail = response.json()["detail"]
    assert detail.startswith(f"the {kind} model") and "unreachable" in detail and url in detail


def test_an_unreachable_model_is_one_line_in_the_cli(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    mini_runtime(tmp_path / "data").close()
    for name, value in {"LLM": "openai", "LLM_BASE_URL": closed_port() + "/v1",
                        "LLM_MAX_RETRIES": "0", "TODAY": "2026-11-20"}.items():  # fmt: skip
        monkeypatch.setenv(f"CRMASSIST_{name}", value)
    args = ["--data-dir", str(tmp_path / "data"), "ask", "open tickets of Acme?", "--as", "U1"]
    result = CliRunner().invoke(cli_app, args)
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert lines[0].startswith("error: the openai model 'gpt-4o-mini' at http://127.0.0.1:")
    assert "unreachable" in lines[0]
