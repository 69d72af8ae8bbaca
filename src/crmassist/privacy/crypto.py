"""Encryption at rest: the keys, where they come from, and rotating them.

One secret (`CRMASSIST_SECRET_KEY`, any string of 32+ characters) gives, through HKDF,
a Fernet key (AES-128-CBC + HMAC-SHA256, from `cryptography`) for the values, a separate
HMAC-SHA256 key for blind indexes, and a short key id (for messages and the audit log).
At start the stored ciphertexts are checked against the key, so a process given the wrong
key stops in one line instead of failing row by row.

Where the secret comes from (`keyring_for`): the setting; in production mode
(`CRMASSIST_ENV=production`) nothing else, and the service refuses to start without it;
the embedded default generates one once and keeps it in `<data_dir>/secret.key` (mode
0600), with a warning. `CRMASSIST_SECRET_KEY_PREVIOUS` is read only to decrypt, so that
`rotate` can re-encrypt everything under the new key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import os
import secrets
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import Session, sessionmaker

from crmassist.batching import batched
from crmassist.domain.encrypted import EncryptedText, bind_cipher, cipher_of
from crmassist.domain.models import AuditEvent, Base
from crmassist.errors import CrmassistError
from crmassist.privacy.entities import EntityType
from crmassist.privacy.normalise import digest, normalise
from crmassist.settings import Settings

log = logging.getLogger(__name__)

KEY_FILE = "secret.key"
MIN_SECRET_CHARS = 32
_NEW_KEY_HINT = "python -c 'import secrets; print(secrets.token_urlsafe(32))'"
_BATCH = 500
UNKNOWN_KEY = "unknown"


class SecretKeyError(CrmassistError):
    """No usable key, the wrong key, or data still under the previous key."""


class Undecryptable(CrmassistError):
    """A stored value that none of the configured keys opens."""


@dataclass(frozen=True)
class _Derived:
    fernet: Fernet
    index_key: bytes
    key_id: str


def _derive(secret: str) -> _Derived:
    if len(secret) < MIN_SECRET_CHARS:
        raise SecretKeyError(
            f"the secret key has {len(secret)} characters, it needs at least "
            f"{MIN_SECRET_CHARS} random ones: make one with `{_NEW_KEY_HINT}`"
        )
    material = HKDF(
        algorithm=hashes.SHA256(), length=72, salt=None, info=b"crmassist at rest v1"
    ).derive(secret.encode("utf-8"))
    fernet = Fernet(base64.urlsafe_b64encode(material[:32]))
    return _Derived(fernet, material[32:64], material[64:].hex())


class Keyring:
    """Encrypts under the current key, decrypts under it or the previous ones."""

    def __init__(self, secret: str, previous: Sequence[str] = ()) -> None:
        current = _derive(secret)
        older = [_derive(s) for s in previous if s != secret]
        self.key_id = current.key_id
        self._keys = [current, *older]
        self._fernet = MultiFernet([k.fernet for k in self._keys])
        self._index_key = current.index_key

    def key_of(self, ciphertext: str) -> str:
        """The id of the configured key that opens `ciphertext`, else `UNKNOWN_KEY`."""
        for key in self._keys:
            try:
                key.fernet.decrypt(ciphertext.encode("ascii"))
            except (InvalidToken, UnicodeEncodeError):
                continue
            return key.key_id
        return UNKNOWN_KEY

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode("utf-8")).decode("ascii")

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode("ascii")).decode("utf-8")
        except (InvalidToken, UnicodeEncodeError):
            raise Undecryptable(
                "a stored value cannot be decrypted with CRMASSIST_SECRET_KEY (nor "
                "CRMASSIST_SECRET_KEY_PREVIOUS): the database was encrypted with another key"
            ) from None

    def reencrypt(self, ciphertext: str) -> str:
        """The value under the current key, whichever configured key it was under."""
        try:
            return self._fernet.rotate(ciphertext.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise Undecryptable("a stored value is under none of the configured keys") from None

    def index(self, digest_hex: str) -> str:
        return hmac.new(self._index_key, digest_hex.encode("ascii"), hashlib.sha256).hexdigest()

    def blind_index(self, entity_type: str, value: str) -> str:
        """HMAC of the vault's digest of the normalised value: a contact's e-mail index
        equals the vault's key for that address."""
        etype = EntityType(entity_type)
        return self.index(digest(etype, normalise(etype, value)))


def keyring_for(settings: Settings) -> Keyring:
    """The keyring the settings call for; generates the embedded default's key once."""
    previous = (
        [settings.secret_key_previous.get_secret_value()] if settings.secret_key_previous else []
    )
    if settings.secret_key is not None:
        return Keyring(settings.secret_key.get_secret_value(), previous)
    if settings.env == "production":
        raise SecretKeyError(
            "CRMASSIST_ENV=production needs CRMASSIST_SECRET_KEY, the key that encrypts "
            f"personal data at rest: set it to 32+ random characters (`{_NEW_KEY_HINT}`) "
            "and keep it as safe as the database's backups"
        )
    return Keyring(_key_file_secret(settings.data_dir / KEY_FILE), previous)


def _key_file_secret(path: Path) -> str:
    """The embedded default's key: read, or made once (mode 0600, never overwritten)."""
    try:
        return path.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(32)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text(encoding="utf-8").strip()
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    log.warning(
        "no CRMASSIST_SECRET_KEY: generated the key that encrypts personal data at rest "
        "in %s (mode 0600); back it up with the database, without it the data cannot be "
        "read. Production: set CRMASSIST_ENV=production and CRMASSIST_SECRET_KEY",
        path,
    )
    return secret


