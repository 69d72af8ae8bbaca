"""The Ollama path: the real ChatOllama client over real HTTP to a loopback server that
speaks Ollama's /api/chat (newline-delimited JSON), with a tool call and an answer."""

from __future__ import annotations

import copy
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from crmassist.runtime import Runtime
from tests.agent_support import raw_personal_data, who

pytestmark = pytest.mark.slow
STAMP = "2026-11-20T10:00:00Z"


def lines(body: dict[str, Any]) -> list[dict[str, Any]]:
    """First request: call customer_overview; after the tool result: answer from it."""
    base = {"model": body.get("model", "stub"), "created_at": STAMP}
    done = {
        **base,
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
    }
    tool = next((m for m in reversed(body["messages"]) if m["role"] == "tool"), None)
    if tool is None:
        call = {"function": {"name": "customer_overview", "arguments": {"customer": "Acme"}}}
        return [
            {
                **base,
                "message": {"role": "assistant", "content": "", "tool_calls": [call]},
                "done": False,
            },
            done,
        ]
    name = json.loads(tool["content"])["contacts"][0]["name"]
    text = f"Acme's main contact is {name} [A001]."
    pieces = [text[i : i + 9] for i in range(0, len(text), 9)]
    return [
        {**base, "message": {"role": "assistant", "content": p}, "done": False} for p in pieces
    ] + [done]


@pytest.fixture
def ollama() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    requests: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            requests.append(body)
            payload = "".join(json.dumps(line) + "\n" for line in lines(body)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-ndjson")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, format: str, *args: Any) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", requests
    finally:
        server.shutdown()
        server.server_close()


def test_the_same_agent_on_ollama(
    sample_rt: Runtime, ollama: tuple[str, list[dict[str, Any]]]
) -> None:
    url, requests = ollama
    rt = copy.copy(sample_rt)
    rt.settings = sample_rt.settings.model_copy(
        update={"llm": "ollama", "llm_base_url": url, "llm_model": "qwen2.5"}
    )
    reply = rt.assistant().ask(who(rt, "U001"), "Who is the contact at Acme?")
    assert [c.name for c in reply.tool_calls] == ["customer_overview"]
    assert reply.answer == "Acme's main contact is Maria Gonzalez [A001]."
    assert requests[0]["model"] == "qwen2.5"
    assert {t["function"]["name"] for t in requests[0]["tools"]} >= {"customer_overview"}
    sent = json.dumps([r["messages"] for r in requests], ensure_ascii=False)
    assert [v for v in raw_personal_data() if v in sent] == []
