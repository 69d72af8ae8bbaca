"""Conversations in SQL: messages as the model saw them (pseudonymised), tool calls,
citations, and the focus that follow-up questions resolve against."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from langchain_core.messages import AIMessage, BaseMessage, HumanMessage
from sqlalchemy.orm import Session, sessionmaker

from crmassist.access.principal import Principal
from crmassist.agent.context import ToolCallView
from crmassist.crm.errors import NotFound
from crmassist.db import session_scope
from crmassist.domain.models import CitationRecord, Conversation, Message, ToolCallRecord
from crmassist.retrieval.search import Citation

HISTORY_TURNS = 6
"""Earlier user/assistant messages a model gets back; older ones are kept but not re-sent."""
RESULT_CHARS = 20_000


@dataclass(frozen=True)
class OpenConversation:
    id: str
    context: dict[str, Any]
    history: list[BaseMessage]
    """The last turns as chat messages (text only; tool traffic is not replayed)."""


def _history(conversation: Conversation) -> list[BaseMessage]:
    kept = [m for m in conversation.messages if m.role in ("user", "assistant")]
    return [
        HumanMessage(m.content) if m.role == "user" else AIMessage(m.content)
        for m in kept[-2 * HISTORY_TURNS :]
    ]


class ConversationStore:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    def open(
        self,
        principal: Principal,
        conversation_id: str | None,
        title: str,
        external_key: str | None = None,
    ) -> OpenConversation:
        """The principal's conversation (by id, or by where it lives, e.g. a Slack thread),
        or a new one; someone else's is not found."""
        with session_scope(self._sessions) as session:
            found = None
            if conversation_id:
                found = session.get(Conversation, conversation_id)
                if found is None or found.user_id != principal.user_id:
                    raise NotFound(f"no conversation {conversation_id!r}")
            elif external_key:
                found = self._by_key(session, principal, external_key)
            if found is not None:
                return OpenConversation(found.id, dict(found.context), _history(found))
            now = datetime.now(UTC)
            conversation = Conversation(
                id=uuid.uuid4().hex,
                user_id=principal.user_id,
                title=title[:300],
                created_at=now,
                updated_at=now,
                context={},
                external_key=external_key,
            )
            try:
                with session.begin_nested():  # a savepoint: a lost race keeps the session
                    session.add(conversation)
            except sa.exc.IntegrityError:
                # The same Slack message delivered twice at once: the other delivery
                # opened this thread's conversation first; continue that one.
                found = self._by_key(session, principal, external_key) if external_key else None
                if found is None:
                    raise
                return OpenConversation(found.id, dict(found.context), _history(found))
            return OpenConversation(conversation.id, {}, [])

    @staticmethod
    def _by_key(session: Session, principal: Principal, external_key: str) -> Conversation | None:
        return session.scalar(
            sa.select(Conversation).where(
                Conversation.external_key == external_key,
                Conversation.user_id == principal.user_id,
            )
        )

    def get(self, principal: Principal, conversation_id: str) -> Conversation:
        with self._sessions() as session:
            found = session.get(Conversation, conversation_id)
            if found is None or found.user_id != principal.user_id:
                raise NotFound(f"no conversation {conversation_id!r}")
            _ = [(m.tool_calls, m.citations) for m in found.messages]  # load before closing
            return found

    def append_turn(
        self,
        conversation_id: str,
        user_text: str,
        answer: str,
        tool_calls: Sequence[ToolCallView],
        citations: Sequence[Citation],
        context: dict[str, Any],
    ) -> None:
        with session_scope(self._sessions) as session:
            conversation = session.get(Conversation, conversation_id)
            assert conversation is not None
            seq = session.scalar(
                sa.select(sa.func.coalesce(sa.func.max(Message.seq), 0)).where(
                    Message.conversation_id == conversation_id
                )
            )
            now = datetime.now(UTC)
            question = Message(seq=(seq or 0) + 1, role="user", content=user_text, created_at=now)
            reply = Message(seq=(seq or 0) + 2, role="assistant", content=answer, created_at=now)
            reply.tool_calls = [
                ToolCallRecord(
                    call_id=c.id,
                    name=c.name,
                    arguments=c.arguments,
                    status=c.status,
                    result=c.result[:RESULT_CHARS],
                    duration_ms=c.duration_ms,
                )
                for c in tool_calls
            ]
            reply.citations = [
                CitationRecord(
                    source_type=c.source_type.value,
                    record_id=c.record_id,
                    title=c.title,
                    snippet=c.snippet,
                    score=c.score,
                )
                for c in citations
            ]
            conversation.messages += [question, reply]
            conversation.context = context
            conversation.updated_at = now
