"""The import format, one pydantic model per record kind (see docs/data-format.md).

Each model validates one row or line as the source system wrote it; the importer turns
validation errors into `file:line: problem` messages. Field names are the column names.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    field_validator,
    model_validator,
)

from crmassist.domain.enums import Audience, Channel, Priority, Role, Stage, TicketStatus


def _as_utc(value: datetime) -> datetime:
    """Times without an offset are taken as UTC, the format's documented default."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _blank_to_none(value: object) -> object:
    """CSV has no null: an empty cell means "not given"."""
    return None if isinstance(value, str) and not value.strip() else value


def _strip(value: object) -> object:
    return value.strip() if isinstance(value, str) else value


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
"""Control characters other than tab and line breaks: corruption, never text (and
PostgreSQL cannot store NUL)."""


def _one_line(value: str) -> str:
    if any(c in value for c in "\t\r\n"):
        raise ValueError("an id is one line without tabs")
    return value


Id = Annotated[
    str, BeforeValidator(_strip), Field(min_length=1, max_length=64), AfterValidator(_one_line)
]
OptionalId = Annotated[Id | None, BeforeValidator(_blank_to_none)]
Text = Annotated[str, BeforeValidator(_strip), Field(min_length=1)]
OptionalText = Annotated[str | None, BeforeValidator(_blank_to_none), BeforeValidator(_strip)]
UtcDateTime = Annotated[datetime, AfterValidator(_as_utc)]
OptionalUtcDateTime = Annotated[UtcDateTime | None, BeforeValidator(_blank_to_none)]
Amount = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=2)]
Email = Annotated[
    str, BeforeValidator(_strip), Field(max_length=320, pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
]
"""Shape only: real exports hold addresses that strict validators reject (test domains)."""
Currency = Annotated[str, BeforeValidator(_strip), Field(pattern=r"^[A-Z]{3}$")]


class Row(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, str_max_length=100_000)

    id: Id

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: object) -> object:
        for text in value if isinstance(value, list) else [value]:
            if isinstance(text, str) and (bad := _CONTROL.search(text)):
                raise ValueError(f"contains the control character U+{ord(bad.group()):04X}")
        return value


def team_id(name: str) -> str:
    """Teams are named in users.csv; their id is a slug of the name (Unicode kept)."""
    return re.sub(r"[^\w]+", "-", name.casefold()).strip("-") or "team"


class UserRow(Row):
    name: Text
    email: Email
    role: Role
    team: OptionalText = None
    slack_user_id: OptionalId = None


class AccountRow(Row):
    name: Text
    industry: OptionalText = None
    region: OptionalText = None
    size: OptionalText = None
    owner_id: OptionalId = None
    created_at: OptionalUtcDateTime = None


class ContactRow(Row):
    account_id: Id
    name: Text
    title: OptionalText = None
    email: Annotated[Email | None, BeforeValidator(_blank_to_none)] = None
    phone: OptionalText = None


class OpportunityRow(Row):
    account_id: Id
    name: Text
    stage: Stage
    amount: Amount
    currency: Currency
    close_date: Annotated[date | None, BeforeValidator(_blank_to_none)] = None
    probability: Annotated[int, Field(ge=0, le=100)]
    owner_id: OptionalId = None
    product: OptionalText = None
    created_date: Annotated[date | None, BeforeValidator(_blank_to_none)] = None

    @model_validator(mode="after")
    def _created_before_closed(self) -> OpportunityRow:
        if self.created_date and self.close_date and self.created_date > self.close_date:
            raise ValueError("created_date is after close_date")
        return self


class OrderRow(Row):
    account_id: Id
    order_date: date
    amount: Amount
    currency: Currency
    product: Text


class InteractionRow(Row):
    account_id: Id
    contact_id: OptionalId = None
    author_id: Id
    channel: Channel
    occurred_at: UtcDateTime
    subject: OptionalText = None
    body: Text


class TicketRow(Row):
    account_id: Id
    contact_id: OptionalId = None
    subject: Text
    body: Text
    status: TicketStatus
    priority: Priority
    created_at: UtcDateTime
    resolved_at: OptionalUtcDateTime = None
    csat: Annotated[int | None, BeforeValidator(_blank_to_none), Field(ge=1, le=5)] = None
    assignee_id: OptionalId = None


class TeamRow(Row):
    """A team's place in the hierarchy: `parent` names the team above it."""

    id: str = ""
    """The slug of `name`, as users.csv makes it."""
    name: Text
    parent: OptionalText = None

    @model_validator(mode="before")
    @classmethod
    def _slug_is_the_id(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(name := data.get("name"), str) and name.strip():
            return {**data, "id": team_id(name.strip())}
        return data


class AccountTeamRow(Row):
    """One user on one account's team; the pair is the row's identity."""

    id: str = ""
    """`account_id` TAB `user_id`: ids never hold a tab, so no two pairs share one."""
    account_id: Id
    user_id: Id
    role: OptionalText = None

    @model_validator(mode="before")
    @classmethod
    def _pair_is_the_id(cls, data: object) -> object:
        if isinstance(data, dict):
            account, user = data.get("account_id"), data.get("user_id")
            if isinstance(account, str) and isinstance(user, str):
                return {**data, "id": f"{account.strip()}\t{user.strip()}"}
        return data


class ArticleRow(Row):
    """Front matter plus the Markdown body of one `kb/*.md` file."""

    title: Text
    product: OptionalText = None
    tags: list[str] = Field(default_factory=list)
    audience: Audience
    lang: Annotated[str | None, Field(pattern=r"^[a-z]{2}(-[A-Za-z]{2,4})?$")] = None
    body: Text