def bind(engine: sa.Engine, settings: Settings) -> Keyring:
    """Give `engine` the settings' keyring (before it migrates or reads anything)."""
    keyring = keyring_for(settings)
    bind_cipher(engine, keyring)
    return keyring


def _keyring(where: sa.Engine | sa.Connection | Session) -> Keyring:
    keyring = cipher_of(where)
    assert isinstance(keyring, Keyring)  # the only cipher crmassist binds
    return keyring


def encrypted_columns() -> list[sa.Column[Any]]:
    """Every column stored encrypted."""
    return [
        c
        for table in Base.metadata.sorted_tables
        for c in table.columns
        if isinstance(c.type, EncryptedText)
    ]


def stored_key(conn: sa.Connection) -> str | None:
    """The id of the key the stored values are under (one sampled per encrypted column:
    rotation is all or nothing); None when nothing is encrypted yet."""
    keyring = _keyring(conn)
    for column in encrypted_columns():
        sample = conn.scalar(
            sa.text(
                f'SELECT "{column.name}" FROM "{column.table.name}" '
                f'WHERE "{column.name}" IS NOT NULL LIMIT 1'
            )
        )
        if sample is not None:
            return keyring.key_of(sample)
    return None


def check_key(engine: sa.Engine) -> None:
    """The stored values are under this engine's current key (or there are none yet);
    otherwise stop with one line that says which key to give."""
    keyring = _keyring(engine)
    with engine.connect() as conn:
        under = stored_key(conn)
    if under is None or under == keyring.key_id:
        return
    if under != UNKNOWN_KEY:
        raise SecretKeyError(
            f"the stored personal data is still under the previous key ({under}): run "
            "`crmassist privacy rotate-key` once, then start again"
        )
    raise SecretKeyError(
        f"CRMASSIST_SECRET_KEY (key id {keyring.key_id}) is not the key this database's "
        "personal data was encrypted with: set that key, or give it as "
        "CRMASSIST_SECRET_KEY_PREVIOUS and run `crmassist privacy rotate-key`"
    )


# -- rotation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rotation:
    from_key: str | None
    """The id of the key the values were under (None: nothing was encrypted yet)."""
    to_key: str
    values: int
    """Encrypted values re-encrypted (one per non-null cell)."""
    indexes: int
    """Blind indexes computed again."""


def rotate(sessions: sessionmaker[Session], *, via: str) -> Rotation:
    """Re-encrypt every encrypted value under the current key and compute every blind
    index again with it, in one transaction with its audit event (`privacy:rotate-key`,
    the key ids, never a key): a failure leaves the old key's data whole."""
    with sessions.begin() as session:
        conn = session.connection()
        keyring = _keyring(conn)
        from_key = stored_key(conn)
        if from_key == UNKNOWN_KEY:
            raise SecretKeyError(
                "the stored personal data is under neither CRMASSIST_SECRET_KEY nor "
                "CRMASSIST_SECRET_KEY_PREVIOUS: give the key it was encrypted with as "
                "CRMASSIST_SECRET_KEY_PREVIOUS"
            )
        values = sum(_reencrypt_column(conn, keyring, c) for c in encrypted_columns())
        indexes = _reindex_contacts(conn, keyring) + _reindex_vault(conn, keyring)
        done = Rotation(from_key, keyring.key_id, values, indexes)
        session.add(
            AuditEvent(
                at=datetime.now(UTC),
                action="privacy:rotate-key",
                details={"via": via, **asdict(done)},
            )
        )
    return done


def _raw(conn: sa.Connection, table: str, *columns: str) -> list[Any]:
    """Rows of the columns as stored (ciphertexts stay ciphertexts)."""
    names = ", ".join(f'"{c}"' for c in columns)
    return list(conn.execute(sa.text(f'SELECT {names} FROM "{table}"')))


def _update(conn: sa.Connection, table: str, key: str, column: str, rows: list[Any]) -> None:
    """Set `column` by primary key `key` for (key, value) rows, in batches."""
    t = sa.table(table, sa.column(key), sa.column(column))
    statement = t.update().where(t.c[key] == sa.bindparam("pk"))
    for chunk in batched(rows, _BATCH):
        conn.execute(statement, [{"pk": pk, column: value} for pk, value in chunk])


def _reencrypt_column(conn: sa.Connection, keyring: Keyring, column: sa.Column[Any]) -> int:
    (key,) = column.table.primary_key.columns
    rows = [
        (pk, keyring.reencrypt(v))
        for pk, v in _raw(conn, column.table.name, key.name, column.name)
        if v is not None
    ]
    _update(conn, column.table.name, key.name, column.name, rows)
    return len(rows)


def _reindex_contacts(conn: sa.Connection, keyring: Keyring) -> int:
    rows = [
        (cid, keyring.blind_index(EntityType.EMAIL, keyring.decrypt(email)))
        for cid, email in _raw(conn, "contacts", "id", "email")
        if email is not None
    ]
    _update(conn, "contacts", "id", "email_index", rows)
    return len(rows)


def _reindex_vault(conn: sa.Connection, keyring: Keyring) -> int:
    """The vault's keys from the values they stand for (its unkeyed digest is not kept).
    The unique index must never see two equal keys mid-way, so every row first gets a
    placeholder no HMAC can equal."""
    rows = [
        (token, keyring.blind_index(etype, keyring.decrypt(value)))
        for token, etype, value in _raw(conn, "pii_tokens", "token", "entity_type", "value")
    ]
    _update(conn, "pii_tokens", "token", "digest", [(t, f"~{i}") for i, (t, _) in enumerate(rows)])
    _update(conn, "pii_tokens", "token", "digest", rows)
    return len(rows)
