"""Data rights: export everything held about one person, erase them, and prove it.

A person is a CRM contact. What is held about them lives in several places, and each is
handled here:

- SQL: the contact row; notes, tickets, tasks and reminders that name them (raw text); the
  pseudonym vault (`pii_tokens`); conversations (pseudonymised text, tool calls,
  citations, the focus); the audit log's copies (raw questions, tool arguments).
- The vector index: redacted chunks of those notes and tickets, and the account's
  document that lists its contacts.

Erasure keeps the business content: in every text the person's values, their tokens and
the name written partly ("Ms. Gonzalez", "Maria") become `TOMBSTONE`; only the contact
row and their vault rows are deleted. The proof then looks for every value and token in
every text column of every table and in every chunk of the index, by substring, not by
ranked search: a ranked search always returns its nearest neighbours, and searching the
value through the redactor would write it into the vault and the audit log again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from crmassist.batching import batched
from crmassist.crm.errors import NotFound
from crmassist.db import session_scope
from crmassist.domain.encrypted import EncryptedText, cipher_of
from crmassist.domain.enums import SourceType
from crmassist.domain.models import (
    Account,
    AuditEvent,
    Base,
    CitationRecord,
    Contact,
    Conversation,
    Interaction,
    Message,
    PiiToken,
    Reminder,
    Task,
    Ticket,
    ToolCallRecord,
)
from crmassist.errors import CrmassistError
from crmassist.ingest import outbox
from crmassist.privacy.entities import EntityType
from crmassist.privacy.normalise import digest, normalise
from crmassist.privacy.redactor import Redactor
from crmassist.retrieval.store import VectorStore

TOMBSTONE = "[erased]"
"""What an erased person's values, tokens and name parts become in kept text."""

Records = dict[SourceType, list[str]]


class PersonNotFound(NotFound):
    """No contact with that id or e-mail address."""


class ErasureIncomplete(CrmassistError):
    """The proof found a value after erasure; the message says where (never the value)."""


@dataclass(frozen=True)
class Person:
    """The identifying values of one contact: what erasure removes and the proof seeks."""

    contact_id: str
    account_id: str
    values: tuple[tuple[EntityType, str, str], ...]
    """(type, label, value): the name, e-mail and phone as stored on the contact."""

    @property
    def digests(self) -> set[str]:
        return {digest(t, normalise(t, v)) for t, _, v in self.values}

    @property
    def name_words(self) -> set[str]:
        return {
            w for t, _, v in self.values if t is EntityType.PERSON for w in normalise(t, v).split()
        }


def find_person(
    session: Session, contact_id: str | None = None, email: str | None = None
) -> Person:
    """The contact by id or by e-mail (case-insensitive); exactly one must be given."""
    if (contact_id is None) == (email is None):
        raise CrmassistError("give exactly one of a contact id or an e-mail address")
    query = sa.select(Contact)
    if contact_id is not None:
        query = query.where(Contact.id == contact_id)
    else:
        wanted = cipher_of(session).blind_index(EntityType.EMAIL, email or "")
        query = query.where(Contact.email_index == wanted)  # the address is stored encrypted
    contacts = session.scalars(query.order_by(Contact.id)).all()
    if not contacts:
        raise PersonNotFound(f"no contact {contact_id or email!r}")
    if len(contacts) > 1:
        ids = ", ".join(c.id for c in contacts)
        raise CrmassistError(f"{len(contacts)} contacts have that e-mail ({ids}): use --contact")
    contact = contacts[0]
    fields = (
        (EntityType.PERSON, "name", contact.name),
        (EntityType.EMAIL, "email", contact.email),
        (EntityType.PHONE, "phone", contact.phone),
    )
    return Person(
        contact.id,
        contact.account_id,
        tuple((t, label, v.strip()) for t, label, v in fields if v and v.strip()),
    )


