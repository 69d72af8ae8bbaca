"""Turns CRM records into indexable documents: the text to embed and the access payload.

The payload is what the access policy filters on, so every document names its account,
the account's owner and the owner's team (see `crmassist.access.policy`). Opportunities
and orders are deliberately absent: they are reached through SQL with the same scope.
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
    Contact,
    Interaction,
    KnowledgeArticle,
    Ticket,
    User,
)


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
    owners = _owner_teams(session)
    accounts = {a.id: a for a in session.scalars(sa.select(Account))}

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
        yield from _account_documents(chosen, contacts, owners)
    people = {c.id: c for c in session.scalars(sa.select(Contact))}
    for note in session.scalars(wanted(SourceType.INTERACTION, Interaction)):
        yield _interaction_document(note, accounts[note.account_id], people, owners)
    for ticket in session.scalars(wanted(SourceType.TICKET, Ticket)):
        yield _ticket_document(ticket, accounts[ticket.account_id], people, owners)


def _owner_teams(session: Session) -> dict[str, tuple[str, str | None]]:
    """user id -> (name, team id); the account owner's team scopes managers' access."""
    rows = session.execute(sa.select(User.id, User.name, User.team_id))
    return {uid: (name, team) for uid, name, team in rows}


def _scope(account: Account, owners: dict[str, tuple[str, str | None]]) -> dict[str, Any]:
    team = owners[account.owner_id][1] if account.owner_id in owners else None
    return {
        PayloadKey.ACCOUNT_ID: account.id,
        PayloadKey.OWNER_ID: account.owner_id,
        PayloadKey.TEAM_ID: team,
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
    accounts: Any, contacts: Any, owners: dict[str, tuple[str, str | None]]
) -> Iterator[SourceDocument]:
    people: dict[str, list[str]] = {}
    for contact in contacts:
        role = f" ({contact.title})" if contact.title else ""
        people.setdefault(contact.account_id, []).append(f"{contact.name}{role}")
    for account in sorted(accounts, key=lambda a: a.id):
        owner = owners.get(account.owner_id or "", ("unassigned", None))[0]
        facts = ", ".join(x for x in (account.industry, account.region, account.size) if x)
        lines = [
            f"{account.name}: {facts}.",
            f"Lifecycle stage: {account.lifecycle_stage}. Account owner: {owner}.",
            f"Contacts: {'; '.join(people.get(account.id, [])) or 'none on file'}.",
        ]
        yield SourceDocument(
            SourceType.ACCOUNT, account.id, account.name, "\n".join(lines), _scope(account, owners)
        )


def _header(account: Account, contact: Contact | None, when: datetime) -> str:
    who = f" with {contact.name}" if contact else ""
    return f"{account.name}{who}, {when:%Y-%m-%d}"


def _interaction_document(
    note: Interaction,
    account: Account,
    contacts: dict[str, Contact],
    owners: dict[str, tuple[str, str | None]],
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
            **_scope(account, owners),
            PayloadKey.OCCURRED_AT: note.occurred_at.timestamp(),
            "channel": note.channel.value,
            "author_id": note.author_id,
            "contact_id": note.contact_id,
        },
    )


def _ticket_document(
    ticket: Ticket,
    account: Account,
    contacts: dict[str, Contact],
    owners: dict[str, tuple[str, str | None]],
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
            **_scope(account, owners),
            PayloadKey.OCCURRED_AT: ticket.created_at.timestamp(),
            "status": ticket.status.value,
            "priority": ticket.priority.value,
            "contact_id": ticket.contact_id,
        },
    )
