"""The CRM's records as SQLAlchemy 2.0 typed mappings.

Ids are the source system's ids (strings), so a re-import upserts by id. Enumerated
columns are stored as their string values (no native enums) so SQLite and PostgreSQL
hold identical data and migrations stay portable.
"""

from __future__ import annotations

import enum
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from crmassist.domain.encrypted import EncryptedText, cipher_of
from crmassist.domain.enums import (
    Audience,
    Channel,
    LifecycleStage,
    Priority,
    Role,
    Stage,
    TaskStatus,
    TicketStatus,
)

ID = sa.String(64)
Money = sa.Numeric(14, 2)


class UTCDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on every backend (SQLite would drop the offset)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: give it a timezone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: sa.Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Origin(enum.StrEnum):
    """Who created a record: an import owns (and may prune) only what it brought."""

    IMPORT = "import"
    CRMASSIST = "crmassist"


def _str_enum(cls: type[enum.Enum]) -> sa.Enum:
    return sa.Enum(
        cls,
        native_enum=False,
        create_constraint=False,
        length=20,
        values_callable=lambda members: [m.value for m in members],
    )


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        Role: _str_enum(Role),
        Stage: _str_enum(Stage),
        Channel: _str_enum(Channel),
        TicketStatus: _str_enum(TicketStatus),
        Priority: _str_enum(Priority),
        Audience: _str_enum(Audience),
        LifecycleStage: _str_enum(LifecycleStage),
        TaskStatus: _str_enum(TaskStatus),
        Origin: _str_enum(Origin),
        datetime: UTCDateTime(),
        dict[str, Any]: sa.JSON,
        list[str]: sa.JSON,
    }


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    parent_id: Mapped[str | None] = mapped_column(ID, index=True)
    """The team above this one: its managers see everything this team's members own.
    No foreign key (SQLite could not migrate one in place); the importer checks it."""


class User(Base):
    __tablename__ = "users"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    email: Mapped[str] = mapped_column(sa.String(320), unique=True)
    role: Mapped[Role]
    team_id: Mapped[str | None] = mapped_column(sa.ForeignKey("teams.id"), index=True)
    slack_user_id: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    time_zone: Mapped[str | None] = mapped_column(sa.String(64))
    """An IANA zone ("Asia/Shanghai") for digests and reminders; unset: the service's
    `CRMASSIST_DEFAULT_TIME_ZONE`."""

    team: Mapped[Team | None] = relationship(lazy="joined")


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(300), index=True)
    industry: Mapped[str | None] = mapped_column(sa.String(100))
    region: Mapped[str | None] = mapped_column(sa.String(100), index=True)
    size: Mapped[str | None] = mapped_column(sa.String(50))
    owner_id: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    lifecycle_stage: Mapped[LifecycleStage] = mapped_column(default=LifecycleStage.LEAD)
    created_at: Mapped[datetime | None]

    owner: Mapped[User | None] = relationship(lazy="joined")


class Contact(Base):
    __tablename__ = "contacts"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(EncryptedText())
    title: Mapped[str | None] = mapped_column(sa.String(200))
    email: Mapped[str | None] = mapped_column(EncryptedText())
    phone: Mapped[str | None] = mapped_column(EncryptedText())
    email_index: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    """Keyed blind index of the e-mail address (set on every write): SQL finds a contact
    by address through it, as the address itself is stored encrypted."""


@sa.event.listens_for(Contact, "before_insert")
@sa.event.listens_for(Contact, "before_update")
def _index_email(_mapper: Any, connection: sa.Connection, contact: Contact) -> None:
    email = contact.email
    contact.email_index = cipher_of(connection).blind_index("EMAIL", email) if email else None


class Opportunity(Base):
    __tablename__ = "opportunities"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    name: Mapped[str] = mapped_column(sa.String(300))
    stage: Mapped[Stage] = mapped_column(index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    close_date: Mapped[date | None] = mapped_column(index=True)
    probability: Mapped[int]
    owner_id: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    product: Mapped[str | None] = mapped_column(sa.String(200))
    created_date: Mapped[date | None]


class Order(Base):
    __tablename__ = "orders"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    order_date: Mapped[date] = mapped_column(index=True)
    amount: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(sa.String(3))
    product: Mapped[str] = mapped_column(sa.String(200))


class Interaction(Base):
    __tablename__ = "interactions"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    contact_id: Mapped[str | None] = mapped_column(sa.ForeignKey("contacts.id"))
    author_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"), index=True)
    channel: Mapped[Channel]
    occurred_at: Mapped[datetime] = mapped_column(index=True)
    subject: Mapped[str | None] = mapped_column(sa.String(500))
    body: Mapped[str] = mapped_column(sa.Text)
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(200))
    """Set when logged through crmassist: the same key from the same author logs once."""
    origin: Mapped[Origin] = mapped_column(default=Origin.CRMASSIST, server_default="crmassist")
    """The importer sets `import`; anything else was written here and is never pruned."""

    __table_args__ = (
        sa.UniqueConstraint("author_id", "idempotency_key", name="uq_interactions_idempotency"),
    )