def person_tokens(session: Session, person: Person) -> dict[str, str]:
    """token -> value for the person's values the vault holds (looked up by digest, so
    nothing is issued for a value the vault never saw)."""
    keyed = [cipher_of(session).index(d) for d in person.digests]
    rows = session.execute(
        sa.select(PiiToken.token, PiiToken.value).where(PiiToken.digest.in_(keyed))
    )
    return {token: value for token, value in rows}


class Scrubber:
    """Rewrites text and JSON with one person's values, tokens and name parts tombstoned."""

    def __init__(self, person: Person, tokens: Iterable[str], redactor: Redactor) -> None:
        self._person = person
        self._redactor = redactor
        literals = [*tokens, *(v for _, _, v in person.values)]
        self._literal = _any_of(literals)

    def finds(self, text: str) -> bool:
        return bool(self._literal and self._literal.search(text))

    def texts(self, texts: Sequence[str]) -> list[str]:
        """Raw texts (notes, tasks): the detectors find the person written any way, then
        the exact values and tokens go too."""
        found = self._redactor.detect_many(list(texts))
        return [
            self.literal(_cut(t, [d for d in ds if self._is_them(t, d)]))
            for t, ds in zip(texts, found, strict=True)
        ]

    def literal(self, text: str) -> str:
        return self._literal.sub(TOMBSTONE, text) if self._literal else text

    def json(self, value: Any) -> Any:
        """Every string inside a JSON value, tombstoned where it holds the person."""
        if isinstance(value, str):
            return self.literal(value)
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, dict):
            return {k: self.json(v) for k, v in value.items()}
        return value

    def _is_them(self, text: str, detection: Any) -> bool:
        etype, value = detection.entity_type, text[detection.start : detection.end]
        if digest(etype, normalise(etype, value)) in self._person.digests:
            return True
        words = (
            set(normalise(EntityType.PERSON, value).split())
            if etype is EntityType.PERSON
            else set()
        )
        return bool(words) and words <= self._person.name_words


def _any_of(literals: Iterable[str]) -> re.Pattern[str] | None:
    """One case-insensitive pattern for all literals, longest first."""
    unique = sorted({s for s in literals if s}, key=len, reverse=True)
    return re.compile("|".join(map(re.escape, unique)), re.IGNORECASE) if unique else None


def _cut(text: str, detections: Sequence[Any]) -> str:
    for d in sorted(detections, key=lambda d: d.start, reverse=True):
        text = text[: d.start] + TOMBSTONE + text[d.end :]
    return text


# -- where the person is held --------------------------------------------------------------


def _contains(column: Any, term: str) -> sa.ColumnElement[bool]:
    """`column` holds `term`, case-insensitively, also inside JSON (whose non-ASCII text
    is stored escaped: "王芳" as "\\u738b\\u82b3")."""
    text = sa.cast(column, sa.Text) if isinstance(column.type, sa.JSON) else column
    forms = {term, term.lower(), json.dumps(term)[1:-1], json.dumps(term.lower())[1:-1]}
    return sa.or_(
        *(text.contains(f, autoescape=True) for f in forms),
        *(sa.func.lower(text).contains(f.lower(), autoescape=True) for f in forms),
    )


def _mentioning(columns: Sequence[Any], terms: Iterable[str]) -> sa.ColumnElement[bool]:
    return sa.or_(*(_contains(c, t) for c in columns for t in terms))


@dataclass
class Holdings:
    """The rows that hold the person, found once and used by both export and erasure."""

    contact: Contact
    interactions: list[Interaction]
    tickets: list[Ticket]
    tasks: list[Task]
    reminders: list[Reminder]
    conversations: list[Conversation]
    audit: list[AuditEvent]


