"""The assistant over HTTP: JSON answers, or server-sent events with `Accept: text/event-stream`."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from crmassist.agent.assistant import CitationOut, Reply
from crmassist.api.deps import PrincipalDep, RuntimeDep
from crmassist.api.inputs import ID, NO_CONTROL, RecordId, Text
from crmassist.privacy.disclosure import Disclosure

router = APIRouter(prefix="/v1", tags=["assistant"])


class ChatRequest(BaseModel):
    message: Text = Field(min_length=1, max_length=4000, examples=["prepare me for Acme"])
    conversation_id: RecordId | None = Field(None, description="Continue this conversation.")
    intent: str | None = Field(
        None,
        pattern=r"^[a-z_]{1,40}$",
        description="A reading picked from a reply's `choices` (send its `message` with it).",
    )


@router.post(
    "/chat",
    response_model=Reply,
    responses={200: {"content": {"text/event-stream": {}}, "description": "JSON or SSE"}},
)
def chat(
    body: ChatRequest,
    request: Request,
    rt: RuntimeDep,
    principal: PrincipalDep,
    accept: Annotated[str, Header()] = "application/json",
    idempotency_key: Annotated[str | None, Header(max_length=200, pattern=NO_CONTROL)] = None,
) -> Any:
    """Ask the assistant. SSE events: `tool_call`, `tool_result`, `token`, `reply`.
    With an `Idempotency-Key`, a resent message logs nothing twice ("already logged")."""
    assistant = rt.assistant()
    streamed = "text/event-stream" in accept
    request.app.state.metrics.turns.labels(str(streamed).lower()).inc()
    if not streamed:
        return assistant.ask(
            principal,
            body.message,
            body.conversation_id,
            request_key=idempotency_key,
            intent=body.intent,
        )
    events = assistant.stream(
        principal,
        body.message,
        body.conversation_id,
        request_key=idempotency_key,
        intent=body.intent,
    )
    # Run up to the first event before answering: what fails up front (someone else's
    # conversation, no index) is then a status with a problem body, not an event in a 200.
    first = next(events)
    return StreamingResponse(_sse(itertools.chain([first], events)), media_type="text/event-stream")


def _sse(events: Iterator[Any]) -> Iterator[str]:
    try:
        for event in events:
            yield f"event: {event.kind}\ndata: {json.dumps(event.data, ensure_ascii=False)}\n\n"
    except Exception as exc:  # the stream has started: report in-band, not as a 500
        yield f"event: error\ndata: {json.dumps({'detail': str(exc)})}\n\n"


class MessageOut(BaseModel):
    seq: int
    role: str
    content: str
    created_at: datetime
    tool_calls: list[dict[str, Any]]
    citations: list[CitationOut]


class ConversationOut(BaseModel):
    id: str
    title: str
    created_at: datetime
    updated_at: datetime
    messages: list[MessageOut]


@router.get("/conversations/{conversation_id}", response_model=ConversationOut)
def conversation(
    conversation_id: Annotated[str, Path(pattern=ID)], rt: RuntimeDep, principal: PrincipalDep
) -> ConversationOut:
    """A conversation of yours, with values revealed as your role allows."""
    found = rt.assistant().conversations.get(principal, conversation_id)
    view = ConversationOut(
        id=found.id,
        title=found.title,
        created_at=found.created_at,
        updated_at=found.updated_at,
        messages=[
            MessageOut(
                seq=m.seq,
                role=m.role,
                content=m.content,
                created_at=m.created_at,
                tool_calls=[
                    {"name": c.name, "arguments": c.arguments, "status": c.status}
                    for c in m.tool_calls
                ],
                citations=[CitationOut.of(c) for c in m.citations],
            )
            for m in found.messages
        ],
    )
    return Disclosure(principal, rt.redactor).model(view)