class Ticket(Base):
    __tablename__ = "tickets"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    contact_id: Mapped[str | None] = mapped_column(sa.ForeignKey("contacts.id"))
    subject: Mapped[str] = mapped_column(sa.String(500))
    body: Mapped[str] = mapped_column(sa.Text)
    status: Mapped[TicketStatus] = mapped_column(index=True)
    priority: Mapped[Priority]
    created_at: Mapped[datetime]
    resolved_at: Mapped[datetime | None]
    csat: Mapped[int | None]
    assignee_id: Mapped[str | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    """The user working the ticket; they see it on any account."""


class AccountTeamMember(Base):
    """A user on an account's team: they see the account as its owner does (read)."""

    __tablename__ = "account_team"

    id: Mapped[str] = mapped_column(sa.String(130), primary_key=True)
    """`account_id` TAB `user_id` (ids never hold a tab): one membership, upserted by id."""
    account_id: Mapped[str] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"), index=True)
    role: Mapped[str | None] = mapped_column(sa.String(100))

    __table_args__ = (sa.UniqueConstraint("account_id", "user_id", name="uq_account_team_member"),)


class Task(Base):
    """A follow-up reminder, optionally tied to the interaction that created it."""

    __tablename__ = "tasks"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    owner_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"), index=True)
    account_id: Mapped[str | None] = mapped_column(sa.ForeignKey("accounts.id"), index=True)
    interaction_id: Mapped[str | None] = mapped_column(sa.ForeignKey("interactions.id"))
    title: Mapped[str] = mapped_column(sa.String(500))
    due_date: Mapped[date | None] = mapped_column(index=True)
    status: Mapped[TaskStatus] = mapped_column(default=TaskStatus.OPEN)
    created_at: Mapped[datetime]
    origin: Mapped[Origin] = mapped_column(default=Origin.CRMASSIST, server_default="crmassist")


class KnowledgeArticle(Base):
    __tablename__ = "knowledge_articles"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    title: Mapped[str] = mapped_column(sa.String(500))
    product: Mapped[str | None] = mapped_column(sa.String(200))
    tags: Mapped[list[str]] = mapped_column(default=list)
    audience: Mapped[Audience]
    lang: Mapped[str] = mapped_column(sa.String(10), default="en")
    body: Mapped[str] = mapped_column(sa.Text)


class LifecycleTransition(Base):
    """An account's lifecycle stage changed: when, from what, to what, and why.

    No foreign key to accounts: the history outlives an account that a prune or a merge
    removes (a merge's undo brings it back with its history)."""

    __tablename__ = "lifecycle_transitions"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    account_id: Mapped[str] = mapped_column(ID, index=True)
    from_stage: Mapped[LifecycleStage | None]
    to_stage: Mapped[LifecycleStage] = mapped_column(index=True)
    on: Mapped[date] = mapped_column(index=True)
    """The day the change was seen (the clock's today when it was recomputed)."""
    reason: Mapped[str] = mapped_column(sa.String(500))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """The reason as a code and values, for wording it in another language."""
    recorded_at: Mapped[datetime]


class AuditEvent(Base):
    """Who touched what, when: every tool call and data access lands here."""

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor_id: Mapped[str | None] = mapped_column(ID, index=True)
    action: Mapped[str] = mapped_column(sa.String(100), index=True)
    target: Mapped[str | None] = mapped_column(sa.String(500))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)


class PiiToken(Base):
    """A pseudonym and the value it stands for; lets allowed readers see real values again."""

    __tablename__ = "pii_tokens"

    token: Mapped[str] = mapped_column(sa.String(80), primary_key=True)
    entity_type: Mapped[str] = mapped_column(sa.String(40))
    digest: Mapped[str] = mapped_column(sa.String(64), unique=True)
    """HMAC (blind index) of sha256(type, normalised value): how a value finds its token."""
    value: Mapped[str] = mapped_column(EncryptedText())


class IndexedRecord(Base):
    """What the vector index holds for one record, so only changed records are re-embedded."""

    __tablename__ = "indexed_records"

    source_type: Mapped[str] = mapped_column(sa.String(20), primary_key=True)
    record_id: Mapped[str] = mapped_column(ID, primary_key=True)
    content_hash: Mapped[str] = mapped_column(sa.String(64))
    chunk_count: Mapped[int]
    indexed_at: Mapped[datetime]


class IndexOutbox(Base):
    """A record written to SQL whose index entry is still owed.

    Written in the same transaction as the record, deleted once the index holds it: a
    crash, a busy index or a failing embedder can delay a note, never lose it.
    """

    __tablename__ = "index_outbox"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    source_type: Mapped[str] = mapped_column(sa.String(20))
    record_id: Mapped[str] = mapped_column(ID)
    created_at: Mapped[datetime]
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(index=True)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))

    __table_args__ = (sa.Index("ix_index_outbox_record", "source_type", "record_id"),)