def holdings(session: Session, person: Person, tokens: Iterable[str]) -> Holdings:
    """Notes, tickets and tasks linked to the contact, on their account (a note there may
    name them in any spelling) or naming them elsewhere; conversations and audit events
    that hold a value or token."""
    terms = [*tokens, *(v for _, _, v in person.values)]
    contact = session.get(Contact, person.contact_id)
    assert contact is not None  # found by find_person in this transaction's snapshot
    on_account = sa.or_(
        Interaction.contact_id == person.contact_id,
        Interaction.account_id == person.account_id,
        _mentioning([Interaction.subject, Interaction.body], terms),
    )
    tickets = sa.or_(
        Ticket.contact_id == person.contact_id,
        Ticket.account_id == person.account_id,
        _mentioning([Ticket.subject, Ticket.body], terms),
    )
    tasks = sa.or_(Task.account_id == person.account_id, _mentioning([Task.title], terms))
    reminders = sa.or_(
        Reminder.account_id == person.account_id, _mentioning([Reminder.text], terms)
    )
    message_convs = sa.select(Message.conversation_id).where(_mentioning([Message.content], terms))
    call_convs = (
        sa.select(Message.conversation_id)
        .join(ToolCallRecord, ToolCallRecord.message_id == Message.id)
        .where(_mentioning([ToolCallRecord.arguments, ToolCallRecord.result], terms))
    )
    cite_convs = (
        sa.select(Message.conversation_id)
        .join(CitationRecord, CitationRecord.message_id == Message.id)
        .where(_mentioning([CitationRecord.title, CitationRecord.snippet], terms))
    )
    conversations = sa.or_(
        _mentioning([Conversation.title, Conversation.context], terms),
        Conversation.id.in_(message_convs),
        Conversation.id.in_(call_convs),
        Conversation.id.in_(cite_convs),
    )
    audit = sa.or_(
        _mentioning([AuditEvent.target, AuditEvent.details], terms),
        AuditEvent.target == f"contact/{person.contact_id}",
    )
    return Holdings(
        contact,
        list(session.scalars(sa.select(Interaction).where(on_account).order_by(Interaction.id))),
        list(session.scalars(sa.select(Ticket).where(tickets).order_by(Ticket.id))),
        list(session.scalars(sa.select(Task).where(tasks).order_by(Task.id))),
        list(session.scalars(sa.select(Reminder).where(reminders).order_by(Reminder.id))),
        list(
            session.scalars(sa.select(Conversation).where(conversations).order_by(Conversation.id))
        ),
        list(session.scalars(sa.select(AuditEvent).where(audit).order_by(AuditEvent.id))),
    )


# -- export -----------------------------------------------------------------------------------


def export_person(
    sessions: sessionmaker[Session],
    redactor: Redactor,
    store: VectorStore | None,
    *,
    contact_id: str | None = None,
    email: str | None = None,
) -> dict[str, Any]:
    """Everything held about one person, values revealed (pseudonyms restored), as JSON-able
    data. Notes on their account that never mention them are left out."""
    with sessions() as session:
        person = find_person(session, contact_id, email)
        tokens = person_tokens(session, person)
        held = holdings(session, person, tokens)
        scrub = Scrubber(person, tokens, redactor)
        kept = _about(held, scrub)
        reveal = _revealer(redactor, held)
        account = session.get(Account, person.account_id)
        data = {
            "exported_at": datetime.now(UTC).isoformat(),
            "contact": _row(held.contact),
            "account": {"id": person.account_id, "name": account.name if account else None},
            "interactions": [_row(n) for n in kept.interactions],
            "tickets": [_row(t) for t in kept.tickets],
            "tasks": [_row(t) for t in kept.tasks],
            "reminders": [_row(r) for r in kept.reminders],
            "conversations": [reveal(_conversation(c)) for c in held.conversations],
            "audit_events": [reveal(_row(e)) for e in held.audit],
            "pseudonyms": dict(sorted(tokens.items())),
        }
    data["index"] = _index_holdings(store, list(tokens), person)
    return data


def _about(held: Holdings, scrub: Scrubber) -> Holdings:
    """Of the account's notes, tickets and tasks, those that are about the person."""

    def linked(item: Any) -> bool:
        return getattr(item, "contact_id", None) == held.contact.id

    def about(items: Sequence[Any], text: Callable[[Any], str]) -> list[Any]:
        texts = [text(i) for i in items]
        changed = scrub.texts(texts) if texts else []
        return [
            i
            for i, before, after in zip(items, texts, changed, strict=True)
            if linked(i) or before != after
        ]

    return Holdings(
        held.contact,
        about(held.interactions, lambda n: f"{n.subject or ''}\n{n.body}"),
        about(held.tickets, lambda t: f"{t.subject}\n{t.body}"),
        about(held.tasks, lambda t: t.title),
        about(held.reminders, lambda r: r.text),
        held.conversations,
        held.audit,
    )


