"""One cited record, opened by the reader: an article, a note, a ticket, a deal, a task —
only if the reader's role and scope reach it."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from crmassist.access.policy import visible_audiences
from crmassist.access.principal import Principal
from crmassist.access.scope import Section, may_see, record_scope
from crmassist.crm.errors import NotFound
from crmassist.domain.models import (
    Interaction,
    KnowledgeArticle,
    Opportunity,
    Order,
    Task,
    Ticket,
)


class RecordKind(StrEnum):
    KB = "kb"
    INTERACTIONS = "interactions"
    TICKETS = "tickets"
    OPPORTUNITIES = "opportunities"
    ORDERS = "orders"
    TASKS = "tasks"


class RecordView(BaseModel):
    kind: RecordKind
    id: str
    title: str
    body: str
    account_id: str | None = None
    meta: dict[str, str] = {}


_SECTION = {
    RecordKind.INTERACTIONS: Section.NOTES,
    RecordKind.TICKETS: Section.TICKETS,
    RecordKind.OPPORTUNITIES: Section.DEALS,
    RecordKind.ORDERS: Section.ORDERS,
}


def get_record(
    session: Session, principal: Principal, kind: RecordKind, record_id: str
) -> RecordView:
    missing = NotFound(f"no {kind.value} record {record_id!r} that you can see")
    if kind is RecordKind.KB:
        article = session.get(KnowledgeArticle, record_id)
        if article is None or article.audience not in visible_audiences(principal):
            raise missing
        meta = {"audience": article.audience.value, "lang": article.lang}
        return RecordView(
            kind=kind, id=article.id, title=article.title, body=article.body, meta=meta
        )
    if kind is RecordKind.TASKS:
        task = session.get(Task, record_id)
        if task is None or not _in_scope(session, principal, Task, record_id):
            raise missing
        due = task.due_date.isoformat() if task.due_date else "-"
        return RecordView(
            kind=kind, id=task.id, title=task.title, body=f"Due {due}",
            account_id=task.account_id, meta={"status": task.status.value},
        )  # fmt: skip
    if not may_see(principal, _SECTION[kind]):
        raise missing
    model: Any = {
        RecordKind.INTERACTIONS: Interaction,
        RecordKind.TICKETS: Ticket,
        RecordKind.OPPORTUNITIES: Opportunity,
        RecordKind.ORDERS: Order,
    }[kind]
    record = session.get(model, record_id)
    if record is None or not _in_scope(session, principal, model, record_id):
        raise missing
    return _view(kind, record)


def _in_scope(session: Session, principal: Principal, model: Any, record_id: str) -> bool:
    query = sa.select(model.id).where(model.id == record_id, record_scope(principal, model))
    return session.scalar(query) is not None


def _view(kind: RecordKind, record: object) -> RecordView:
    if isinstance(record, Interaction):
        meta = {"channel": record.channel.value, "when": record.occurred_at.isoformat()}
        return RecordView(kind=kind, id=record.id, title=record.subject or record.channel.value,
                          body=record.body, account_id=record.account_id, meta=meta)  # fmt: skip
    if isinstance(record, Ticket):
        meta = {"status": record.status.value, "priority": record.priority.value}
        return RecordView(kind=kind, id=record.id, title=record.subject, body=record.body,
                          account_id=record.account_id, meta=meta)  # fmt: skip
    if isinstance(record, Opportunity):
        body = f"{record.stage.value}, {record.amount:,.2f} {record.currency}, close {record.close_date}, p={record.probability}%"  # noqa: E501
        return RecordView(
            kind=kind, id=record.id, title=record.name, body=body, account_id=record.account_id
        )
    assert isinstance(record, Order)
    body = f"{record.order_date}: {record.product}, {record.amount:,.2f} {record.currency}"
    return RecordView(
        kind=kind, id=record.id, title=record.product, body=body, account_id=record.account_id
    )
