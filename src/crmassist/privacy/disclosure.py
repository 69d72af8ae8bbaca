"""Which personal data a role gets back in answers; the rest is shown masked.

Text travels pseudonymised (`<EMAIL_1a2b>`); at the last step before a person reads it,
tokens become real values for the types the reader's role may see and partial masks for
the others (`m***@acme-corp.example`). Payment and identity numbers stay masked for all
but admins: no answer ever needs them whole.
"""

from __future__ import annotations

import re

from crmassist.access.principal import Principal
from crmassist.domain.enums import Role
from crmassist.privacy.entities import TOKEN_PATTERN, EntityType
from crmassist.privacy.masking import mask
from crmassist.privacy.vault import TokenVault

_CONTACT = frozenset({EntityType.PERSON, EntityType.EMAIL, EntityType.PHONE, EntityType.IP})
REVEALED: dict[Role, frozenset[EntityType]] = {
    Role.ADMIN: frozenset(EntityType),
    Role.MANAGER: _CONTACT,
    Role.REP: _CONTACT,
    Role.SUPPORT: frozenset({EntityType.PERSON}),
}


def revealed_types(principal: Principal) -> frozenset[EntityType]:
    return frozenset() if principal.external else REVEALED[principal.role]


def reveal(text: str, principal: Principal, vault: TokenVault) -> str:
    """Real values for what the role may see, masks for the rest, unknown tokens untouched."""
    tokens = {m.group() for m in TOKEN_PATTERN.finditer(text)}
    if not tokens:
        return text
    values = vault.lookup(tokens)
    allowed = revealed_types(principal)

    def replace(match: re.Match[str]) -> str:
        token, kind = match.group(), EntityType(match.group("type"))
        if token not in values:
            return token
        return values[token] if kind in allowed else mask(kind, values[token])

    return TOKEN_PATTERN.sub(replace, text)
