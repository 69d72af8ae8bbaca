"""API keys: `crm_<id>_<secret>`. Only a SHA-256 of the secret is stored, so a leaked
database does not leak working keys; the secret is random, so a plain hash suffices."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmassist.access.directory import UnknownUser, principal_for
from crmassist.access.principal import Principal
from crmassist.db.engine import try_write
from crmassist.domain.models import ApiKey, User

PREFIX = "crm"
LAST_USED_EVERY = timedelta(minutes=1)
"""`last_used_at` is kept to this precision, so a busy key costs one write a minute."""


@dataclass(frozen=True)
class IssuedKey:
    key_id: str
    user_id: str
    key: str
    """The full key; shown once, never stored."""


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_key(session: Session, user_id: str, label: str | None = None) -> IssuedKey:
    if session.get(User, user_id) is None:
        raise UnknownUser(user_id)
    key_id, secret = secrets.token_hex(6), secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            id=key_id,
            user_id=user_id,
            secret_hash=_hash(secret),
            label=label,
            created_at=datetime.now(UTC),
        )
    )
    return IssuedKey(key_id, user_id, f"{PREFIX}_{key_id}_{secret}")


def principal_for_key(session: Session, key: str) -> Principal | None:
    """The key's user as a principal, or None for a malformed, unknown or revoked key."""
    prefix, _, rest = key.partition("_")
    key_id, _, secret = rest.partition("_")
    if prefix != PREFIX or not key_id or not secret:
        return None
    stored = session.get(ApiKey, key_id)
    if stored is None or stored.revoked_at is not None:
        return None
    if not hmac.compare_digest(stored.secret_hash, _hash(secret)):
        return None
    _note_use(session, stored, datetime.now(UTC))
    return principal_for(session, stored.user_id)


def _note_use(session: Session, key: ApiKey, now: datetime) -> None:
    """Record the key's last use on the side: a locked or read-only database skips it,
    because authenticating must never wait on, or fail with, a write."""
    if key.last_used_at is not None and now - key.last_used_at < LAST_USED_EVERY:
        return
    touch = sa.update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now)
    try_write(session.get_bind().engine, touch)


def revoke_keys(session: Session, user_id: str, label: str | None = None) -> int:
    """All the user's live keys, or only those issued with `label`."""
    live = sa.and_(ApiKey.user_id == user_id, ApiKey.revoked_at.is_(None))
    if label is not None:
        live = sa.and_(live, ApiKey.label == label)
    result = session.execute(sa.update(ApiKey).where(live).values(revoked_at=datetime.now(UTC)))
    return int(result.rowcount)  # type: ignore[attr-defined]
