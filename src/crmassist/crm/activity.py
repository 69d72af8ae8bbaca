"""Writing to the CRM: interaction notes and follow-up tasks, in the author's scope.

Logging is idempotent on a client-supplied key per author: Slack retries, double clicks
and agent re-plans log a call once. The note's index outbox row is written with it, in
the same transaction, so the index owes it until it holds it; the caller then waits for
the index worker (`Runtime.index_written`) so it is searchable in the very next turn.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import sqlalchemy as sa
from pydantic import BaseModel, Field
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from crmassist.access.principal import Principal
from crmassist.access.scope import Section, may_see, profile_scope
from crmassist.crm import lifecycle
from crmassist.crm.errors import AccessDenied, NotFound
from crmassist.crm.overview import visible_account
from crmassist.domain.enums import Channel, SourceType, TaskStatus
from crmassist.domain.models import Account, Contact, Interaction, Task
from crmassist.ingest.outbox import owe


class InteractionFields(BaseModel):
    """What a caller says about a note; the API takes the idempotency key from a header."""

    account_id: str
    channel: Channel = Channel.CALL
    summary: str = Field(min_length=1, max_length=20_000)
    contact_id: str | None = None
    occurred_at: datetime | None = None
    subject: str | None = Field(None, max_length=500)
    follow_up_on: date | None = None
    follow_up_title: str | None = Field(None, max_length=500)


class NewInteraction(InteractionFields):
    idempotency_key: str | None = Field(None, max_length=200)


class LoggedInteraction(BaseModel):
    interaction_id: str
    account_id: str
    account_name: str
    occurred_at: datetime
    task_id: str | None
    follow_up_on: date | None = None
    created: bool
    """False when the idempotency key had already logged this note."""


class TaskView(BaseModel):
    id: str
    title: str
    due_date: date | None
    status: TaskStatus
    account_id: str | None
    account_name: str | None


def log_interaction(
    session: Session, principal: Principal, new: NewInteraction, now: datetime
) -> LoggedInteraction:
    """Write the note (and its follow-up task); the caller commits and indexes. `now` is
    the runtime clock's: a pinned day dates the note too."""
    if not may_see(principal, Section.NOTES):
        raise AccessDenied("your role may not log interaction notes")
    account = visible_account(session, principal, new.account_id)
    if (existing := _already_logged(session, principal, new.idempotency_key)) is not None:
        return existing
    if new.contact_id is not None:
        _require_contact(session, new.contact_id, account.id)
    note = Interaction(
        id=f"N-{uuid.uuid4().hex[:12]}",
        account_id=account.id,
        contact_id=new.contact_id,
        author_id=principal.user_id,
        channel=new.channel,
        occurred_at=new.occurred_at or now,
        subject=new.subject,
        body=new.summary,
        idempotency_key=new.idempotency_key,
    )
    task = None
    if new.follow_up_on is not None:
        title = new.follow_up_title or f"Follow up with {account.name}"
        task = _new_task(principal, title, new.follow_up_on, account.id, now, note.id)
    try:
        with session.begin_nested():  # a savepoint: a lost race must not undo the caller's work
            session.add_all([note, *([task] if task else []), owe(SourceType.INTERACTION, note.id)])
    except IntegrityError:  # a concurrent request with the same key logged it first
        if (existing := _already_logged(session, principal, new.idempotency_key)) is None:
            raise
        return existing
    if lifecycle.recompute(session, now.date(), [account.id], now):  # a note can end a silence
        session.add(owe(SourceType.ACCOUNT, account.id))  # its document names the stage
    return LoggedInteraction(
        interaction_id=note.id,
        account_id=account.id,
        account_name=account.name,
        occurred_at=note.occurred_at,
        task_id=task.id if task else None,
        follow_up_on=new.follow_up_on if task else None,
        created=True,
    )


def _already_logged(
    session: Session, principal: Principal, key: str | None
) -> LoggedInteraction | None:
    if key is None:
        return None
    row = session.execute(
        sa.select(Interaction, Account.name)
        .join(Account, Interaction.account_id == Account.id)
        .where(Interaction.author_id == principal.user_id, Interaction.idempotency_key == key)
    ).first()
    if row is None:
        return None
    note, account_name = row
    task = session.scalar(sa.select(Task).where(Task.interaction_id == note.id))
    return LoggedInteraction(
        interaction_id=note.id,
        account_id=note.account_id,
        account_name=account_name,
        occurred_at=note.occurred_at,
        task_id=task.id if task else None,
        follow_up_on=task.due_date if task else None,
        created=False,
    )


def _require_contact(session: Session, contact_id: str, account_id: str) -> None:
    contact = session.get(Contact, contact_id)
    if contact is None or contact.account_id != account_id:
        raise NotFound(f"no contact {contact_id!r} at account {account_id!r}")


def _new_task(
    principal: Principal,
    title: str,
    due: date | None,
    account_id: str | None,
    now: datetime,
    interaction_id: str | None = None,
) -> Task:
    return Task(
        id=f"K-{uuid.uuid4().hex[:12]}",
        owner_id=principal.user_id,
        account_id=account_id,
        interaction_id=interaction_id,
        title=title,
        due_date=due,
        status=TaskStatus.OPEN,
        created_at=now,
    )


def create_task(
    session: Session,
    principal: Principal,
    title: str,
    due: date | None,
    account_id: str | None,
    now: datetime,
) -> TaskView:
    """A reminder for the principal; if it names a customer, that customer must be visible."""
    account = visible_account(session, principal, account_id) if account_id else None
    task = _new_task(principal, title, due, account.id if account else None, now)
    session.add(task)
    session.flush()
    return _view(task, account.name if account else None)


def list_tasks(
    session: Session,
    principal: Principal,
    include_done: bool = False,
    account_id: str | None = None,
    due_before: date | None = None,
) -> list[TaskView]:
    """The principal's own tasks (accounts they can no longer see are not named)."""
    visible = sa.select(Account.id).where(profile_scope(principal))
    query = (
        sa.select(Task, Account.name)
        .outerjoin(Account, (Task.account_id == Account.id) & Account.id.in_(visible))
        .where(Task.owner_id == principal.user_id)
    )
    if not include_done:
        query = query.where(Task.status == TaskStatus.OPEN)
    if account_id:
        query = query.where(Task.account_id == account_id)
    if due_before:
        query = query.where(Task.due_date <= due_before)
    rows = session.execute(query.order_by(Task.due_date.is_(None), Task.due_date, Task.id))
    return [_view(task, name) for task, name in rows]


def _view(task: Task, account_name: str | None) -> TaskView:
    return TaskView(
        id=task.id,
        title=task.title,
        due_date=task.due_date,
        status=task.status,
        account_id=task.account_id if account_name else None,
        account_name=account_name,
    )
