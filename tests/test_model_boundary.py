"""The last gate at the model boundary, end to end: a real OpenAI client talks to a
loopback model that records every request, over notes seeded with every personal-data
type and over notes made from the outside labelled set (evals/pii/outside.jsonl); and
the index built from the same notes holds no raw values either."""

from __future__ import annotations

import copy
import json
import random
import re
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient

from crmassist.access.filters import match
from crmassist.access.policy import PayloadKey
from crmassist.api import create_app
from crmassist.domain.enums import SourceType
from crmassist.domain.models import AuditEvent
from crmassist.privacy import EntityType, Redacted
from crmassist.privacy.gate import model_gate
from crmassist.runtime import Runtime
from tests.agent_support import ROOT, who
from tests.openai_stub import OpenAIStub, serve
from tests.pii_seed import NOTE, OWNER, VALUES, leaks, seeded_runtime

pytestmark = pytest.mark.slow

OUTSIDE = ROOT / "evals" / "pii" / "outside.jsonl"
OUTSIDE_NOTES = 200
OUTSIDE_QUESTIONS = 60
NAMES = frozenset({EntityType.PERSON})
"""Names have no shape for the gate: whether one reaches a model is the redactor's recall
(measured in benchmarks/privacy.py); these tests hold every value that has a shape."""
OWNED = ["A001", "A003", "A005", "A009", "A011", "A013", "A015", "A017", "A019"]  # U001's


def outside_rows() -> list[dict[str, Any]]:
    """A seeded sample of the outside set's held-out (test) split, with at least one span."""
    if not OUTSIDE.exists():
        pytest.skip("the outside labelled set (evals/pii/outside.jsonl) is not built")
    rows = [json.loads(line) for line in OUTSIDE.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if r["split"] == "test" and r["entities"]]
    return random.Random(10).sample(rows, OUTSIDE_NOTES)


def as_note(i: int, row: dict[str, Any]) -> dict[str, Any]:
    return {"id": f"I1{i:04d}", "account_id": OWNED[i % len(OWNED)], "contact_id": None,
            "author_id": OWNER, "channel": "call", "occurred_at": "2026-11-10T09:00:00Z",
            "subject": None, "body": row["text"]}  # fmt: skip


@pytest.fixture(scope="module")
def outside() -> list[dict[str, Any]]:
    return outside_rows()


@pytest.fixture(scope="module")
def rt(
    tmp_path_factory: pytest.TempPathFactory, outside: list[dict[str, Any]]
) -> Iterator[Runtime]:
    notes = [as_note(i, row) for i, row in enumerate(outside)]
    runtime = seeded_runtime(tmp_path_factory.mktemp("boundary"), notes)
    yield runtime
    runtime.close()


def remote(rt: Runtime, url: str) -> Runtime:
    """The same services with the OpenAI-compatible model configured (PII_TO_LLM default)."""
    configured = copy.copy(rt)
    configured.settings = rt.settings.model_copy(
        update={"llm": "openai", "llm_base_url": url, "llm_model": "stub-model"}
    )
    assert configured.settings.pii_to_llm is False
    return configured


def search_then_echo() -> OpenAIStub:
    """Search the notes with the (pseudonymised) question, then repeat what came back."""

    def step(body: dict[str, Any]) -> dict[str, Any]:
        last = body["messages"][-1]
        if last["role"] == "tool":
            return {"content": f"Found: {last['content'][:1500]}"}
        arguments = {"query": last["content"][:300], "k": 5}
        return {"tool": "search_interactions", "arguments": arguments}

    return OpenAIStub([step])


def contents(stub: OpenAIStub) -> list[str]:
    """Every text the model was sent: system prompt, history, questions, tool results."""
    return [
        str(m.get("content") or "") + json.dumps(m.get("tool_calls") or [])
        for request in stub.requests
        for m in request["messages"]
    ]


def test_no_seeded_value_reaches_a_remote_model(rt: Runtime) -> None:
    stub = OpenAIStub(
        [
            lambda body: {"tool": "customer_overview", "arguments": {"account_id": "A001"}},
            lambda body: {"tool": "search_interactions", "arguments": {"query": "refund", "k": 5}},
            lambda body: {"tool": "list_tasks", "arguments": {}},
            lambda body: {"content": "Summary: " + body["messages"][-1]["content"][:2000]},
        ]
    )
    question = f"Summarise this call for me and what we know: {NOTE}"
    with serve(stub) as url:
        reply = remote(rt, url).assistant().ask(who(rt, OWNER), question)
    sent = "\n".join(contents(stub))
    assert len(stub.requests) == 4
    assert leaks(sent, None, NAMES) == []
    assert "<PERSON_" in sent and "<EMAIL_" in sent and "<PHONE_" in sent
    # the owner still reads the contact details (the task's phone); the card stays masked
    assert "+44 20 7946 0321" in reply.answer and "4539 1488 0343 6467" not in reply.answer


def blind(rt: Runtime) -> Runtime:
    """The same services, but a redactor that finds nothing: only the gate stands."""
    redactor = rt.redactor.with_known_names([])
    redactor.redact_many = lambda texts: [Redacted(t, ()) for t in texts]  # type: ignore[method-assign]
    redactor.detect_many = lambda texts, cautious=False: [[] for _ in texts]  # type: ignore[method-assign]
    configured = copy.copy(rt)
    configured.__dict__["redactor"] = redactor
    return configured


