"""The OpenAI-compatible path: the real ChatOpenAI client over real HTTP to a loopback
server, plain and streaming; the same agent graph, guard and tools as offline."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest

from crmassist.agent.assistant import Assistant
from crmassist.runtime import Runtime
from tests.agent_support import raw_personal_data, who
from tests.openai_stub import OpenAIStub, serve

pytestmark = pytest.mark.slow


def overview_then_echo(body: dict[str, Any]) -> dict[str, Any]:
    """Second request: answer from the tool result, copying a pseudonym as a real LLM would."""
    tool = next(m for m in reversed(body["messages"]) if m["role"] == "tool")
    result = json.loads(tool["content"])
    name = result["contacts"][0]["name"]
    tickets = len(result["open_tickets"])
    return {"content": f"Acme's main contact is {name}; open tickets: {tickets} [A001]."}


@pytest.fixture
def stub() -> OpenAIStub:
    return OpenAIStub(
        [
            lambda body: {"tool": "customer_overview", "arguments": {"customer": "Acme"}},
            overview_then_echo,
        ]
    )


@pytest.fixture
def assistant(sample_rt: Runtime, stub: OpenAIStub) -> Iterator[Assistant]:
    with serve(stub) as url:
        settings = sample_rt.settings.model_copy(
            update={"llm": "openai", "llm_base_url": url, "llm_model": "stub-model"}
        )
        rt = copy.copy(sample_rt)  # same services, the OpenAI settings on top
        rt.settings = settings
        yield rt.assistant()


def test_tool_calls_over_real_http(
    sample_rt: Runtime, assistant: Assistant, stub: OpenAIStub
) -> None:
    reply = assistant.ask(
        who(sample_rt, "U001"), "Who is the contact at Acme, maria.gonzalez@acme-corp.example?"
    )
    assert [c.name for c in reply.tool_calls] == ["customer_overview"]
    assert reply.answer == "Acme's main contact is Maria Gonzalez; open tickets: 2 [A001]."
    first = stub.requests[0]
    assert first["model"] == "stub-model"
    assert {t["function"]["name"] for t in first["tools"]} >= {
        "customer_overview",
        "pipeline_query",
    }
    assert (
        first["messages"][0]["role"] == "system" and "crmassist" in first["messages"][0]["content"]
    )
    assert [value for value in raw_personal_data() if value in stub.transcript()] == []
    assert "<EMAIL_" in stub.transcript()


def test_streaming_over_server_sent_events(
    sample_rt: Runtime, assistant: Assistant, stub: OpenAIStub
) -> None:
    events = list(assistant.stream(who(sample_rt, "U001"), "Who is the contact at Acme?"))
    assert any(r.get("stream") for r in stub.requests)
    tokens = [e.data["text"] for e in events if e.kind == "token"]
    assert len(tokens) > 3
    assert not any(re.search(r"<[A-Z_]*$", t) for t in tokens)  # no half pseudonyms shown
    assert "".join(tokens) == events[-1].data["answer"]
    assert "Maria Gonzalez" in events[-1].data["answer"]


def test_a_missing_endpoint_configuration_is_a_clear_error(sample_rt: Runtime) -> None:
    from crmassist.agent.models import ModelNotConfigured, remote_model

    settings = sample_rt.settings.model_copy(
        update={"llm": "openai", "llm_base_url": None, "llm_api_key": None}
    )
    with pytest.raises(ModelNotConfigured, match="CRMASSIST_LLM_API_KEY"):
        remote_model(settings)
