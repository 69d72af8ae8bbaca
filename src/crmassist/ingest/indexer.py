"""Incremental indexing: records -> PII redaction -> chunks -> embeddings -> vector store.

Content hashes of what was indexed live in SQL (`IndexedRecord`) *and* in every chunk's
payload, so a run embeds only records that are new or changed, and trusts the bookkeeping
only where the index agrees with it: a record whose chunks are missing, too many or of
another version is indexed again (a lost or damaged index is repaired, not believed).
Work is committed batch by batch: an interrupted run loses at most one batch, and the next
run picks up where it stopped. A rebuild is marked in SQL until it finishes, so a half-built
index never reports ready (`check`).

Every write in a process goes through one lock (the runtime's), so a full sync, the index
worker and readiness checks never interleave their writes and counts.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from crmassist.access.filters import Condition, all_of, match
from crmassist.access.policy import PayloadKey
from crmassist.batching import batched
from crmassist.db import session_scope
from crmassist.domain.enums import SourceType
from crmassist.domain.models import IndexedRecord, IndexState
from crmassist.errors import IndexMissing
from crmassist.ingest import outbox
from crmassist.ingest.chunking import Chunker
from crmassist.ingest.documents import SourceDocument, iter_documents
from crmassist.privacy import Redactor
from crmassist.privacy.gate import index_gate
from crmassist.retrieval.embeddings import Encoder
from crmassist.retrieval.sparse import Bm25Encoder
from crmassist.retrieval.store import (
    CONTENT_HASH,
    ChunkPoint,
    CollectionMismatchError,
    IndexCorrupted,
    IndexUnavailable,
    RecordKey,
    RecordPoints,
    VectorStore,
)

log = logging.getLogger(__name__)

POINT_NAMESPACE = uuid.UUID("5b0c5f0e-8a43-4f7e-9d43-3f1f6b0f6a11")

BUILD_KEY = "build"
"""`IndexState` row present while a rebuild runs; a killed rebuild leaves it behind."""
READY = "ok"


@dataclass
class IndexReport:
    records_indexed: int = 0
    chunks_indexed: int = 0
    records_unchanged: int = 0
    records_deleted: int = 0
    records_repaired: int = 0
    """Recorded as indexed in SQL, but missing or different in the index itself."""
    seconds: float = 0.0

    @property
    def chunks_per_second(self) -> float:
        return self.chunks_indexed / self.seconds if self.seconds else 0.0


Progress = Callable[[int], None]
"""Called with the number of records just finished."""


def point_id(doc: SourceDocument, chunk_no: int) -> str:
    """Stable ids: re-indexing a record overwrites its points instead of duplicating them."""
    return str(uuid.uuid5(POINT_NAMESPACE, f"{doc.source_type}/{doc.record_id}/{chunk_no}"))


@dataclass(frozen=True)
class PreparedChunk:
    """A redacted chunk of a document, ready to embed."""

    doc: SourceDocument
    chunk_no: int
    title: str
    text: str

    @property
    def embed_text(self) -> str:
        """Later chunks lose the header line; prefixing the title keeps them findable."""
        return self.text if self.chunk_no == 0 else f"{self.title}\n{self.text}"

    def payload(self) -> dict[str, Any]:
        return {
            **self.doc.payload,
            PayloadKey.SOURCE_TYPE: self.doc.source_type.value,
            PayloadKey.RECORD_ID: self.doc.record_id,
            "chunk_no": self.chunk_no,
            "title": self.title,
            "text": self.text,
            CONTENT_HASH: self.doc.content_hash,
        }


@dataclass(frozen=True)
class IndexPlan:
    """What a sync will do, known before any embedding starts (for progress and dry runs)."""

    stale: list[SourceDocument]
    deleted: list[RecordKey]
    unchanged: int
    repaired: int = 0
    """How many of `stale` SQL believed indexed, but the index does not hold as recorded."""


class Indexer:
    def __init__(
        self,
        session_factory: sessionmaker[Session],
        store: VectorStore,
        encoder: Encoder,
        sparse: Bm25Encoder,
        redactor: Redactor,
        chunker: Chunker,
        batch_records: int = 64,
        lock: threading.RLock | None = None,
        multilingual: Encoder | None = None,
    ) -> None:
        """`multilingual`: the encoder of knowledge-base chunks' second vector (none: the
        articles answer questions in their own language only)."""
        self._sessions = session_factory
        self._multilingual = multilingual
        self._store = store
        self._encoder = encoder
        self._sparse = sparse
        self._redactor = redactor
        self._chunker = chunker
        self._batch_records = batch_records
        self._lock = lock or threading.RLock()  # the runtime passes its one write lock

    def plan(self, rebuild: bool = False) -> IndexPlan:
        """Compare SQL with the index itself: bookkeeping alone is not trusted."""
        fresh = rebuild or not self._store.exists() or self._store.model_changed()
        held = None if fresh else self._held()
        fresh = fresh or held is None  # unreadable: `sync` rebuilds it
        with self._sessions() as session:
            documents = list(iter_documents(session))
            recorded = {} if fresh else _recorded(session)
        held = held or {}
        current = {_key(d) for d in documents}
        stale = [d for d in documents if not _holds(recorded.get(_key(d)), held.get(_key(d)), d)]
        repaired = sum(
            1 for d in stale if _key(d) in recorded and recorded[_key(d)][0] == d.content_hash
        )
        deleted = sorted((set(recorded) | set(held)) - current)
        return IndexPlan(stale, deleted, len(documents) - len(stale), repaired)

    def _held(self) -> dict[RecordKey, RecordPoints] | None:
        """What the index really holds; None if its files cannot be read."""
        try:
            return self._store.inventory()
        except IndexCorrupted:
            return None

    def sync(self, rebuild: bool = False, progress: Progress | None = None) -> IndexReport:
        """Bring the index in line with SQL; `rebuild` starts from an empty index."""
        with self._lock:
            return self._sync(rebuild, progress)

    def _sync(self, rebuild: bool, progress: Progress | None) -> IndexReport:
        started = time.perf_counter()
        if self._store.model_changed():
            log.warning("the index holds another embedding model's vectors: rebuilding it")
            rebuild = True
        with self._sessions() as session:
            owed_through = outbox.last_id(session)  # this sync covers every row up to here
        if rebuild or not self._store.exists() or not self._readable():
            self._reset()
        self._store.ensure_collection(self._encoder.dimension)
        plan = self.plan()
        if plan.repaired:
            log.warning(
                "the index lacks or holds other versions of %d records that SQL recorded as "
                "indexed: indexing them again",
                plan.repaired,
            )
        report = IndexReport(records_unchanged=plan.unchanged, records_repaired=plan.repaired)
        report.records_deleted = self._delete(plan.deleted)
        for batch in batched(plan.stale, self._batch_records):
            report.chunks_indexed += self._index_batch(batch)
            report.records_indexed += len(batch)
            if progress:
                progress(len(batch))
        self._finish(owed_through)
        report.seconds = time.perf_counter() - started
        log.info(
            "indexed %d records (%d chunks), %d unchanged, %d deleted, %d repaired in %.1fs",
            report.records_indexed,
            report.chunks_indexed,
            report.records_unchanged,
            report.records_deleted,
            report.records_repaired,
            report.seconds,
        )
        return report

    def _readable(self) -> bool:
        """False for an index whose files cannot be read: it is derived data, so a full
        sync rebuilds it from SQL instead of failing."""
        try:
            self._store.ensure_collection(self._encoder.dimension)
        except (IndexCorrupted, CollectionMismatchError) as exc:
            log.warning("%s: rebuilding it", exc)
            return False
        return True

    def sync_records(self, only: Mapping[SourceType, Collection[str]]) -> int:
        """Index these records now, e.g. a note just logged; returns the chunk count.

        Their hashes are remembered, so the next full `sync` leaves them alone; records
        that no longer exist leave the index. A missing index is not created here (that
        would serve a nearly empty index as if it were whole): `IndexMissing` instead.
        """
        with self._lock:
            if not self._store.exists():
                raise IndexMissing()
            with self._sessions() as session:
                docs = list(iter_documents(session, only))
            found = {_key(d) for d in docs}
            gone = [
                (s.value, r) for s, ids in only.items() for r in ids if (s.value, r) not in found
            ]
            if gone:
                self._delete(gone)
            return self._index_batch(docs) if docs else 0

    def check(self, wait_s: float = 0.5) -> str:
        """`READY`, or what is wrong with the index in one line (for `/readyz`).

        Cheap enough to poll: a marker row and two counts, the index's own and SQL's.
        While a write holds the lock for longer than `wait_s`, counts are moving: the
        marker alone decides.
        """
        try:
            return self._check(wait_s)
        except (IndexUnavailable, CollectionMismatchError) as exc:
            return f"unavailable: {exc}"

    def _check(self, wait_s: float) -> str:
        if not self._store.exists():
            return "missing: run `crmassist index`"
        with self._sessions() as session:
            if session.get(IndexState, BUILD_KEY) is not None:
                return "incomplete: a rebuild did not finish; run `crmassist index`"
        for attempt in range(2):  # another process's write may sit between the two counts
            if not self._lock.acquire(timeout=wait_s):
                return READY
            try:
                held, recorded = self._store.count(), self._recorded_chunks()
            finally:
                self._lock.release()
            if held == recorded:
                return READY
            if attempt == 0:
                time.sleep(0.2)
        return (
            f"mismatch: the index holds {held} chunks where SQL recorded {recorded}; "
            "run `crmassist index` to repair it"
        )

    def _recorded_chunks(self) -> int:
        with self._sessions() as session:
            total = session.scalar(sa.select(sa.func.sum(IndexedRecord.chunk_count)))
        return int(total or 0)

    def _reset(self) -> None:
        with session_scope(self._sessions) as session:
            session.merge(IndexState(key=BUILD_KEY, value="rebuilding", updated_at=_now()))
        self._store.drop()
        with session_scope(self._sessions) as session:
            session.execute(sa.delete(IndexedRecord))

    def _finish(self, owed_through: int) -> None:
        """The index is whole: the rebuild mark goes, and so does the outbox it covered."""
        with session_scope(self._sessions) as session:
            session.execute(sa.delete(IndexState).where(IndexState.key == BUILD_KEY))
            outbox.clear_through(session, owed_through)

    def _delete(self, keys: Sequence[RecordKey]) -> int:
        for source_type, record_ids in _group(keys).items():
            self._store.delete_by_filter(_records_filter(source_type, record_ids))
        with session_scope(self._sessions) as session:
            for source_type, record_ids in _group(keys).items():
                session.execute(
                    sa.delete(IndexedRecord).where(
                        IndexedRecord.source_type == source_type,
                        IndexedRecord.record_id.in_(record_ids),
                    )
                )
        return len(keys)

    def _index_batch(self, docs: Sequence[SourceDocument]) -> int:
        chunks = self.prepare(docs)
        points = self.points(chunks)
        # A changed record may now have fewer chunks: clear its old points first.
        for source_type, record_ids in _group(_key(d) for d in docs).items():
            self._store.delete_by_filter(_records_filter(source_type, record_ids))
        self._store.upsert(points)
        self._remember(docs, points)
        return len(points)

    def prepare(self, docs: Sequence[SourceDocument]) -> list[PreparedChunk]:
        """Redact, gate, then chunk: PII is gone before any text is split, embedded or stored."""
        redacted = self._redactor.redact_many([d.text for d in docs] + [d.title for d in docs])
        gated = index_gate(self._redactor).check_many([r.text for r in redacted])
        texts, titles = gated[: len(docs)], gated[len(docs) :]
        return [
            PreparedChunk(doc, n, title.text, chunk)
            for doc, text, title in zip(docs, texts, titles, strict=True)
            for n, chunk in enumerate(self._chunker.split(text.text))
        ]

    def points(self, chunks: Sequence[PreparedChunk]) -> list[ChunkPoint]:
        """Dense and BM25 vectors for prepared chunks, with stable ids and payloads."""
        texts = [c.embed_text for c in chunks]
        dense = self._encoder.embed_documents(texts) if texts else np.empty((0, 0))
        sparse = self._sparse.embed_documents(texts)
        multilingual = self._multilingual_vectors(chunks)
        return [
            ChunkPoint(
                id=point_id(c.doc, c.chunk_no),
                dense=vector.tolist(),
                sparse=sparse_vector,
                payload=c.payload(),
                multilingual=multilingual.get(n),
            )
            for n, (c, vector, sparse_vector) in enumerate(zip(chunks, dense, sparse, strict=True))
        ]

    def _multilingual_vectors(self, chunks: Sequence[PreparedChunk]) -> dict[int, list[float]]:
        """The second vector of knowledge-base chunks, by position in `chunks`."""
        wanted = [n for n, c in enumerate(chunks) if c.doc.source_type is SourceType.KB]
        if self._multilingual is None or not wanted:
            return {}
        vectors = self._multilingual.embed_documents([chunks[n].embed_text for n in wanted])
        return {n: vector.tolist() for n, vector in zip(wanted, vectors, strict=True)}

    def _remember(self, docs: Sequence[SourceDocument], points: Sequence[ChunkPoint]) -> None:
        counts: dict[RecordKey, int] = {}
        for point in points:
            key = (point.payload[PayloadKey.SOURCE_TYPE], point.payload[PayloadKey.RECORD_ID])
            counts[key] = counts.get(key, 0) + 1
        now = _now()
        with session_scope(self._sessions) as session:
            for doc in docs:
                session.merge(
                    IndexedRecord(
                        source_type=doc.source_type.value,
                        record_id=doc.record_id,
                        content_hash=doc.content_hash,
                        chunk_count=counts.get(_key(doc), 0),
                        indexed_at=now,
                    )
                )


def _key(doc: SourceDocument) -> RecordKey:
    return (doc.source_type.value, doc.record_id)


def _now() -> datetime:
    return datetime.now(UTC)


def _recorded(session: Session) -> dict[RecordKey, tuple[str, int]]:
    """What SQL says the index holds: (content hash, chunk count) per record."""
    rows = session.execute(
        sa.select(
            IndexedRecord.source_type,
            IndexedRecord.record_id,
            IndexedRecord.content_hash,
            IndexedRecord.chunk_count,
        )
    )
    return {(st, rid): (h, n) for st, rid, h, n in rows}


def _holds(
    recorded: tuple[str, int] | None, held: RecordPoints | None, doc: SourceDocument
) -> bool:
    """The index holds this version of the record, as SQL recorded it.

    Chunks indexed before payloads carried a hash have none: their count alone decides.
    """
    if recorded is None or recorded[0] != doc.content_hash:
        return False
    count, hashes = (held.count, held.hashes) if held else (0, set())
    return count == recorded[1] and hashes <= {doc.content_hash}


def _group(keys: Iterable[RecordKey]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for source_type, record_id in keys:
        grouped.setdefault(source_type, []).append(record_id)
    return grouped


def _records_filter(source_type: str, record_ids: Sequence[str]) -> Condition:
    return all_of(
        match(PayloadKey.SOURCE_TYPE, source_type), match(PayloadKey.RECORD_ID, *record_ids)
    )
