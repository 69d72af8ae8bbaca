"""The assistant: one agent graph for every model, with privacy, audit and a step limit.

A turn: open the conversation -> build the tools for this principal -> run the LangChain
agent (model <-> tools) behind the privacy guard -> reveal the answer for the reader's
role -> persist the turn. `stream` yields the same turn as events: tokens, tool calls,
tool results, and the final reply.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import sqlalchemy as sa
from langchain.agents import create_agent
from langchain.agents.middleware import ModelCallLimitMiddleware, ToolErrorMiddleware
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from crmassist.access.audit import AuditLog
from crmassist.access.policy import visible_audiences
from crmassist.access.principal import Principal
from crmassist.access.scope import profile_scope, record_scope
from crmassist.agent.context import Focus, IndexRecords, ToolContext
from crmassist.agent.conversations import ConversationStore
from crmassist.agent.drafting import Templates
from crmassist.agent.guard import PrivacyGuard, ToolAudit, final_text, tool_error_message
from crmassist.agent.models import (
    ModelNotConfigured,
    offline_planner,
    remote_middleware,
    remote_model,
)
from crmassist.agent.planner.intents import IntentClassifier
from crmassist.agent.planner.model import context_message
from crmassist.agent.planner.pipeline_reading import Vocabulary
from crmassist.agent.tools import build_tools
from crmassist.domain.clock import Clock
from crmassist.domain.models import Account, Contact, KnowledgeArticle, Opportunity, Team, User
from crmassist.privacy import TOKEN_PATTERN, Redactor
from crmassist.privacy.disclosure import Disclosure, reveal
from crmassist.privacy.entities import EntityType
from crmassist.retrieval.search import Retriever
from crmassist.settings import Settings

log = logging.getLogger(__name__)

STOPPED = "I stopped after {steps} steps without a complete answer; please ask more narrowly."


class CitationOut(BaseModel):
    source_type: str
    record_id: str
    title: str
    snippet: str
    score: float | None = None

    @classmethod
    def of(cls, cited: Any) -> CitationOut:
        """A search result or a stored citation, as stored: pass it through `Disclosure`."""
        score = getattr(cited, "score", None)
        return cls(
            source_type=str(cited.source_type),
            record_id=cited.record_id,
            title=cited.title,
            snippet=cited.snippet,
            score=round(score, 4) if score is not None else None,
        )


class ToolCallOut(BaseModel):
    name: str
    arguments: dict[str, Any]
    status: str
    duration_ms: float


class Choice(BaseModel):
    """One reading of an unclear request, offered back: pick it to have it answered."""

    label: str
    """The reading, in the asker's language ("pipeline numbers (deals, totals, forecast)")."""
    message: str
    """The request to send again with the choice."""
    intent: str
    """The reading to apply (`Assistant.ask(..., intent=...)`, `/v1/chat` `intent`)."""


class Reply(BaseModel):
    conversation_id: str
    answer: str
    citations: list[CitationOut]
    tool_calls: list[ToolCallOut]
    focus: dict[str, str | None]
    charts: list[dict[str, Any]] = []
    """Chart specs (bar charts of pipeline answers) the console and Slack can draw."""
    choices: list[Choice] = []
    """When the request was unclear: the likeliest readings, to pick one (buttons, chips)."""


@dataclass(frozen=True)
class Event:
    """A streamed step of a turn: `token` text, a `tool_call`, a `tool_result`, the `reply`."""

    kind: Literal["token", "tool_call", "tool_result", "reply"]
    data: dict[str, Any]


