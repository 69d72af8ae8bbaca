"""Turns CRM records into indexable documents: the text to embed and the access payload.

The payload is what the access policy filters on, so every document names its account
and each kind of owner that opens it: the record's own owner, the account's owner and
account team, and (on account profiles) the owners of the account's deals and tickets
(see `crmassist.access.policy`). Opportunities, orders and tasks are deliberately absent:
they are reached through SQL with the same scope.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Collection, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmassist.access.policy import PayloadKey
from crmassist.domain.enums import Audience, SourceType
from crmassist.domain.models import (
    Account,
    AccountTeamMember,
    Contact,
    Interaction,
    KnowledgeArticle,
    Opportunity,
    Ticket,
    User,
)

Access = dict[str, dict[str, list[str]]]
"""account id -> payload key -> user ids: the account team and the owners that open it."""


@dataclass(frozen=True)
class SourceDocument:
    source_type: SourceType
    record_id: str
    title: str
    text: str
    payload: dict[str, Any] = field(default_factory=dict)

    @property
    def content_hash(self) -> str:
        """Changes when anything indexed changes: text, title or access payload."""
        blob = json.dumps([self.title, self.text, self.payload], sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


def iter_documents(
    session: Session, only: Mapping[SourceType, Collection[str]] | None = None
) -> Iterator[SourceDocument]:
    """Every indexable record in the store, in a stable order; or just the `only` ones."""
    owners = _owner_names(session)
    accounts = {a.id: a for a in session.scalars(sa.select(Account))}
    access = _account_access(session)

    def wanted(source: SourceType, model: Any) -> sa.Select[Any]:
        query = sa.select(model).order_by(model.id)
        return query if only is None else query.where(model.id.in_(only.get(source, ())))

    if only is None or SourceType.KB in only:
        yield from _kb_documents(session.scalars(wanted(SourceType.KB, KnowledgeArticle)))
    if only is None or SourceType.ACCOUNT in only:
        chosen = [a for a in accounts.values() if only is None or a.id in only[SourceType.ACCOUNT]]
        contacts = session.scalars(
            sa.select(Contact).where(Contact.account_id.in_([a.id for a in chosen]))
        )
        yield from _account_documents(chosen, contacts, owners, access)
    people = {c.id: c for c in session.scalars(sa.select(Contact))}
    for note in session.scalars(wanted(SourceType.INTERACTION, Interaction)):
        account = accounts[note.account_id]
        yield _interaction_document(note, account, people, _scope(account, note.author_id, access))
    for ticket in session.scalars(wanted(SourceType.TICKET, Ticket)):
        account = accounts[ticket.account_id]
        scope = _scope(account, ticket.assignee_id, access)
        yield _ticket_document(ticket, account, people, scope)


def _owner_names(session: Session) -> dict[str, str]:
    return {uid: name for uid, name in session.execute(sa.select(User.id, User.name))}


def _account_access(session: Session) -> Access:
    """Per account, the users who open it beside its owner, by payload key."""
    access: Access = {}
    for key, query in (
        (
            PayloadKey.ACCOUNT_TEAM,
            sa.select(AccountTeamMember.account_id, AccountTeamMember.user_id),
        ),
        (PayloadKey.DEAL_OWNERS, sa.select(Opportunity.account_id, Opportunity.owner_id)),
        (PayloadKey.TICKET_ASSIGNEES, sa.select(Ticket.account_id, Ticket.assignee_id)),
    ):
        for account_id, user_id in session.execute(query.distinct()):
            if user_id is not None:
                access.setdefault(account_id, {}).setdefault(key, []).append(user_id)
    for keys in access.values():
        for users in keys.values():
            users.sort()  # a stable payload, so the content hash only moves with the data
    return access


def _scope(account: Account, owner_id: str | None, access: Access) -> dict[str, Any]:
    """The owner keys of a note or ticket (`owner_id`: author, assignee) on `account`."""
    return {
        PayloadKey.ACCOUNT_ID: account.id,
        PayloadKey.OWNER_ID: owner_id,
        PayloadKey.ACCOUNT_OWNER_ID: account.owner_id,
        PayloadKey.ACCOUNT_TEAM: access.get(account.id, {}).get(PayloadKey.ACCOUNT_TEAM, []),
    }


def _profile_scope(account: Account, access: Access) -> dict[str, Any]:
    """An account profile's owner keys: its owner, its team, and who owns deals or
    tickets on it (they may read the profile, see `scope.profile_scope`)."""
    granted = access.get(account.id, {})
    return {
        **_scope(account, account.owner_id, access),
        PayloadKey.DEAL_OWNERS: granted.get(PayloadKey.DEAL_OWNERS, []),
        PayloadKey.TICKET_ASSIGNEES: granted.get(PayloadKey.TICKET_ASSIGNEES, []),
    }


def _kb_documents(articles: Iterable[KnowledgeArticle]) -> Iterator[SourceDocument]:
    for article in articles:
        yield SourceDocument(
            SourceType.KB,
            article.id,
            article.title,
            f"{article.title}\n\n{article.body}",
            {
                PayloadKey.AUDIENCE: Audience(article.audience).value,
                PayloadKey.LANG: article.lang,
                "product": article.product,
                "tags": list(article.tags or []),
            },
        )


def _account_documents(
    accounts: Any, contacts: Any, owners: dict[str, str], access: Access
) -> Iterator[SourceDocument]:
    people: dict[str, list[str]] = {}
    for contact in contacts:
        role = f" ({contact.title})" if contact.title else ""
        people.setdefault(contact.account_id, []).append(f"{contact.name}{role}")
    for account in sorted(accounts, key=lambda a: a.id):
        owner = owners.get(account.owner_id or "", "unassigned")
        facts = ", ".join(x for x in (account.industry, account.region, account.size) if x)
        lines = [
            f"{account.name}: {facts}.",
            f"Lifecycle stage: {account.lifecycle_stage}. Account owner: {owner}.",
            f"Contacts: {'; '.join(people.get(account.id, [])) or 'none on file'}.",
        ]
        yield SourceDocument(
            SourceType.ACCOUNT,
            account.id,
            account.name,
            "\n".join(lines),
            _profile_scope(account, access),
        )


def _header(account: Account, contact: Contact | None, when: datetime) -> str:
    who = f" with {contact.name}" if contact else ""
    return f"{account.name}{who}, {when:%Y-%m-%d}"


def _interaction_document(
    note: Interaction,
    account: Account,
    contacts: dict[str, Contact],
    scope: dict[str, Any],
) -> SourceDocument:
    contact = contacts.get(note.contact_id or "")
    title = note.subject or f"{note.channel.value.capitalize()} with {account.name}"
    head = f"{note.channel.value.capitalize()} — {_header(account, contact, note.occurred_at)}"
    return SourceDocument(
        SourceType.INTERACTION,
        note.id,
        title,
        f"{head}\n{note.subject or ''}\n{note.body}".replace("\n\n", "\n"),
        {
            **scope,
            PayloadKey.OCCURRED_AT: note.occurred_at.timestamp(),
            "channel": note.channel.value,
            "contact_id": note.contact_id,
        },
    )


def _ticket_document(
    ticket: Ticket,
    account: Account,
    contacts: dict[str, Contact],
    scope: dict[str, Any],
) -> SourceDocument:
    contact = contacts.get(ticket.contact_id or "")
    status = f"{ticket.priority.value} priority, {ticket.status.value}"
    head = f"Ticket {ticket.id} ({status}) — {_header(account, contact, ticket.created_at)}"
    return SourceDocument(
        SourceType.TICKET,
        ticket.id,
        ticket.subject,
        f"{head}\n{ticket.subject}\n{ticket.body}",
        {
            **scope,
            PayloadKey.OCCURRED_AT: ticket.created_at.timestamp(),
            "status": ticket.status.value,
            "priority": ticket.priority.value,
            "contact_id": ticket.contact_id,
        },
    )
