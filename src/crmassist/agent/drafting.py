"""Follow-up drafts built only from the record: the latest interactions, what we promised in
them, open tickets and tasks. Templates and fixed phrases live in `prompts/`.

Nothing is generated: every sentence of a draft is either template wording or a sentence
of a stored note or ticket, so a draft cannot invent a price, a date or a promise. A
language model may polish it later; the eval suite checks it did not add facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from string import Template
from typing import Any

import sqlalchemy as sa
import yaml
from pydantic import BaseModel
from sqlalchemy.orm import Session

from crmassist.access.principal import Principal
from crmassist.access.scope import Section, may_see
from crmassist.crm.errors import AccessDenied
from crmassist.crm.overview import NoteInfo, customer_overview
from crmassist.domain.models import Contact, User
from crmassist.ingest.importer import detect_lang

COMMITMENT = re.compile(
    r"\b(promised|will|committed|agreed to|we'll|I'll|going to|scheduled|to send|by (?:mon|tue|"
    r"wed|thu|fri|sat|sun|next|end|tomorrow))|承诺|答应|安排|将于|会在|下周|明天",
    re.IGNORECASE,
)
INTERNAL = re.compile(
    r"approv|manager|margin|internal|deal desk|limit|ClearStream|PureWave|VP\b|"
    r"审批|经理|内部|竞品",
    re.IGNORECASE,
)
"""Sentences about our side's authority, people or competitors stay out of customer mail."""
_SENTENCE = re.compile(r"(?<=[.!?])\s+|(?<=[。！？])")
RECENT_NOTES = 3


@dataclass(frozen=True)
class Templates:
    """The follow-up templates of one prompts directory."""

    directory: Path

    def body(self, language: str) -> Template:
        path = self.directory / f"follow_up.{language}.md"
        return Template(path.read_text(encoding="utf-8"))

    @cached_property
    def blocks(self) -> dict[str, dict[str, Any]]:
        text = (self.directory / "follow_up.blocks.yaml").read_text(encoding="utf-8")
        loaded: dict[str, dict[str, Any]] = yaml.safe_load(text)
        return loaded


class FollowUpDraft(BaseModel):
    language: str
    to_contact_id: str | None
    to_contact: str | None
    subject: str
    body: str
    sources: list[str]
    """Record ids every fact of the draft came from."""


def sentences(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE.split(text) if s.strip()]


def commitments(text: str) -> list[str]:
    return [s for s in sentences(text) if COMMITMENT.search(s) and not INTERNAL.search(s)]


def draft_follow_up(
    session: Session,
    principal: Principal,
    account_id: str,
    contact_id: str | None,
    language: str | None,
    templates: Templates | None,
) -> FollowUpDraft:
    if templates is None:
        raise AccessDenied("follow-up templates are not configured")
    if not may_see(principal, Section.NOTES):
        raise AccessDenied("your role may not read interaction notes, so it cannot draft")
    view = customer_overview(session, principal, account_id, recent=RECENT_NOTES)
    notes = view.last_interactions or []
    contact = session.get(Contact, contact_id) if contact_id else None
    if contact is None or contact.account_id != account_id:
        contact = _latest_contact(session, account_id, notes)
    lang = language or detect_lang(" ".join([view.name, *(n.body for n in notes[:1])]))
    lang = lang if lang in templates.blocks else "en"
    words = templates.blocks[lang]
    sender = session.scalar(sa.select(User.name).where(User.id == principal.user_id))
    latest = notes[0] if notes else None
    promised = [c for note in notes for c in commitments(note.body)][:5]
    open_items = [
        words["ticket"].format(id=t.id, subject=t.subject, status=t.status.value)
        for t in view.open_tickets or []
    ] + [
        words["task"].format(title=t.title)
        + (words["due"].format(due=t.due_date.isoformat()) if t.due_date else "")
        for t in view.next_tasks or []
    ]
    body = templates.body(lang).substitute(
        channel=words["channels"].get(latest.channel, latest.channel) if latest else "",
        date=latest.occurred_at.date().isoformat() if latest else "",
        contact=contact.name if contact else words["nobody"],
        recap=_recap(latest.subject, latest.body) if latest else "",
        commitments_block=_block(words["commitments"], promised),
        open_items_block=_block(words["open_items"], open_items),
        sender=sender or principal.user_id,
    )
    subject, _, rest = body.partition("\n")
    return FollowUpDraft(
        language=lang,
        to_contact_id=contact.id if contact else None,
        to_contact=contact.name if contact else None,
        subject=subject.split(":", 1)[-1].split("：", 1)[-1].strip(),
        body=rest.strip(),
        sources=[view.account_id, *(n.id for n in notes), *(t.id for t in view.open_tickets or [])],
    )


_CONTACT_DETAILS = re.compile(r"@|\d[\d ()+-]{6,}\d")


def _recap(subject: str | None, body: str) -> str:
    """The subject and the first plain statements; promises are listed separately and
    sentences with contact details or numbers like IDs stay out of a customer email."""
    points = [subject] if subject else []
    points += [
        s
        for s in sentences(body)
        if not COMMITMENT.search(s) and not _CONTACT_DETAILS.search(s) and not INTERNAL.search(s)
    ][:2]
    return "\n".join(f"- {p}" for p in points)


def _block(heading: str, items: list[str]) -> str:
    if not items:
        return ""
    return "\n" + heading + "\n" + "\n".join(f"- {item}" for item in items) + "\n"


def _latest_contact(session: Session, account_id: str, notes: list[NoteInfo]) -> Contact | None:
    """The contact of the most recent note that names one, else the account's first."""
    for note in notes:
        if note.contact_id and (contact := session.get(Contact, note.contact_id)) is not None:
            return contact
    return session.scalar(
        sa.select(Contact).where(Contact.account_id == account_id).order_by(Contact.id).limit(1)
    )
