"""The index outbox: what SQL holds and the index still owes, and the one worker that pays it.

A note is written together with an outbox row, in one transaction; the index worker (one
thread per process) drains the outbox into the index, in batches, and deletes a row only
once the index holds its record. A failure (index missing, corrupted or held elsewhere, an
embedder error) leaves the row with a retry time that backs off, so nothing written to SQL
is ever left out of the index for good, and a request never fails because indexing did.

Timestamps here are the wall clock's: they say when the software acted, not the CRM's
"today" (which `CRMASSIST_TODAY` may pin).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from crmassist.db import session_scope
from crmassist.domain.enums import SourceType
from crmassist.domain.models import IndexOutbox
from crmassist.errors import IndexMissing

if TYPE_CHECKING:
    from crmassist.ingest.indexer import Indexer

log = logging.getLogger(__name__)

Records = Mapping[SourceType, Collection[str]]

POLL_S = 1.0
"""How often the worker looks for rows written by other processes (its own wake it)."""
BATCH = 64
RETRY_FIRST_S = 0.5
RETRY_MAX_S = 60.0


def owe(source_type: SourceType, record_id: str) -> IndexOutbox:
    """The outbox row for a record just written: add it in the record's own transaction."""
    now = datetime.now(UTC)
    return IndexOutbox(
        source_type=source_type.value,
        record_id=record_id,
        created_at=now,
        attempts=0,
        next_attempt_at=now,
    )


def last_id(session: Session) -> int:
    """The newest row so far: a full sync that starts now covers every row up to it."""
    return session.scalar(sa.select(sa.func.max(IndexOutbox.id))) or 0


def clear_through(session: Session, through: int) -> None:
    session.execute(sa.delete(IndexOutbox).where(IndexOutbox.id <= through))


def attempts_owed(session: Session, only: Records) -> list[int]:
    """Attempts so far of each row still owed for these records (empty: all indexed)."""
    rows: list[int] = []
    for source_type, record_ids in only.items():
        rows += session.scalars(
            sa.select(IndexOutbox.attempts).where(
                IndexOutbox.source_type == source_type.value,
                IndexOutbox.record_id.in_(list(record_ids)),
            )
        ).all()
    return rows


@dataclass(frozen=True)
class Backlog:
    """What the index still owes, for `/readyz`."""

    pending: int
    failing: int
    oldest_seconds: float
    last_error: str | None


def backlog(session: Session) -> Backlog:
    count, failing, oldest = session.execute(
        sa.select(
            sa.func.count(IndexOutbox.id),
            sa.func.count(IndexOutbox.id).filter(IndexOutbox.attempts > 0),
            sa.func.min(IndexOutbox.created_at),
        )
    ).one()
    error = session.scalar(
        sa.select(IndexOutbox.last_error)
        .where(IndexOutbox.last_error.is_not(None))
        .order_by(IndexOutbox.id.desc())
        .limit(1)
    )
    age = 0.0
    if oldest is not None:
        oldest = oldest if oldest.tzinfo else oldest.replace(tzinfo=UTC)
        age = max((datetime.now(UTC) - oldest).total_seconds(), 0.0)
    return Backlog(count, failing, round(age, 1), error)


@dataclass(frozen=True)
class _Row:
    id: int
    source_type: SourceType
    record_id: str
    attempts: int


def _group(rows: Sequence[_Row]) -> dict[SourceType, list[str]]:
    grouped: dict[SourceType, list[str]] = {}
    for row in rows:
        grouped.setdefault(row.source_type, []).append(row.record_id)
    return grouped


def _retry_delay(attempts: int) -> float:
    return float(min(RETRY_FIRST_S * 2 ** (attempts - 1), RETRY_MAX_S))


