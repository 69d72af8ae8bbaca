"""The token <-> value map, in the `pii_tokens` table, behind an in-memory cache.

A token is `<TYPE_suffix>` where the suffix is the first 4 hex digits of
sha256(type, normalised value). When those 4 digits already belong to another value,
the suffix grows by 2 digits until it is free, so a token, once issued, never changes.
The table keys a value by the HMAC of that digest (the engine's cipher, see
crmassist.privacy.crypto) and holds the value encrypted: a stolen database neither
shows the values nor confirms a guessed one by hashing it.

Concurrency: rows are written with INSERT … ON CONFLICT DO NOTHING and read back by
digest, so two processes racing on the same value both end up with the winner's token,
and two different values racing for one suffix push the loser to a longer one.
Lookups and inserts run in separate transactions: on SQLite a transaction that read
first and then writes can fail with SQLITE_BUSY instead of waiting for the lock.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from crmassist.batching import batched
from crmassist.db.engine import session_scope
from crmassist.domain.encrypted import cipher_of
from crmassist.domain.models import PiiToken
from crmassist.privacy.entities import TOKEN_PATTERN, EntityType
from crmassist.privacy.normalise import digest, display_value, normalise

MIN_SUFFIX = 4
_MAX_SUFFIX = 64
_CHUNK = 500  # rows per statement, far below SQLite's bound-parameter limit
_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class _Pending:
    entity_type: EntityType
    digest: str
    value: str


class TokenVault:
    """Issues stable pseudonyms and swaps them back for callers allowed to see values."""

    def __init__(self, session_factory: sessionmaker[Session], *, min_suffix: int = MIN_SUFFIX):
        if not 1 <= min_suffix <= _MAX_SUFFIX:
            raise ValueError("min_suffix must be between 1 and 64 hex digits")
        self._sessions = session_factory
        self._min_suffix = min_suffix
        self._token_by_digest: dict[str, str] = {}
        self._value_by_token: dict[str, str] = {}

    def token_for(self, entity_type: EntityType, value: str) -> str:
        """The token for one value, created on first sight."""
        return self.tokens_for([(entity_type, value)])[0]

    def tokens_for(self, values: Sequence[tuple[EntityType, str]]) -> list[str]:
        """Tokens for many values in at most two transactions (a read, then one write)."""
        digests = [digest(etype, normalise(etype, raw)) for etype, raw in values]
        pending: dict[str, _Pending] = {}
        for d, (etype, raw) in zip(digests, values, strict=True):
            if d not in self._token_by_digest:
                pending.setdefault(d, _Pending(etype, d, display_value(raw)))  # first seen wins
        if pending:
            self._load(list(pending))
            missing = [p for d, p in pending.items() if d not in self._token_by_digest]
            if missing:
                self._insert(missing)
        return [self._token_by_digest[d] for d in digests]

    def restore(self, text: str, allowed_types: Iterable[EntityType | str]) -> str:
        """Put real values back for the allowed entity types; other tokens stay masked."""
        allowed = {EntityType(t) for t in allowed_types}
        wanted = {
            m.group()
            for m in TOKEN_PATTERN.finditer(text)
            if EntityType(m.group("type")) in allowed
        }
        if not wanted:
            return text
        values = self.lookup(wanted)
        return TOKEN_PATTERN.sub(lambda m: values.get(m.group(), m.group()), text)

    def lookup(self, tokens: Iterable[str]) -> dict[str, str]:
        """token -> stored value for the tokens the vault knows; unknown ones are left out."""
        wanted = set(tokens)
        missing = [t for t in wanted if t not in self._value_by_token]
        if missing:
            with session_scope(self._sessions) as session:
                for chunk in batched(missing, _CHUNK):
                    rows = session.execute(_select(PiiToken.token.in_(chunk)))
                    self._remember((token, None, value) for token, _, value in rows)
        return {t: self._value_by_token[t] for t in wanted if t in self._value_by_token}

    def forget(self, tokens: Iterable[str]) -> None:
        """Drop cached values whose rows were deleted (erasure), so this process stops
        restoring them; other processes forget them when they restart."""
        gone = set(tokens)
        for token in gone:
            self._value_by_token.pop(token, None)
        for row_digest in [d for d, t in self._token_by_digest.items() if t in gone]:
            del self._token_by_digest[row_digest]

    def _load(self, digests: list[str]) -> None:
        with session_scope(self._sessions) as session:
            keyed = _keyed(session, digests)
            for chunk in batched(list(keyed), _CHUNK):
                rows = session.execute(_select_by_digest(chunk))
                self._remember((token, keyed[k], value) for token, k, value in rows)

    def _insert(self, pending: list[_Pending]) -> None:
        """Write the new values; a lost lock or deadlock is retried from scratch."""
        for attempt in range(_ATTEMPTS):
            try:
                rows = self._insert_once(pending)
            except OperationalError:
                if attempt == _ATTEMPTS - 1:
                    raise
                continue
            self._remember(rows)  # only after commit: a rolled-back token was never issued
            return

    def _insert_once(self, pending: list[_Pending]) -> list[tuple[str, str, str]]:
        """Try suffixes of growing length until every value owns a row.

        Rows go in digest order so two writers with overlapping batches lock index
        entries in the same order and cannot deadlock each other on PostgreSQL.
        """
        found: dict[str, tuple[str, str, str]] = {}
        length = self._min_suffix
        with session_scope(self._sessions) as session:
            keyed = _keyed(session, [p.digest for p in pending])
            key_of = {d: k for k, d in keyed.items()}
            todo = sorted(pending, key=lambda p: key_of[p.digest])
            while todo:
                if length > _MAX_SUFFIX:
                    raise RuntimeError("digest collision at full length: vault is corrupt")
                for rows in batched([_row(p, length, key_of[p.digest]) for p in todo], _CHUNK):
                    _insert_ignoring_conflicts(session, rows)
                for keys in batched([key_of[p.digest] for p in todo], _CHUNK):
                    for token, key, value in session.execute(_select_by_digest(keys)):
                        found[keyed[key]] = (token, keyed[key], value)
                todo = [p for p in todo if p.digest not in found]
                length += 2
        return list(found.values())

    def _remember(self, rows: Iterable[tuple[str, str | None, str]]) -> None:
        """(token, sha256 digest or None when unknown, value) rows read from the table."""
        for token, row_digest, value in rows:
            if row_digest is not None:
                self._token_by_digest[row_digest] = token
            self._value_by_token[token] = value


def make_token(entity_type: EntityType, digest_hex: str, length: int = MIN_SUFFIX) -> str:
    return f"<{entity_type.value}_{digest_hex[:length]}>"


def _row(pending: _Pending, length: int, key: str) -> dict[str, str]:
    return {
        "token": make_token(pending.entity_type, pending.digest, length),
        "entity_type": pending.entity_type.value,
        "digest": key,
        "value": pending.value,
    }


def _keyed(session: Session, digests: Iterable[str]) -> dict[str, str]:
    """The table's key (HMAC of the digest) -> the digest, for `digests`."""
    cipher = cipher_of(session)
    return {cipher.index(d): d for d in digests}


def _select_by_digest(digests: Sequence[str]) -> sa.Select[str, str, str]:
    return _select(PiiToken.digest.in_(digests))


def _select(condition: sa.ColumnElement[bool]) -> sa.Select[str, str, str]:
    return sa.select(PiiToken.token, PiiToken.digest, PiiToken.value).where(condition)


def _insert_ignoring_conflicts(session: Session, rows: Sequence[dict[str, str]]) -> None:
    """INSERT … ON CONFLICT DO NOTHING on SQLite/PostgreSQL; row by row elsewhere."""
    dialect = session.get_bind().dialect.name
    if dialect == "sqlite":
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        session.execute(sqlite_insert(PiiToken).values(list(rows)).on_conflict_do_nothing())
    elif dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        session.execute(pg_insert(PiiToken).values(list(rows)).on_conflict_do_nothing())
    else:
        for row in rows:
            try:
                with session.begin_nested():
                    session.execute(sa.insert(PiiToken).values(row))
            except IntegrityError:
                continue
