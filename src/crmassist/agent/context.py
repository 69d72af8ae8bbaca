"""What a tool call runs with: who asks, the services, and what this turn has touched.

Tools never read globals: the assistant builds a `ToolContext` per turn from the
principal and the runtime's services, and every tool checks the principal itself.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crmassist.access.audit import AuditLog
from crmassist.access.principal import Principal
from crmassist.agent.drafting import Templates
from crmassist.domain.clock import Clock
from crmassist.domain.enums import SourceType
from crmassist.retrieval.search import Citation, Retriever

IndexRecords = Callable[[Mapping[SourceType, Collection[str]]], int]


@dataclass
class Focus:
    """What follow-ups resolve against: "their open tickets", "draft an email to her"."""

    account_id: str | None = None
    account_name: str | None = None
    contact_id: str | None = None
    contact_name: str | None = None
    pipeline: str | None = None
    """The last pipeline question's arguments (JSON, as the model wrote them, so names are
    pseudonyms): "only the ones over 100k" and "只看谈判阶段" refine it."""

    def as_dict(self) -> dict[str, str | None]:
        return dict(self.__dict__)

    def remember_pipeline(self, calls: list[ToolCallView]) -> None:
        for call in reversed(calls):
            if call.name == "pipeline_query" and call.status == "success":
                self.pipeline = json.dumps(call.arguments, ensure_ascii=False, sort_keys=True)
                return


@dataclass(frozen=True)
class ToolCallView:
    id: str
    name: str
    arguments: dict[str, Any]
    status: str
    result: str
    duration_ms: float


@dataclass
class TurnLog:
    """Tool calls, citations and records gathered while answering one message."""

    citations: list[Citation] = field(default_factory=list)
    records: list[str] = field(default_factory=list)
    calls: list[ToolCallView] = field(default_factory=list)
    charts: list[dict[str, Any]] = field(default_factory=list)
    """Chart specs of pipeline results, for interfaces that draw them."""
    refs: dict[str, tuple[str, str]] = field(default_factory=dict)
    """Records a tool showed, by id: (kind, title), for citing SQL-backed answers."""
    writes: Counter[str] = field(default_factory=Counter)
    """Writes done so far, by kind, to key each one when the message has a key."""

    def show(self, kind: str, record_id: str, title: str) -> None:
        self.records.append(record_id)
        self.refs.setdefault(record_id, (kind, title))

    def cite(self, citations: list[Citation]) -> None:
        known = {(c.source_type, c.record_id) for c in self.citations}
        self.citations += [c for c in citations if (c.source_type, c.record_id) not in known]


@dataclass
class ToolContext:
    principal: Principal
    sessions: sessionmaker[Session]
    retriever: Callable[[], Retriever]
    index_records: IndexRecords
    audit: AuditLog
    clock: Clock
    focus: Focus = field(default_factory=Focus)
    turn: TurnLog = field(default_factory=TurnLog)
    templates: Templates | None = None
    time_zone: str = "UTC"
    """The service's time zone for users without their own (reading reminder times)."""
    request_key: str | None = None
    """The client's key for this message (`Idempotency-Key`): sending the same message
    with the same key again writes nothing twice."""

    @property
    def today(self) -> date:
        return self.clock.today()

    def write_key(self, kind: str) -> str | None:
        """The idempotency key of this message's next write of `kind`, if it has a key."""
        if self.request_key is None:
            return None
        self.turn.writes[kind] += 1
        return f"{self.request_key}:{kind}:{self.turn.writes[kind]}"
