"""Shared pieces for agent tests: the indexed sample CRM and a scripted, recording model."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import AIMessage, BaseMessage, ToolMessage
from langchain_core.outputs import ChatGeneration, ChatResult
from langchain_core.runnables import Runnable
from pydantic import ConfigDict, Field

from crmassist.access.directory import principal_for
from crmassist.access.principal import Principal
from crmassist.ingest.importer import import_directory
from crmassist.runtime import Runtime
from crmassist.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "knowledge" / "sample"
TODAY = date(2026, 11, 20)


def sample_runtime(data_dir: Path, **settings: Any) -> Runtime:
    """The sample CRM imported and indexed in `data_dir` (SQLite, embedded Qdrant)."""
    rt = Runtime(Settings(data_dir=data_dir, today=TODAY, **settings))
    import_directory(SAMPLE, rt.sessions, as_of=TODAY)
    rt.indexer().sync()
    return rt


def who(rt: Runtime, user_id: str) -> Principal:
    with rt.sessions() as session:
        return principal_for(session, user_id)


def raw_personal_data() -> list[str]:
    """Values that must never reach a model: contact emails, phones and names, plus the
    resident IDs, cards and IBANs written in the sample notes."""
    values: list[str] = []
    with (SAMPLE / "contacts.csv").open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            values += [row["email"], row["phone"], row["name"]]
    text = (SAMPLE / "interactions.jsonl").read_text(encoding="utf-8")
    values += re.findall(r"(?<!\d)\d{17}[\dX](?![\dX])", text)
    values += re.findall(r"\b4\d{3} \d{4} \d{4} \d{4}\b", text)
    values += re.findall(r"\b(?:DE|FR)\d{2}(?: \d{4})+(?: \d{1,4})?\b", text)
    return [v for v in values if len(v) >= 4]


Script = Callable[[list[BaseMessage]], AIMessage]


class ScriptedModel(BaseChatModel):
    """A stand-in for an LLM: answers from a script and records every message it is sent."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    script: list[Script]
    seen: list[list[BaseMessage]] = Field(default_factory=list)

    @property
    def _llm_type(self) -> str:
        return "scripted"

    def bind_tools(
        self, tools: Sequence[Any], **kwargs: Any
    ) -> Runnable[LanguageModelInput, AIMessage]:
        return self

    def _generate(
        self, messages: list[BaseMessage], stop: Any = None, run_manager: Any = None, **kwargs: Any
    ) -> ChatResult:
        self.seen.append(list(messages))
        step = self.script[min(len(self.seen) - 1, len(self.script) - 1)]
        return ChatResult(generations=[ChatGeneration(message=step(messages))])

    def transcript(self) -> str:
        return "\n".join(_text(m) for call in self.seen for m in call)


def call(tool: str, **args: Any) -> Script:
    def step(messages: list[BaseMessage]) -> AIMessage:
        return AIMessage("", tool_calls=[{"name": tool, "args": args, "id": f"c{len(messages)}"}])

    return step


def say(text: str) -> Script:
    return lambda messages: AIMessage(text)


def last_tool_result(messages: list[BaseMessage]) -> Any:
    result = next(m for m in reversed(messages) if isinstance(m, ToolMessage))
    return json.loads(str(result.content))


def _text(message: BaseMessage) -> str:
    parts = [str(message.content)]
    if isinstance(message, AIMessage):
        parts += [json.dumps(c["args"], ensure_ascii=False) for c in message.tool_calls]
    return " ".join(parts)


def events(stream: Iterator[Any]) -> list[Any]:
    return list(stream)