def test_when_the_redactor_misses_everything_the_gate_still_holds(rt: Runtime) -> None:
    stub = OpenAIStub([lambda body: {"content": "noted"}])
    with serve(stub) as url:
        configured = remote(blind(rt), url)
        with TestClient(create_app(runtime=configured)) as client:
            before = client.get("/metrics").text
            reply = configured.assistant().ask(who(rt, OWNER), f"Please log: {NOTE}")
            after = client.get("/metrics").text
    sent = "\n".join(contents(stub))
    structured = [v.value for v in VALUES if v.kind.value != "PERSON"]
    assert [v for v in structured if v in sent] == []
    with rt.sessions() as session:
        event = session.scalars(
            sa.select(AuditEvent).where(
                AuditEvent.action == "gate:model", AuditEvent.target == reply.conversation_id
            )
        ).one()
    masked = event.details["masked"]
    assert masked["EMAIL"] == 1 and masked["IBAN"] == 1 and masked["DIGITS"] >= 3
    assert leaks(json.dumps(event.details, ensure_ascii=False), None) == []  # counts, no values
    assert gate_count(after, "EMAIL") - gate_count(before, "EMAIL") == 1


def gate_count(metrics: str, kind: str) -> float:
    line = re.search(
        rf'^crmassist_gate_masked_total\{{boundary="model",entity_type="{kind}"\}} (\S+)$',
        metrics,
        re.MULTILINE,
    )
    return float(line.group(1)) if line else 0.0


def test_the_index_holds_no_raw_values(rt: Runtime, outside: list[dict[str, Any]]) -> None:
    everything = match(PayloadKey.SOURCE_TYPE, *[s.value for s in SourceType])
    total = rt.store.count(everything)
    probe = "refund card phone email"
    hits = rt.store.hybrid_search(
        rt.encoder.embed_query(probe).tolist(),
        rt.sparse.embed_query(probe),
        everything,
        total,
    )
    assert len(hits) == total
    stored = [f"{h.payload.get('title', '')}\n{h.payload.get('text', '')}" for h in hits]
    assert [leaks(text, None, NAMES) for text in stored if leaks(text, None, NAMES)] == []
    reached = raw_values_in(stored, structured_spans(outside))
    assert sum(reached.values()) == 0, reached


STRUCTURED = {"EMAIL", "PHONE", "CARD", "IBAN", "SSN", "CN_ID", "IP"}


def structured_spans(rows: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["type"], e["text"]) for r in rows for e in r["entities"] if e["type"] in STRUCTURED]


def all_spans(rows: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    return [(e["type"], e["text"]) for r in rows for e in r["entities"]]


def raw_values_in(texts: Sequence[str], spans: Sequence[tuple[str, str]]) -> Counter[str]:
    """How many labelled values appear as written (whole words) in any of `texts`."""
    joined = "\n".join(texts)
    found: Counter[str] = Counter()
    for kind, value in spans:
        pattern = rf"(?<![A-Za-z0-9]){re.escape(value)}(?![A-Za-z0-9])"
        if re.search(pattern, joined):
            found[kind] += 1
    return found


def test_outside_notes_reach_the_model_without_raw_values(
    rt: Runtime, outside: list[dict[str, Any]], capsys: pytest.CaptureFixture[str]
) -> None:
    """Asked about 60 outside notes as their owner: count the labelled values the model
    got, per type; also what the redactor alone would have let through on those texts."""
    asked = outside[:OUTSIDE_QUESTIONS]
    stub = search_then_echo()
    with serve(stub) as url:
        assistant = remote(rt, url).assistant()
        for row in asked:
            assistant.ask(who(rt, OWNER), f"Find my note that says: {row['text']}")
    reached = raw_values_in(contents(stub), all_spans(outside))
    redacted = [r.text for r in rt.redactor.redact_many([row["text"] for row in asked])]
    gated = [g.text for g in model_gate(rt.redactor).check_many(redacted)]
    spans = all_spans(asked)
    before, after = raw_values_in(redacted, spans), raw_values_in(gated, spans)
    with capsys.disabled():
        print(f"\nlabelled values in the asked notes: {dict(Counter(k for k, _ in spans))}")
        print(f"  left by the redactor alone: {dict(before)}")
        print(f"  left after the gate:        {dict(after)}")
        print(f"  reached the model (all {len(outside)} notes' values): {dict(reached)}")
    assert {k: n for k, n in reached.items() if k in STRUCTURED} == {}
    assert sum(after.values()) <= sum(before.values())
    # Not yet zero: 44 names reached the model before the gate masked the name model's
    # likely names too (docs/privacy.md); these floors keep the gap from growing.
    assert reached["PERSON"] <= 4 and reached["ADDRESS"] <= 2


def test_offline_planner_runs_behind_the_same_gate(rt: Runtime) -> None:
    """The planner is no remote model, but it sees what one would; ids, dates and amounts
    it needs come through whole."""
    reply = rt.assistant().ask(who(rt, OWNER), "what are my tasks?")
    assert [c.name for c in reply.tool_calls] == ["list_tasks"]
    assert "+44 20 7946 0321" in reply.answer  # revealed to the owner, after the gate
