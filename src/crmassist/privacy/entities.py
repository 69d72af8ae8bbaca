"""What the redactor finds and what it hands back; plain data, no heavy imports."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass


class EntityType(enum.StrEnum):
    """PII kinds; the value is also the token prefix, so keep them short and stable."""

    EMAIL = "EMAIL"
    PHONE = "PHONE"
    PERSON = "PERSON"
    CN_ID = "CN_ID"
    CARD = "CARD"
    IBAN = "IBAN"
    IP = "IP"
    SSN = "SSN"
    PASSPORT = "PASSPORT"
    DRIVER_LICENSE = "DRIVER_LICENSE"
    BANK_ACCOUNT = "BANK_ACCOUNT"
    NINO = "NINO"
    URL = "URL"
    ADDRESS = "ADDRESS"
    DOB = "DOB"


_TYPES = "|".join(t.value for t in EntityType)

TOKEN_PATTERN = re.compile(rf"<(?P<type>{_TYPES})_(?P<suffix>[0-9a-f]{{4,64}})>")
"""A pseudonym in text: `<EMAIL_1a2b>`; the suffix grows past 4 hex digits on a collision."""


@dataclass(frozen=True, slots=True)
class Detection:
    """A PII span found in a text, before it gets a token."""

    entity_type: EntityType
    start: int
    end: int
    score: float
    source: str


@dataclass(frozen=True, slots=True)
class RedactedEntity:
    """Where a value was in the original text and the token that replaced it."""

    entity_type: EntityType
    start: int
    end: int
    token: str


@dataclass(frozen=True, slots=True)
class Redacted:
    """A redacted text; `entities` are ordered by position in the original text."""

    text: str
    entities: tuple[RedactedEntity, ...]


def token_spans(text: str) -> list[tuple[int, int]]:
    """Spans of pseudonyms already in `text`, which must never be redacted again."""
    return [m.span() for m in TOKEN_PATTERN.finditer(text)]
