"""Agent middleware: privacy at the model boundary, audit and error handling at the tools.

- `PrivacyGuard`: every message a model sees (system prompt, history, the user's words,
  tool results) is pseudonymised with the same tokens as the index, then passes the
  boundary gate (`crmassist.privacy.gate`); tool arguments get real values back
  just before the tool runs, inside trusted code. With `pii_to_llm` a deployment may
  allow raw values to a model it trusts; the default never sends them.
- `ToolAudit`: every tool call is written to the audit log with its arguments (as the
  model gave them, pseudonymised), outcome, duration and the records it touched.
- `tool_error_message`: expected failures reach the model as a short error; unexpected
  ones are logged with a traceback and the model only learns the tool failed.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, cast

from langchain.agents.middleware import (
    AgentMiddleware,
    ModelRequest,
    ModelResponse,
    ToolCallRequest,
)
from langchain_core.messages import AIMessage, AnyMessage, SystemMessage, ToolMessage
from langgraph.types import Command

from crmassist.access.audit import AuditLog
from crmassist.agent.context import ToolCallView, ToolContext
from crmassist.privacy import TOKEN_PATTERN, Redactor
from crmassist.privacy.entities import EntityType
from crmassist.privacy.gate import model_gate

log = logging.getLogger(__name__)


class PrivacyGuard(AgentMiddleware):
    def __init__(self, redactor: Redactor, allow_raw: bool = False) -> None:
        super().__init__()
        self.redactor = redactor
        self.allow_raw = allow_raw
        self.gate = model_gate(redactor)
        self.masked: Counter[str] = Counter()
        """What the boundary gate masked this turn, by kind (the redactor's misses)."""
        self._seen: dict[str, str] = {}

    def redact(self, text: str) -> str:
        """Pseudonymised, then through the boundary gate. Memoised per turn: the history is
        re-sent on every model call (and each distinct text is counted once)."""
        return self.redact_all([text])[0]

    def redact_all(self, texts: Sequence[str]) -> list[str]:
        """`redact` for many texts, with one redactor batch and one gate batch for the new
        ones (spaCy runs over them together instead of once per message)."""
        if self.allow_raw:
            return list(texts)
        new = list(dict.fromkeys(t for t in texts if t and t not in self._seen))
        if new:
            redacted = self.redactor.redact_many(new)
            for text, gated in zip(
                new, self.gate.check_many([r.text for r in redacted]), strict=True
            ):
                self.masked.update(gated.masked)
                self._seen[text] = gated.text
        return [self._seen[t] if t else t for t in texts]

    def wrap_model_call(
        self, request: ModelRequest, handler: Callable[[ModelRequest], ModelResponse]
    ) -> ModelResponse:
        system = request.system_message
        texts = [m.content for m in [*request.messages, *([system] if system else [])]]
        self.redact_all([t for t in texts if isinstance(t, str)])
        messages = [self._clean(m) for m in request.messages]
        if system is not None:
            system = cast("SystemMessage", self._clean(system))
        return handler(request.override(messages=messages, system_message=system))

    def _clean(self, message: AnyMessage) -> AnyMessage:
        if isinstance(message.content, str) and message.content:
            cleaned = self.redact(message.content)
            if cleaned != message.content:
                return message.model_copy(update={"content": cleaned})
        return message

    def wrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], ToolMessage | Command[Any]],
    ) -> ToolMessage | Command[Any]:
        call = request.tool_call
        real_args = {k: self._restore(v) for k, v in call["args"].items()}
        result = handler(request.override(tool_call={**call, "args": real_args}))
        if isinstance(result, ToolMessage) and isinstance(result.content, str):
            return result.model_copy(update={"content": self.redact(result.content)})
        return result

    def _restore(self, value: Any) -> Any:
        """Tools work on real values: a name token must match the real contact."""
        if isinstance(value, str) and TOKEN_PATTERN.search(value):
            return self.redactor.vault.restore(value, list(EntityType))
        if isinstance(value, list):
            return [self._restore(v) for v in value]
        return value


class ToolAudit(AgentMiddleware):
    def __init__(self, ctx: ToolContext, audit: AuditLog) -> None:
        super().__init__()
        self.ctx = ctx
        self.audit = audit

    def wrap_tool_call(
        self,
        request: ToolCallRequest,
        handler: Callable[[ToolCallRequest], ToolMessage | Command[Any]],
    ) -> ToolMessage | Command[Any]:
        call = request.tool_call
        touched_before = len(self.ctx.turn.records)
        started = time.perf_counter()
        result = handler(request)
        status = result.status if isinstance(result, ToolMessage) else "success"
        elapsed = round((time.perf_counter() - started) * 1000, 1)
        content = result.content if isinstance(result, ToolMessage) else ""
        self.ctx.turn.calls.append(
            ToolCallView(
                call["id"] or "", call["name"], call["args"], status, str(content), elapsed
            )
        )
        self.audit.record(
            self.ctx.principal,
            f"tool:{call['name']}",
            target=call["id"],
            records=self.ctx.turn.records[touched_before:],
            arguments=call["args"],
            status=status,
            ms=elapsed,
        )
        return result


def tool_error_message(exc: Exception, request: ToolCallRequest) -> str:
    """Unexpected tool failures: the model hears that the tool failed, the log gets why."""
    log.exception("tool %s failed", request.tool_call["name"], exc_info=exc)
    return f"Error: the tool {request.tool_call['name']} failed ({type(exc).__name__})."


def final_text(messages: list[AnyMessage]) -> str:
    for message in reversed(messages):
        if isinstance(message, AIMessage) and not message.tool_calls:
            return str(message.content)
    return ""
