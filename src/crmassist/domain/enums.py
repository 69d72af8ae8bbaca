"""Closed vocabularies of the CRM. Stored as their string values."""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    REP = "rep"
    SUPPORT = "support"
    MANAGER = "manager"
    ADMIN = "admin"


class Stage(StrEnum):
    PROSPECTING = "prospecting"
    QUALIFICATION = "qualification"
    PROPOSAL = "proposal"
    NEGOTIATION = "negotiation"
    CLOSED_WON = "closed_won"
    CLOSED_LOST = "closed_lost"

    @property
    def is_open(self) -> bool:
        return self not in (Stage.CLOSED_WON, Stage.CLOSED_LOST)


class Channel(StrEnum):
    CALL = "call"
    EMAIL = "email"
    MEETING = "meeting"
    CHAT = "chat"
    NOTE = "note"


class TicketStatus(StrEnum):
    OPEN = "open"
    PENDING = "pending"
    RESOLVED = "resolved"
    CLOSED = "closed"


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class Audience(StrEnum):
    PUBLIC = "public"
    INTERNAL = "internal"


class LifecycleStage(StrEnum):
    """Derived from the records (crm.lifecycle): lead -> opportunity -> customer -> loyal
    -> at risk -> churned; every change is stored with its reason."""

    LEAD = "lead"
    OPPORTUNITY = "opportunity"
    CUSTOMER = "customer"
    LOYAL = "loyal"
    AT_RISK = "at_risk"
    CHURNED = "churned"


class TaskStatus(StrEnum):
    OPEN = "open"
    DONE = "done"


class SourceType(StrEnum):
    """What an indexed chunk came from; the `--source` choices of `crmassist search`."""

    KB = "kb"
    INTERACTION = "interactions"
    TICKET = "tickets"
    ACCOUNT = "accounts"