def _revealer(redactor: Redactor, held: Holdings) -> Callable[[Any], Any]:
    """Puts every value back in stored (pseudonymised) JSON: the export is for the person."""
    kinds = list(EntityType)

    def reveal(value: Any) -> Any:
        if isinstance(value, str):
            return redactor.vault.restore(value, kinds)
        if isinstance(value, list):
            return [reveal(v) for v in value]
        if isinstance(value, dict):
            return {k: reveal(v) for k, v in value.items()}
        return value

    return reveal


def _row(item: Base) -> dict[str, Any]:
    table = item.__table__
    return {c.key: _plain(getattr(item, c.key)) for c in table.columns}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "value") and not isinstance(value, (str, int, float)):
        return value.value
    if value is not None and not isinstance(value, (str, int, float, bool, list, dict)):
        return str(value)
    return value


def _conversation(conversation: Conversation) -> dict[str, Any]:
    return {
        **_row(conversation),
        "messages": [
            {
                **_row(m),
                "tool_calls": [_row(c) for c in m.tool_calls],
                "citations": [_row(c) for c in m.citations],
            }
            for m in conversation.messages
        ],
    }


def _index_holdings(store: VectorStore | None, tokens: list[str], person: Person) -> dict[str, Any]:
    """Which indexed records hold the person (their tokens, or a raw value the redactor
    missed), as (source type, record id)."""
    if store is None or not store.exists():
        return {"present": False, "records": []}
    found = index_hits(store, {t: t for t in tokens} | {label: v for _, label, v in person.values})
    records = sorted({r for hits in found.values() for r in hits})
    return {"present": True, "records": [f"{s}/{r}" for s, r in records]}


# -- erasure ----------------------------------------------------------------------------------


@dataclass
class ProofLine:
    """One sought term: its label (never the value) and where it was still found."""

    term: str
    sql: list[str] = field(default_factory=list)
    index: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.sql and not self.index


@dataclass
class Erasure:
    contact_id: str
    changed: dict[str, int]
    reindexed: int
    proof: list[ProofLine]
    columns_searched: int
    chunks_searched: int | None
    """None: there is no index to search (nothing of the person can be in it)."""

    @property
    def clean(self) -> bool:
        return all(line.clean for line in self.proof)

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "clean": self.clean}


def erase_person(
    sessions: sessionmaker[Session],
    redactor: Redactor,
    store: VectorStore | None,
    index_records: Callable[[Records], int] | None,
    *,
    contact_id: str | None = None,
    email: str | None = None,
) -> Erasure:
    """Erase one person everywhere, then look for every value and token of theirs.

    SQL changes are one transaction, with index outbox rows for every record whose indexed
    text changes: a crash after the commit leaves the index owing them, never the person
    in it. `index_records` then re-indexes those records now (None: no index here).
    """
    with session_scope(sessions) as session:
        person = find_person(session, contact_id, email)
        tokens = person_tokens(session, person)
        scrub = Scrubber(person, tokens, redactor)
        held = holdings(session, person, tokens)
        changed, records = _erase_rows(session, held, scrub, person, list(tokens))
        for source_type, ids in records.items():
            session.add_all(outbox.owe(source_type, rid) for rid in ids)
    redactor.vault.forget(tokens)
    terms = {label: value for _, label, value in person.values} | {t: t for t in tokens}
    reindexed = (
        index_records(records) if index_records and store is not None and store.exists() else 0
    )
    reindexed += _reindex_leftovers(store, index_records, terms)
    proof, columns, chunks = prove_absent(sessions, store, terms)
    return Erasure(person.contact_id, changed, reindexed, proof, columns, chunks)


