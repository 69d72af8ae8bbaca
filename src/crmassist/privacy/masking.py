"""Partial masks for people who may know a contact exists but not how to reach them."""

from __future__ import annotations

import re

from crmassist.privacy.entities import EntityType

_DIGIT = re.compile(r"\d")
_NUMBERS = frozenset(
    {
        EntityType.PHONE, EntityType.CARD, EntityType.IBAN, EntityType.CN_ID, EntityType.SSN,
        EntityType.BANK_ACCOUNT, EntityType.PASSPORT, EntityType.DRIVER_LICENSE,
        EntityType.NINO,
    }
)  # fmt: skip


def mask_email(value: str) -> str:
    """`maria.gonzalez@acme-corp.example` -> `m***@acme-corp.example`: the company stays."""
    local, _, domain = value.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"


def mask_digits(value: str, keep: int = 2) -> str:
    """Every digit but the last `keep` becomes `*`; separators stay, so the shape is kept."""
    total = len(_DIGIT.findall(value))
    seen = 0

    def hide(match: re.Match[str]) -> str:
        nonlocal seen
        seen += 1
        return match.group() if seen > total - keep else "*"

    return _DIGIT.sub(hide, value)


def mask(entity_type: EntityType | str, value: str) -> str:
    """A partial mask for an entity; names are not masked partially but withheld."""
    kind = EntityType(entity_type)
    if kind is EntityType.EMAIL:
        return mask_email(value)
    if kind in _NUMBERS:
        return mask_digits(value, keep=4 if kind is not EntityType.PHONE else 2)
    return f"[{kind.value.lower()} withheld]"
