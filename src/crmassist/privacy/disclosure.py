"""Which personal data a role gets back in answers; the rest is shown masked.

Text travels pseudonymised (`<EMAIL_1a2b>`); at the last step before a person reads it,
tokens become real values for the types the reader's role may see and partial masks for
the others (`m***@acme-corp.example`). Payment and identity numbers stay masked for all
but admins: no answer ever needs them whole.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from crmassist.access.principal import Principal
from crmassist.domain.enums import Role
from crmassist.privacy.entities import TOKEN_PATTERN, EntityType
from crmassist.privacy.gate import public_values, reader_gate
from crmassist.privacy.masking import mask
from crmassist.privacy.redactor import Redactor
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


M = TypeVar("M", bound=BaseModel)
_MAY_HOLD_PII = re.compile(r"\s|[@<]|\d{5}|[^\x00-\x7f]")
"""A string without a space, an @, a token's `<`, five digits in a row or a non-ASCII
letter is an id, enum, date or amount: it holds no e-mail, number or name to mask."""


class Disclosure:
    """The one way text leaves the service for a reader: redact, gate, reveal by role.

    Stored text may be raw (a note body, a task title) or pseudonymised (an answer); both
    come out the same: pseudonymised first (existing tokens are kept), then the boundary
    gate masks what still looks personal, then tokens become values or masks for the
    reader's role. `model` does this for every string inside a response model at once.
    """

    def __init__(self, principal: Principal, redactor: Redactor) -> None:
        self.principal = principal
        self._redactor = redactor
        self._gate = reader_gate(redactor)
        self._public = public_values(redactor)

    def text(self, text: str) -> str:
        return self.texts([text])[0]

    def texts(self, texts: Sequence[str]) -> list[str]:
        wanted = [
            i for i, t in enumerate(texts) if _MAY_HOLD_PII.search(t) and t not in self._public
        ]
        out = list(texts)
        if not wanted:
            return out
        redacted = self._redactor.redact_many([texts[i] for i in wanted])
        gated = self._gate.check_many([r.text for r in redacted])
        for i, safe in zip(wanted, gated, strict=True):
            out[i] = reveal(safe.text, self.principal, self._redactor.vault)
        return out

    def model(self, value: M) -> M:
        """The same model with every string in it disclosed."""
        return self.models([value])[0]

    def models(self, values: Sequence[M]) -> list[M]:
        """Every string in every model disclosed, in one redactor batch."""
        data = [v.model_dump() for v in values]
        strings: list[str] = []
        _walk(data, strings.append)
        shown = iter(self.texts(strings))
        rebuilt = _walk(data, lambda _: next(shown))
        return [type(v).model_validate(d) for v, d in zip(values, rebuilt, strict=True)]


def _walk(value: Any, visit: Callable[[str], Any]) -> Any:
    """Visit every string leaf in order; rebuild the structure from what `visit` returns."""
    if isinstance(value, str) and not isinstance(value, enum.Enum):
        return visit(value)
    if isinstance(value, dict):
        return {k: _walk(v, visit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_walk(v, visit) for v in value]
    return value
