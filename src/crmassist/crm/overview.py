"""Meeting prep: one customer's profile, deals, orders, notes, tickets and tasks.

Each section is filled only if the principal's role may see it (`access.scope.Section`);
a section the role may not see is `None`, an empty one is `[]`, so an answer can say
"no open tickets" and never pretend a hidden section is empty.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from pydantic import BaseModel
from sqlalchemy.orm import Session

from crmassist.access.principal import Principal
from crmassist.access.scope import Section, may_see, profile_scope, record_scope
from crmassist.crm.commitments import Commitment, commitments_in
from crmassist.crm.errors import NotFound
from crmassist.domain.enums import Stage, TaskStatus, TicketStatus
from crmassist.domain.models import (
    Account,
    Contact,
    Interaction,
    Opportunity,
    Order,
    Task,
    Ticket,
    User,
)
from crmassist.privacy.masking import mask_digits, mask_email

RECENT = 5


class ContactInfo(BaseModel):
    id: str
    name: str
    title: str | None
    email: str | None
    phone: str | None


class DealInfo(BaseModel):
    id: str
    name: str
    stage: Stage
    amount: Decimal
    currency: str
    close_date: date | None
    probability: int


class OrderInfo(BaseModel):
    id: str
    order_date: date
    product: str
    amount: Decimal
    currency: str


class NoteInfo(BaseModel):
    id: str
    occurred_at: datetime
    channel: str
    author: str
    contact_id: str | None
    subject: str | None
    body: str


class TicketInfo(BaseModel):
    id: str
    subject: str
    status: TicketStatus
    priority: str
    created_at: datetime
    csat: int | None


class TaskInfo(BaseModel):
    id: str
    title: str
    due_date: date | None
    owner: str


class CustomerOverview(BaseModel):
    account_id: str
    name: str
    industry: str | None
    region: str | None
    size: str | None
    lifecycle_stage: str
    owner: str | None
    contacts: list[ContactInfo]
    open_deals: list[DealInfo] | None
    recent_orders: list[OrderInfo] | None
    last_interactions: list[NoteInfo] | None
    open_tickets: list[TicketInfo] | None
    next_tasks: list[TaskInfo] | None
    commitments: list[Commitment] | None = None
    """What we promised in the recent notes, each with its date read from the note."""

    def record_refs(self) -> list[tuple[str, str, str]]:
        """(kind, id, title) of every record shown: what audit entries and citations name."""
        refs = [("accounts", self.account_id, self.name)]
        refs += [("contacts", c.id, c.name) for c in self.contacts]
        refs += [("opportunities", d.id, d.name) for d in self.open_deals or []]
        refs += [("orders", o.id, o.product) for o in self.recent_orders or []]
        refs += [
            ("interactions", n.id, n.subject or n.channel) for n in self.last_interactions or []
        ]
        refs += [("tickets", t.id, t.subject) for t in self.open_tickets or []]
        refs += [("tasks", t.id, t.title) for t in self.next_tasks or []]
        return refs


def visible_account(session: Session, principal: Principal, account_id: str) -> Account:
    """The account if the principal may read its profile; otherwise NotFound, whether or
    not it exists. What it shows beyond the profile each section scopes for itself."""
    account = session.scalar(
        sa.select(Account).where(Account.id == account_id, profile_scope(principal))
    )
    if account is None:
        raise NotFound(f"no customer {account_id!r} that you can see")
    return account


def customer_overview(
    session: Session, principal: Principal, account_id: str, recent: int = RECENT
) -> CustomerOverview:
    account = visible_account(session, principal, account_id)
    notes = (
        _notes(session, principal, account.id, recent)
        if may_see(principal, Section.NOTES)
        else None
    )
    return CustomerOverview(
        account_id=account.id,
        name=account.name,
        industry=account.industry,
        region=account.region,
        size=account.size,
        lifecycle_stage=account.lifecycle_stage.value,
        owner=account.owner.name if account.owner else None,
        contacts=_contacts(session, principal, account.id),
        open_deals=(
            _deals(session, principal, account.id) if may_see(principal, Section.DEALS) else None
        ),
        recent_orders=(
            _orders(session, principal, account.id, recent)
            if may_see(principal, Section.ORDERS)
            else None
        ),
        last_interactions=notes,
        open_tickets=(
            _tickets(session, principal, account.id)
            if may_see(principal, Section.TICKETS)
            else None
        ),
        next_tasks=(
            _tasks(session, principal, account.id) if may_see(principal, Section.TASKS) else None
        ),
        commitments=_commitments(notes) if notes is not None else None,
    )


def _commitments(notes: list[NoteInfo]) -> list[Commitment]:
    return [c for n in notes for c in commitments_in(n.id, n.occurred_at.date(), n.body)]


def _contacts(session: Session, principal: Principal, account_id: str) -> list[ContactInfo]:
    reveal = may_see(principal, Section.CONTACT_DETAILS)
    rows = session.scalars(
        sa.select(Contact).where(Contact.account_id == account_id).order_by(Contact.id)
    )
    return [
        ContactInfo(
            id=c.id,
            name=c.name,
            title=c.title,
            email=c.email if reveal or not c.email else mask_email(c.email),
            phone=c.phone if reveal or not c.phone else mask_digits(c.phone),
        )
        for c in rows
    ]


def _deals(session: Session, principal: Principal, account_id: str) -> list[DealInfo]:
    rows = session.scalars(
        sa.select(Opportunity)
        .where(
            Opportunity.account_id == account_id,
            record_scope(principal, Opportunity),
            Opportunity.stage.not_in([Stage.CLOSED_WON, Stage.CLOSED_LOST]),
        )
        .order_by(Opportunity.close_date, Opportunity.id)
    )
    return [DealInfo.model_validate(o, from_attributes=True) for o in rows]


def _orders(
    session: Session, principal: Principal, account_id: str, recent: int
) -> list[OrderInfo]:
    rows = session.scalars(
        sa.select(Order)
        .where(Order.account_id == account_id, record_scope(principal, Order))
        .order_by(Order.order_date.desc(), Order.id.desc())
        .limit(recent)
    )
    return [OrderInfo.model_validate(o, from_attributes=True) for o in rows]


def _notes(session: Session, principal: Principal, account_id: str, recent: int) -> list[NoteInfo]:
    rows = session.execute(
        sa.select(Interaction, User.name)
        .join(User, Interaction.author_id == User.id)
        .where(Interaction.account_id == account_id, record_scope(principal, Interaction))
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .limit(recent)
    )
    return [
        NoteInfo(
            id=note.id,
            occurred_at=note.occurred_at,
            channel=note.channel.value,
            author=author,
            contact_id=note.contact_id,
            subject=note.subject,
            body=note.body,
        )
        for note, author in rows
    ]


def _tickets(session: Session, principal: Principal, account_id: str) -> list[TicketInfo]:
    rows = session.scalars(
        sa.select(Ticket)
        .where(
            Ticket.account_id == account_id,
            record_scope(principal, Ticket),
            Ticket.status.in_([TicketStatus.OPEN, TicketStatus.PENDING]),
        )
        .order_by(Ticket.created_at.desc())
    )
    return [
        TicketInfo(
            id=t.id,
            subject=t.subject,
            status=t.status,
            priority=t.priority.value,
            created_at=t.created_at,
            csat=t.csat,
        )
        for t in rows
    ]


def _tasks(session: Session, principal: Principal, account_id: str) -> list[TaskInfo]:
    rows = session.execute(
        sa.select(Task, User.name)
        .join(User, Task.owner_id == User.id)
        .where(
            Task.account_id == account_id,
            Task.status == TaskStatus.OPEN,
            record_scope(principal, Task),
        )
        .order_by(Task.due_date.is_(None), Task.due_date, Task.id)
    )
    return [TaskInfo(id=t.id, title=t.title, due_date=t.due_date, owner=owner) for t, owner in rows]