def _erase_rows(
    session: Session, held: Holdings, scrub: Scrubber, person: Person, tokens: list[str]
) -> tuple[dict[str, int], Records]:
    changed: dict[str, int] = {}
    records: Records = {SourceType.ACCOUNT: [person.account_id]}

    def count(kind: str, n: int) -> None:
        changed[kind] = changed.get(kind, 0) + n

    count(
        "interactions",
        _scrub_texts(
            held.interactions, ("subject", "body"), scrub, records, SourceType.INTERACTION, person
        ),
    )
    count(
        "tickets",
        _scrub_texts(held.tickets, ("subject", "body"), scrub, records, SourceType.TICKET, person),
    )
    count("tasks", _scrub_texts(held.tasks, ("title",), scrub, {}, None, person))
    count("reminders", _scrub_texts(held.reminders, ("text",), scrub, {}, None, person))
    count(
        "conversations",
        sum(_scrub_conversation(c, scrub, person.contact_id) for c in held.conversations),
    )
    for event in held.audit:
        target, details = (
            scrub.literal(event.target) if event.target else None,
            scrub.json(event.details),
        )
        if (target, details) != (event.target, event.details):
            event.target, event.details = target, details
            count("audit_events", 1)
    vault_rows = session.execute(sa.delete(PiiToken).where(PiiToken.token.in_(tokens)))
    count("pseudonyms", vault_rows.rowcount)  # type: ignore[attr-defined]
    session.flush()
    session.delete(held.contact)
    count("contacts", 1)
    return changed, records


def _scrub_texts(
    items: Sequence[Any],
    columns: tuple[str, ...],
    scrub: Scrubber,
    records: Records,
    source: SourceType | None,
    person: Person,
) -> int:
    texts = [getattr(i, c) or "" for i in items for c in columns]
    cleaned = iter(scrub.texts(texts) if texts else [])
    changed = 0
    for item in items:
        linked = getattr(item, "contact_id", None) == person.contact_id
        touched = linked
        for column in columns:
            after = next(cleaned)
            if after != (getattr(item, column) or ""):
                setattr(item, column, after)
                touched = True
        if linked:
            item.contact_id = None
        if touched:
            changed += 1
            if source is not None:
                records.setdefault(source, []).append(item.id)
    return changed


def _scrub_conversation(conversation: Conversation, scrub: Scrubber, contact_id: str) -> int:
    conversation.title = scrub.literal(conversation.title)
    context = dict(scrub.json(conversation.context or {}))
    if context.get("contact_id") == contact_id:
        context["contact_id"] = context["contact_name"] = None
    conversation.context = context
    for message in conversation.messages:
        message.content = scrub.literal(message.content)
        for call in message.tool_calls:
            call.arguments, call.result = scrub.json(call.arguments), scrub.literal(call.result)
        for cite in message.citations:
            cite.title, cite.snippet = scrub.literal(cite.title), scrub.literal(cite.snippet)
    return 1


def _reindex_leftovers(
    store: VectorStore | None,
    index_records: Callable[[Records], int] | None,
    terms: Mapping[str, str],
) -> int:
    """Chunks that still hold a term although SQL no longer does (e.g. a stale chunk of
    another record): indexed again from SQL's scrubbed text."""
    if store is None or index_records is None or not store.exists():
        return 0
    left: Records = {}
    for hits in index_hits(store, terms).values():
        for source, rid in hits:
            left.setdefault(SourceType(source), []).append(rid)
    return index_records(left) if left else 0


# -- the proof --------------------------------------------------------------------------------


def text_columns() -> list[sa.Column[Any]]:
    """Every column of every table that can hold text (enums excepted), encrypted too."""
    return [
        c
        for table in Base.metadata.sorted_tables
        for c in table.columns
        if isinstance(c.type, (sa.String, sa.Text, sa.JSON, EncryptedText))
        and not isinstance(c.type, sa.Enum)
    ]


