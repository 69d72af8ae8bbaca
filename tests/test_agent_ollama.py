"""The Ollama path: the real ChatOllama client over real HTTP to a loopback server that
speaks Ollama's /api/chat (newline-delimited JSON), with a tool call and an answer."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from crmassist.runtime import Runtime
from tests import loopback
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

    def handle(path: str, headers: dict[str, str], raw: bytes) -> tuple[str, bytes]:
        body = json.loads(raw)
        requests.append(body)
        return "application/x-ndjson", "".join(json.dumps(x) + "\n" for x in lines(body)).encode()

    with loopback.serve(handle) as url:
        yield url, requests


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