class IndexWorker:
    """The process's one index writer for logged records: a thread draining the outbox.

    `indexer` is called per batch, so a refreshed redactor (after an import) is picked up.
    Writers wake it and may wait (`wait_for`) until their records are searchable.
    """

    def __init__(
        self,
        indexer: Callable[[], Indexer],
        sessions: sessionmaker[Session],
        *,
        poll_s: float = POLL_S,
        batch: int = BATCH,
    ) -> None:
        self._indexer = indexer
        self._sessions = sessions
        self._poll_s = poll_s
        self._batch = batch
        self._cond = threading.Condition()
        self._woken = False
        self._stopping = False
        self._passes = 0  # finished drain passes: waiters re-check after each
        self._thread = threading.Thread(target=self._run, name="crmassist-index", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 30.0) -> None:
        """Finish the batch in hand, then stop; what is left stays owed in the outbox."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def wake(self) -> None:
        with self._cond:
            self._woken = True
            self._cond.notify_all()

    def wait_for(self, only: Records, timeout: float) -> bool:
        """Wake the worker and wait until these records are indexed: True if they are.

        Gives up early once an attempt on them has failed (they are retried later), so a
        broken index costs a writer one attempt, not the whole timeout.
        """
        deadline = time.monotonic() + timeout
        self.wake()
        while True:
            with self._cond:
                seen = self._passes
            with self._sessions() as session:
                attempts = attempts_owed(session, only)
            if not attempts:
                return True
            remaining = deadline - time.monotonic()
            if all(attempts) or remaining <= 0 or not self._thread.is_alive():
                return False
            self._wait_past(seen, remaining)

    def _wait_past(self, passes: int, timeout: float) -> None:
        """Until the worker finishes a pass after `passes` (or stops), at most `timeout`."""
        with self._cond:
            self._cond.wait_for(lambda: self._passes != passes or self._stopping, timeout)

    def _run(self) -> None:
        while True:
            with self._cond:
                if self._stopping:
                    return
            worked = self._drain_safely()
            with self._cond:
                self._passes += 1
                self._cond.notify_all()
                if not (worked or self._woken or self._stopping):
                    self._cond.wait(self._poll_s)
                self._woken = False

    def _drain_safely(self) -> bool:
        try:
            return self.drain_once()
        except Exception:  # the worker must outlive any one failure; rows stay owed
            log.exception("the index worker failed; it retries")
            time.sleep(self._poll_s)
            return False

    def drain_once(self) -> bool:
        """Index one batch of due rows; False when none was due."""
        rows = self._due()
        if not rows:
            return False
        try:
            self._index(rows)
        except IndexMissing as exc:  # no index to write to: the whole batch waits
            self._defer(rows, exc)
        except Exception as exc:
            if len(rows) == 1:
                self._defer(rows, exc)
            else:  # one bad record must not hold the others back
                for row in rows:
                    self._index_one(row)
        return True

    def _due(self) -> list[_Row]:
        now = datetime.now(UTC)
        with self._sessions() as session:
            found = session.scalars(
                sa.select(IndexOutbox)
                .where(IndexOutbox.next_attempt_at <= now)
                .order_by(IndexOutbox.id)
                .limit(self._batch)
            ).all()
            return [_Row(r.id, SourceType(r.source_type), r.record_id, r.attempts) for r in found]

    def _index(self, rows: Sequence[_Row]) -> None:
        self._indexer().sync_records(_group(rows))
        with session_scope(self._sessions) as session:
            session.execute(sa.delete(IndexOutbox).where(IndexOutbox.id.in_([r.id for r in rows])))

    def _index_one(self, row: _Row) -> None:
        try:
            self._index([row])
        except Exception as exc:  # recorded on the row and retried later
            self._defer([row], exc)

    def _defer(self, rows: Sequence[_Row], exc: Exception) -> None:
        reason = " ".join(str(exc).split())[:500] or type(exc).__name__
        now = datetime.now(UTC)
        with session_scope(self._sessions) as session:
            for row in rows:
                delay = _retry_delay(row.attempts + 1)
                session.execute(
                    sa.update(IndexOutbox)
                    .where(IndexOutbox.id == row.id)
                    .values(
                        attempts=row.attempts + 1,
                        next_attempt_at=now + timedelta(seconds=delay),
                        last_error=reason,
                    )
                )
        log.warning(
            "could not index %d record(s) (%s); retrying in %.1fs",
            len(rows),
            reason,
            _retry_delay(max(r.attempts for r in rows) + 1),
            exc_info=not isinstance(exc, IndexMissing),  # an unexpected failure: show where
        )
