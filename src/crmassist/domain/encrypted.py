"""Columns encrypted at rest, transparently: the rest of the code reads and writes text.

Each engine carries its own cipher (`bind_cipher`), found again from the dialect that
SQLAlchemy hands to every bind and result processor, so two databases under two keys
can live in one process (key rotation, tests). The cipher itself, and how keys are
derived and kept, is `crmassist.privacy.crypto`; this module only needs its shape.

Encryption is randomised (the same value encrypts differently each time), so SQL can
not compare encrypted columns: a column that is looked up by value gets a keyed blind
index beside it (`Cipher.blind_index`), e.g. `contacts.email_index`.
"""

from __future__ import annotations

from typing import Protocol
from weakref import WeakKeyDictionary

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmassist.errors import CrmassistError


class Cipher(Protocol):
    key_id: str

    def encrypt(self, plaintext: str) -> str: ...

    def decrypt(self, ciphertext: str) -> str: ...

    def blind_index(self, entity_type: str, value: str) -> str:
        """A keyed digest of the normalised value: equal values, equal indexes."""
        ...

    def index(self, digest: str) -> str:
        """The keyed form of an unkeyed digest (the vault's sha256 of type and value)."""
        ...


class NoCipher(CrmassistError):
    """An engine with encrypted columns but no key: a wiring mistake, named in one line."""


_CIPHERS: WeakKeyDictionary[sa.Dialect, Cipher] = WeakKeyDictionary()


def bind_cipher(engine: sa.Engine, cipher: Cipher) -> None:
    """Encrypt and decrypt this engine's encrypted columns with `cipher` from now on."""
    _CIPHERS[engine.dialect] = cipher


def cipher_of(where: sa.Engine | sa.Connection | Session | sa.Dialect) -> Cipher:
    """The cipher bound to the engine behind a session, connection, engine or dialect."""
    if isinstance(where, Session):
        where = where.get_bind()
    dialect = where if isinstance(where, sa.Dialect) else where.dialect
    try:
        return _CIPHERS[dialect]
    except KeyError:
        raise NoCipher(
            "no encryption key is bound to this database engine: build engines through "
            "the Runtime, or bind one with crmassist.privacy.crypto.bind(engine, settings)"
        ) from None


class EncryptedText(sa.TypeDecorator[str]):
    """Text stored as a ciphertext of the engine's cipher; NULL stays NULL."""

    impl = sa.Text
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else cipher_of(dialect).encrypt(value)

    def process_result_value(self, value: str | None, dialect: sa.Dialect) -> str | None:
        return None if value is None else cipher_of(dialect).decrypt(value)