class Assistant:
    def __init__(
        self,
        settings: Settings,
        sessions: sessionmaker[Session],
        audit: AuditLog,
        clock: Clock,
        redactor: Callable[[], Redactor],
        retriever: Callable[[], Retriever],
        index_records: IndexRecords,
        model: BaseChatModel | None = None,
        intents: Callable[[], IntentClassifier] | None = None,
    ) -> None:
        """`model` overrides the configured one (tests pass a recording model here);
        `intents` gives the offline planner's classifier (built on first use)."""
        self.settings = settings
        self.sessions = sessions
        self.audit = audit
        self.clock = clock
        self.redactor = redactor
        self.retriever = retriever
        self.index_records = index_records
        self.model = model
        self.intents = intents
        self.conversations = ConversationStore(sessions)
        self.templates = Templates(settings.prompts_dir)
        self.system_prompt = (settings.prompts_dir / "system.md").read_text(encoding="utf-8")

    def ask(
        self,
        principal: Principal,
        message: str,
        conversation_id: str | None = None,
        external_key: str | None = None,
        request_key: str | None = None,
        intent: str | None = None,
    ) -> Reply:
        reply = None
        events = self.stream(
            principal, message, conversation_id, False, external_key, request_key, intent
        )
        for event in events:
            if event.kind == "reply":
                reply = Reply.model_validate(event.data)
        assert reply is not None
        return reply

    def stream(
        self,
        principal: Principal,
        message: str,
        conversation_id: str | None = None,
        tokens: bool = True,
        external_key: str | None = None,
        request_key: str | None = None,
        intent: str | None = None,
    ) -> Iterator[Event]:
        """`external_key` names where the conversation lives (a Slack thread): the same key
        continues the same conversation. `request_key` is the client's idempotency key for
        this message: a resent message with the same key logs nothing twice. `intent` is a
        reading the user chose from a clarification's choices."""
        message = message.strip()
        if not message:
            raise ValueError("empty message")
        guard = PrivacyGuard(self.redactor(), allow_raw=self.settings.pii_to_llm)
        question = guard.redact(message)
        conversation = self.conversations.open(principal, conversation_id, question, external_key)
        ctx = ToolContext(
            principal=principal,
            sessions=self.sessions,
            retriever=self.retriever,
            index_records=self.index_records,
            audit=self.audit,
            clock=self.clock,
            focus=Focus(**conversation.context) if conversation.context else Focus(),
            templates=self.templates,
            request_key=request_key,
            time_zone=self.settings.default_time_zone,
        )
        agent = self._agent(ctx, guard, intent)
        history = [*conversation.history, HumanMessage(question)]
        self.audit.record(principal, "ask", target=conversation.id, message=question)
        state: dict[str, Any] = {}
        yield from self._run(agent, history, state, principal, tokens)
        answer = final_text(state.get("messages", [])) or STOPPED.format(
            steps=self.settings.agent_max_steps
        )
        turn = ctx.turn
        ctx.focus.remember_pipeline(turn.calls)
        focus = self._stored_focus(ctx.focus)
        self.conversations.append_turn(
            conversation.id, question, answer, turn.calls, turn.citations, focus
        )
        if guard.masked:  # counts only: the values are what must not be kept
            self.audit.record(
                principal, "gate:model", target=conversation.id, masked=dict(guard.masked)
            )
        reply = self._reply(conversation.id, answer, ctx, principal, state.get("messages", []))
        yield Event("reply", reply.model_dump())

    def _run(
        self,
        agent: Any,
        history: list[BaseMessage],
        state: dict[str, Any],
        principal: Principal,
        tokens: bool,
    ) -> Iterator[Event]:
        """Run the graph, keeping its final state, and turn its stream into events."""
        vault = self.redactor().vault
        config = {"recursion_limit": 4 * self.settings.agent_max_steps + 4}
        modes = ["values", "messages"] if tokens else ["values"]
        pending = ""
        reported: set[str] = set()
        for mode, chunk in agent.stream({"messages": history}, config=config, stream_mode=modes):
            if mode == "values":
                state.update(chunk)
                last = chunk["messages"][-1]
                key = str(getattr(last, "tool_call_id", None) or last.id)
                if key in reported:
                    continue
                reported.add(key)
                if isinstance(last, AIMessage) and last.tool_calls:
                    for call in last.tool_calls:
                        yield Event("tool_call", {"name": call["name"], "arguments": call["args"]})
                elif isinstance(last, ToolMessage):
                    yield Event("tool_result", {"name": last.name, "status": last.status})
            elif isinstance(chunk[0], AIMessageChunk) and isinstance(chunk[0].content, str):
                pending += chunk[0].content
                safe, pending = _split_safe(pending)
                if safe:
                    yield Event("token", {"text": reveal(safe, principal, vault)})
        if pending:
            yield Event("token", {"text": reveal(pending, principal, vault)})

    def _agent(self, ctx: ToolContext, guard: PrivacyGuard, intent: str | None) -> Any:
        model = self.model or self._configured_model(ctx.principal, guard)
        who = ctx.principal
        focus = ctx.focus.as_dict()
        context = context_message(ctx.today, who.user_id, who.role.value, focus, intent)
        system = f"{self.system_prompt}\n\n{context.content}"
        # First listed wraps outermost: audit sees the model's (pseudonymised) arguments.
        middleware: list[Any] = [
            ToolAudit(ctx, self.audit),
            guard,
            ToolErrorMiddleware(on_error=tool_error_message),
            ModelCallLimitMiddleware(run_limit=self.settings.agent_max_steps),
        ]
        if self.model is None and self.settings.llm != "offline":
            middleware += remote_middleware(self.settings)  # time-outs, retries, one line
        return create_agent(
            model,
            tools=build_tools(ctx),
            system_prompt=system,
            middleware=middleware,
        )

    def _configured_model(self, principal: Principal, guard: PrivacyGuard) -> BaseChatModel:
        if self.settings.llm != "offline":
            return remote_model(self.settings)
        accounts, contacts, regions = self._names_in_scope(principal)
        vault = guard.redactor.vault
        if not guard.allow_raw:
            contacts = vault.tokens_for([(EntityType.PERSON, n) for n in contacts])
        vocabulary = self._pipeline_vocabulary(principal, accounts, regions, guard)
        if self.intents is None:
            raise ModelNotConfigured("the offline planner needs an intent classifier")
        lexicon = [*accounts, *contacts]
        return offline_planner(self.settings, self.intents(), lexicon, vocabulary)

    def _pipeline_vocabulary(
        self, principal: Principal, accounts: list[str], regions: list[str], guard: PrivacyGuard
    ) -> Vocabulary:
        """Names pipeline questions filter on, in the asker's scope; people as pseudonyms."""
        with self.sessions() as session:
            scope = profile_scope(principal)
            industries = session.scalars(
                sa.select(Account.industry).where(scope, Account.industry.is_not(None)).distinct()
            ).all()
            products = session.scalars(
                sa.select(Opportunity.product)
                .where(record_scope(principal, Opportunity), Opportunity.product.is_not(None))
                .distinct()
            ).all()
            owners = list(session.scalars(sa.select(User.name)).all())
            teams = session.scalars(sa.select(Team.name)).all()
            articles = session.scalars(
                sa.select(KnowledgeArticle.title).where(
                    KnowledgeArticle.audience.in_(visible_audiences(principal))
                )
            ).all()
        if not guard.allow_raw:
            owners = guard.redactor.vault.tokens_for([(EntityType.PERSON, n) for n in owners])
        return Vocabulary(
            regions=regions,
            industries=sorted(i for i in industries if i),
            products=sorted(p for p in products if p),
            owners=owners,
            teams=list(teams),
            accounts=accounts,
            articles=list(articles),
        )

    def _names_in_scope(self, principal: Principal) -> tuple[list[str], list[str], list[str]]:
        with self.sessions() as session:
            scope = profile_scope(principal)
            accounts = session.execute(sa.select(Account.name, Account.region).where(scope)).all()
            contacts = session.scalars(
                sa.select(Contact.name).join(Account, Contact.account_id == Account.id).where(scope)
            ).all()
        regions = sorted({r for _, r in accounts if r})
        return [a for a, _ in accounts], list(contacts), regions

    def _stored_focus(self, focus: Focus) -> dict[str, str | None]:
        """The focus as kept with the conversation: the contact's name as its pseudonym."""
        stored = focus.as_dict()
        name = stored.get("contact_name")
        if name and not TOKEN_PATTERN.fullmatch(name):
            stored["contact_name"] = self.redactor().vault.token_for(EntityType.PERSON, name)
        return stored

    def _cited(self, answer: str, ctx: ToolContext) -> list[CitationOut]:
        """Citations for the [ids] the answer names, in order; uncited results are left out."""
        found = {c.record_id: c for c in ctx.turn.citations}
        out = []
        for record_id in _cited_ids(answer):
            if (c := found.get(record_id)) is not None:
                out.append(CitationOut.of(c))
            elif record_id in ctx.turn.refs:
                kind, title = ctx.turn.refs[record_id]
                out.append(
                    CitationOut(source_type=kind, record_id=record_id, title=title, snippet="")
                )
        return out

    def _reply(
        self,
        conversation_id: str,
        answer: str,
        ctx: ToolContext,
        principal: Principal,
        messages: list[BaseMessage],
    ) -> Reply:
        """The reply as its reader may see it: every text in it goes through `Disclosure`."""
        reply = Reply(
            conversation_id=conversation_id,
            answer=answer,
            citations=self._cited(answer, ctx),
            tool_calls=[
                ToolCallOut(
                    name=c.name, arguments=c.arguments, status=c.status, duration_ms=c.duration_ms
                )
                for c in ctx.turn.calls
            ],
            focus=ctx.focus.as_dict(),
            charts=ctx.turn.charts,
            choices=_choices(messages),
        )
        return Disclosure(principal, self.redactor()).model(reply)


def _choices(messages: list[BaseMessage]) -> list[Choice]:
    """The choices the final answer offers, when it is a clarification."""
    for message in reversed(messages):
        if isinstance(message, AIMessage) and not message.tool_calls:
            return [Choice.model_validate(c) for c in message.additional_kwargs.get("choices", [])]
    return []


def _cited_ids(answer: str) -> list[str]:
    return list(dict.fromkeys(re.findall(r"\[([A-Za-z0-9][\w.-]{0,63})\]", answer)))


def _split_safe(text: str) -> tuple[str, str]:
    """Hold back a trailing `<…` that may be half a pseudonym, so no token is cut in two."""
    cut = text.rfind("<")
    if cut == -1 or ">" in text[cut:] or len(text) - cut > 80:
        return text, ""
    return text[:cut], text[cut:]