class IndexState(Base):
    """Facts about the index as a whole, e.g. a rebuild that has not finished yet."""

    __tablename__ = "index_state"

    key: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    value: Mapped[str] = mapped_column(sa.String(200))
    updated_at: Mapped[datetime]


class ApiKey(Base):
    """An API key of a user. Only a hash of the secret is stored; the key is shown once."""

    __tablename__ = "api_keys"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"), index=True)
    secret_hash: Mapped[str] = mapped_column(sa.String(64))
    label: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Conversation(Base):
    """A chat thread with the assistant; Slack threads and console sessions map to one."""

    __tablename__ = "conversations"

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    user_id: Mapped[str] = mapped_column(sa.ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(sa.String(300))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    context: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """What follow-ups resolve against: the customer, contact and records last discussed."""
    external_key: Mapped[str | None] = mapped_column(sa.String(200))
    """Where the conversation lives outside crmassist, e.g. a Slack thread."""

    messages: Mapped[list[Message]] = relationship(
        order_by="Message.seq", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (sa.UniqueConstraint("external_key", name="uq_conversations_external_key"),)


class Message(Base):
    """One turn. Content is stored as the model saw it (pseudonymised), never raw PII."""

    __tablename__ = "messages"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    conversation_id: Mapped[str] = mapped_column(sa.ForeignKey("conversations.id"), index=True)
    seq: Mapped[int]
    role: Mapped[str] = mapped_column(sa.String(20))
    content: Mapped[str] = mapped_column(sa.Text)
    created_at: Mapped[datetime]

    tool_calls: Mapped[list[ToolCallRecord]] = relationship(
        order_by="ToolCallRecord.id", cascade="all, delete-orphan", lazy="selectin"
    )
    citations: Mapped[list[CitationRecord]] = relationship(
        order_by="CitationRecord.id", cascade="all, delete-orphan", lazy="selectin"
    )

    __table_args__ = (sa.UniqueConstraint("conversation_id", "seq", name="uq_messages_seq"),)


class ToolCallRecord(Base):
    __tablename__ = "tool_calls"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("messages.id"), index=True)
    call_id: Mapped[str] = mapped_column(sa.String(100))
    name: Mapped[str] = mapped_column(sa.String(100))
    arguments: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(sa.String(20))
    result: Mapped[str] = mapped_column(sa.Text)
    duration_ms: Mapped[float]


class CitationRecord(Base):
    __tablename__ = "citations"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    message_id: Mapped[int] = mapped_column(sa.ForeignKey("messages.id"), index=True)
    source_type: Mapped[str] = mapped_column(sa.String(20))
    record_id: Mapped[str] = mapped_column(ID)
    title: Mapped[str] = mapped_column(sa.String(500))
    snippet: Mapped[str] = mapped_column(sa.Text)
    score: Mapped[float | None]


class SchedulerLease(Base):
    """Which process runs the scheduler: one row per lease, taken and renewed with a
    conditional UPDATE, free again once `expires_at` has passed (crmassist.scheduler)."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(sa.String(40), primary_key=True)
    holder: Mapped[str] = mapped_column(sa.String(100))
    expires_at: Mapped[datetime]
    acquired_at: Mapped[datetime]


class DigestSend(Base):
    """One morning digest to one user: claimed (`sending`) before Slack is called, so a
    digest is sent at most once even across restarts and several processes."""

    __tablename__ = "digest_sends"
    __table_args__ = (sa.UniqueConstraint("user_id", "day", "kind", name="uq_digest_sends_once"),)

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    user_id: Mapped[str] = mapped_column(ID, index=True)
    day: Mapped[date]
    """The user's local day the digest is for."""
    kind: Mapped[str] = mapped_column(sa.String(20))
    state: Mapped[str] = mapped_column(sa.String(20))
    """sending, sent, failed (Slack refused it) or empty (nothing to say)."""
    items: Mapped[int] = mapped_column(default=0)
    snapshot: Mapped[dict[str, Any]] = mapped_column(default=dict)
    """Churn scores of the accounts in scope when it was made: the next digest's baseline."""
    error: Mapped[str | None] = mapped_column(sa.String(500))
    claimed_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class Reminder(Base):
    """ "Remind me to call Acme on Tuesday at 9": a Slack message to its owner at `due_at`."""

    __tablename__ = "reminders"
    __table_args__ = (sa.Index("ix_reminders_state_due_at", "state", "due_at"),)

    id: Mapped[str] = mapped_column(ID, primary_key=True)
    owner_id: Mapped[str] = mapped_column(ID, index=True)
    text: Mapped[str] = mapped_column(sa.String(500))
    due_at: Mapped[datetime]
    time_zone: Mapped[str] = mapped_column(sa.String(64))
    """The zone `due_at` was read in: how the reminder shows it back."""
    account_id: Mapped[str | None] = mapped_column(ID)
    state: Mapped[str] = mapped_column(sa.String(20))
    """pending, sending, sent, failed or cancelled."""
    idempotency_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
