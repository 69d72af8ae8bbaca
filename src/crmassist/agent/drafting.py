"""Follow-up drafts built only from the record: addressed to the contact, what was
discussed, each of our commitments with its date, what is still open, a next step.
Templates and fixed phrases live in `prompts/`.

Nothing is generated: every sentence of a draft is template wording, a sentence of a
stored note, ticket or task, or a date the date parser read from a note ("by Friday" in a
note of 18 November is Friday 22 November), so a draft cannot invent a price, a date or a
promise. A language model may polish it later; the eval suite checks it did not add facts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from functools import cached_property
from pathlib import Path
from string import Template
from typing import Any

import sqlalchemy as sa
import yaml
from pydantic import BaseModel
from rapidfuzz import utils
from sqlalchemy.orm import Session

from crmassist.access.principal import Principal
from crmassist.access.scope import Section, may_see
from crmassist.agent.planner.compose import Phrases
from crmassist.crm.commitments import is_commitment, is_internal, sentences
from crmassist.crm.errors import AccessDenied
from crmassist.crm.overview import NoteInfo, customer_overview
from crmassist.domain.language import CJK, detect_lang, without_accents
from crmassist.domain.models import Contact, User

_CONTACT_DETAILS = re.compile(r"@|\d[\d ()+-]{6,}\d")

_CONTACT_DETAILS = re.compile(r"@|\d[\d ()+-]{6,}\d")
RECENT_NOTES = 3


@dataclass(frozen=True)
class Templates:
    """The follow-up templates of one prompts directory."""

    directory: Path

    def body(self, language: str) -> Template:
        path = self.directory / f"follow_up.{language}.md"
        return Template(path.read_text(encoding="utf-8"))

    @cached_property
    def phrases(self) -> Phrases:
        """The labels and date formats answers use."""
        return Phrases(self.directory)

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


def draft_follow_up(
    session: Session,
    principal: Principal,
    account_id: str,
    contact_id: str | None,
    language: str | None,
    templates: Templates | None,
    named: str | None = None,
) -> FollowUpDraft:
    """`named`: who the asker wants it addressed to, in their words ("rachel", "Sofía
    Castillo"); the account's contact of that name goes before the conversation's."""
    if templates is None:
        raise AccessDenied("follow-up templates are not configured")
    if not may_see(principal, Section.NOTES):
        raise AccessDenied("your role may not read interaction notes, so it cannot draft")
    view = customer_overview(session, principal, account_id, recent=RECENT_NOTES)
    notes = view.last_interactions or []
    contact = session.get(Contact, contact_id) if contact_id else None
    if named and (called := named_contact(session, account_id, named)) is not None:
        contact = called
    if contact is None or contact.account_id != account_id:
        contact = _latest_contact(session, account_id, notes)
    lang = language or detect_lang(" ".join([view.name, *(n.body for n in notes[:1])]))
    lang = lang if lang in templates.blocks else "en"
    words, phrases = templates.blocks[lang], templates.phrases
    sender = session.scalar(sa.select(User.name).where(User.id == principal.user_id))
    latest = notes[0] if notes else None
    noted = latest.occurred_at.date() if latest else None

    def day(value: date | None) -> str:
        return phrases.day(lang, value, noted)

    promised = [
        words["commitment_due"].format(text=c.text.rstrip(".。!！"), due=day(c.due))
        if c.due
        else c.text
        for c in [c for c in view.commitments or [] if not c.internal][:5]
    ]
    tasks = view.next_tasks or []
    open_items = [
        words["ticket"].format(
            id=t.id, subject=t.subject, status=phrases.label(lang, "ticket_status", t.status)
        )
        for t in view.open_tickets or []
    ] + [_dated(words, t.title, day(t.due_date) if t.due_date else None) for t in tasks[1:]]
    next_step = (
        words["next_step"].format(title=tasks[0].title, due=day(tasks[0].due_date))
        if tasks and tasks[0].due_date
        else words["next_step_open"]
    )
    body = templates.body(lang).substitute(
        channel=words["channels"].get(latest.channel, latest.channel) if latest else "",
        date=day(noted),
        contact=contact.name if contact else words["nobody"],
        recap=_recap(latest.subject, latest.body) if latest else "",
        commitments_block=_block(words["commitments"], promised),
        open_items_block=_block(words["open_items"], open_items),
        next_step=next_step,
        sender=sender or principal.user_id,
    )
    subject, _, rest = body.partition("\n")
    return FollowUpDraft(
        language=lang,
        to_contact_id=contact.id if contact else None,
        to_contact=contact.name if contact else None,
        subject=subject.split(":", 1)[-1].split("：", 1)[-1].strip(),
        body=rest.strip(),
        sources=[
            view.account_id,
            *(n.id for n in notes),
            *(t.id for t in view.open_tickets or []),
            *(t.id for t in tasks),
        ],
    )


def _dated(words: dict[str, Any], title: str, due: str | None) -> str:
    return str(words["task"]).format(title=title) + (words["due"].format(due=due) if due else "")


def _recap(subject: str | None, body: str) -> str:
    """The subject and the first plain statements; promises are listed separately, and
    sentences with contact details, our internal side or a competitor stay out."""
    points = [subject] if subject else []
    points += [
        s
        for s in sentences(body)
        if not is_commitment(s) and not _CONTACT_DETAILS.search(s) and not is_internal(s)
    ][:2]
    return "\n".join(f"- {p}" for p in points)


def _block(heading: str, items: list[str]) -> str:
    if not items:
        return ""
    return "\n" + heading + "\n" + "\n".join(f"- {item}" for item in items) + "\n"


def named_contact(session: Session, account_id: str, words: str) -> Contact | None:
    """The account's one contact whose first, last or full name `words` hold, accents and
    case aside ("sofia" is Sofía Castillo); Chinese names as written. None when no contact
    or more than one is named."""
    held = _plain_words(words)
    contacts = session.scalars(sa.select(Contact).where(Contact.account_id == account_id))
    named = [
        c
        for c in contacts
        if any(len(part) >= 2 and part in held for part in _plain_words(c.name))
        or (CJK.search(c.name) and c.name in words)
    ]
    return named[0] if len(named) == 1 else None


def _plain_words(text: str) -> set[str]:
    """Lower case, no accents, no punctuation."""
    return set(utils.default_process(without_accents(text)).split())


def _latest_contact(session: Session, account_id: str, notes: list[NoteInfo]) -> Contact | None:
    """The contact of the most recent note that names one, else the account's first."""
    for note in notes:
        if note.contact_id and (contact := session.get(Contact, note.contact_id)) is not None:
            return contact
    return session.scalar(
        sa.select(Contact).where(Contact.account_id == account_id).order_by(Contact.id).limit(1)
    )
