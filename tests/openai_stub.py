"""A loopback server that speaks OpenAI's chat-completions protocol, scripted per request.

The real `ChatOpenAI` client talks to it over real HTTP (JSON or server-sent events), so
the OpenAI-compatible path is tested end to end without a network.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from tests import loopback

Reply = dict[str, Any]
"""{"content": str} or {"tool": name, "arguments": {...}}"""
Step = Callable[[dict[str, Any]], Reply]


class OpenAIStub:
    def __init__(self, script: list[Step]) -> None:
        self.script = script
        self.requests: list[dict[str, Any]] = []

    def next_reply(self, body: dict[str, Any]) -> Reply:
        self.requests.append(body)
        return self.script[min(len(self.requests) - 1, len(self.script) - 1)](body)

    def transcript(self) -> str:
        return json.dumps([r["messages"] for r in self.requests], ensure_ascii=False)


def completion(reply: Reply) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.get("content")}
    finish = "stop"
    if "tool" in reply:
        message["tool_calls"] = [_tool_call(reply)]
        finish = "tool_calls"
    return {
        "id": "chatcmpl-stub", "object": "chat.completion", "created": 0, "model": "stub",
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }  # fmt: skip


def chunks(reply: Reply) -> Iterator[dict[str, Any]]:
    base = {"id": "chatcmpl-stub", "object": "chat.completion.chunk", "created": 0, "model": "stub"}
    if "tool" in reply:
        call = {"index": 0, **_tool_call(reply)}
        yield {
            **base,
            "choices": [
                {
                    "index": 0,
                    "delta": {"role": "assistant", "tool_calls": [call]},
                    "finish_reason": None,
                }
            ],
        }
        yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "tool_calls"}]}
        return
    text = reply["content"]
    for start in range(0, len(text), 7):  # small pieces: tokens split pseudonyms in two
        delta = {"role": "assistant", "content": text[start : start + 7]}
        yield {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": None}]}
    yield {**base, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}


def _tool_call(reply: Reply) -> dict[str, Any]:
    arguments = json.dumps(reply.get("arguments", {}))
    return {"id": f"call_{reply['tool']}", "type": "function",
            "function": {"name": reply["tool"], "arguments": arguments}}  # fmt: skip


@contextmanager
def serve(stub: OpenAIStub) -> Iterator[str]:
    """Run the stub on a free loopback port; yields the base URL for `CRMASSIST_LLM_BASE_URL`."""

    def handle(path: str, headers: dict[str, str], raw: bytes) -> tuple[str, bytes]:
        body = json.loads(raw)
        reply = stub.next_reply(body)
        if body.get("stream"):
            events = "".join(f"data: {json.dumps(chunk)}\n\n" for chunk in chunks(reply))
            return "text/event-stream", (events + "data: [DONE]\n\n").encode()
        return "application/json", json.dumps(completion(reply)).encode()

    with loopback.serve(handle) as base:
        yield f"{base}/v1"