def sql_hits(session: Session, terms: Mapping[str, str]) -> dict[str, list[str]]:
    """label -> ["table.column: N rows", …] where the value is still found. SQL cannot
    look inside an encrypted column: its values are decrypted and searched here."""
    found: dict[str, list[str]] = {label: [] for label in terms}
    for column in text_columns():
        if isinstance(column.type, EncryptedText):
            counts = _decrypted_hits(session, column, terms)
        else:
            counts = {
                label: session.scalar(
                    sa.select(sa.func.count())
                    .select_from(column.table)
                    .where(_contains(column, value))
                )
                or 0
                for label, value in terms.items()
            }
        for label, n in counts.items():
            if n:
                found[label].append(f"{column.table.name}.{column.name}: {n} row(s)")
    return found


def _decrypted_hits(
    session: Session, column: sa.Column[Any], terms: Mapping[str, str]
) -> dict[str, int]:
    values = [v.casefold() for v in session.scalars(sa.select(column)) if v]
    return {
        label: sum(term.casefold() in v for v in values) for label, term in terms.items() if term
    }


def index_hits(store: VectorStore, terms: Mapping[str, str]) -> dict[str, set[tuple[str, str]]]:
    """label -> the (source type, record id) of chunks whose title or text holds it."""
    patterns = {label: re.compile(re.escape(v), re.IGNORECASE) for label, v in terms.items() if v}
    found: dict[str, set[tuple[str, str]]] = {label: set() for label in terms}
    for payload in store.payloads(["source_type", "record_id", "title", "text"]):
        blob = f"{payload.get('title', '')}\n{payload.get('text', '')}"
        for label, pattern in patterns.items():
            if pattern.search(blob):
                found[label].add((str(payload.get("source_type")), str(payload.get("record_id"))))
    return found


def prove_absent(
    sessions: sessionmaker[Session], store: VectorStore | None, terms: Mapping[str, str]
) -> tuple[list[ProofLine], int, int | None]:
    """Search SQL and the index for every term; (lines, columns searched, chunks searched)."""
    with sessions() as session:
        in_sql = sql_hits(session, terms)
    in_index: dict[str, set[tuple[str, str]]] = {label: set() for label in terms}
    chunks = None
    if store is not None and store.exists():
        in_index = index_hits(store, terms)
        chunks = store.count()
    lines = [
        ProofLine(label, in_sql[label], sorted(f"{s}/{r}" for s, r in in_index[label]))
        for label in terms
    ]
    return lines, len(text_columns()), chunks


# -- retention --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Purge:
    conversations: int
    messages: int
    audit_questions: int
    """"ask" audit events whose copy of the question was dropped with its conversation."""
    before: datetime


def purge_conversations(
    sessions: sessionmaker[Session], days: int, now: datetime | None = None
) -> Purge:
    """Delete conversations idle for more than `days` (messages, tool calls, citations
    with them) and drop the questions the audit log copied from them; the events stay."""
    cutoff = (now or datetime.now(UTC)) - timedelta(days=days)
    with session_scope(sessions) as session:
        ids = list(
            session.scalars(sa.select(Conversation.id).where(Conversation.updated_at < cutoff))
        )
        messages = 0
        for chunk in batched(ids, 500):
            message_ids = sa.select(Message.id).where(Message.conversation_id.in_(chunk))
            session.execute(
                sa.delete(ToolCallRecord).where(ToolCallRecord.message_id.in_(message_ids))
            )
            session.execute(
                sa.delete(CitationRecord).where(CitationRecord.message_id.in_(message_ids))
            )
            messages += session.execute(
                sa.delete(Message).where(Message.conversation_id.in_(chunk))
            ).rowcount  # type: ignore[attr-defined]
            session.execute(sa.delete(Conversation).where(Conversation.id.in_(chunk)))
        questions = 0
        for chunk in batched(ids, 500):
            events = sa.select(AuditEvent).where(
                AuditEvent.action == "ask", AuditEvent.target.in_(chunk)
            )
            for event in session.scalars(events):
                if "message" in (event.details or {}):
                    event.details = {k: v for k, v in event.details.items() if k != "message"}
                    questions += 1
    return Purge(len(ids), messages, questions, cutoff)
