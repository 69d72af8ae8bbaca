"""Incremental indexing: records -> PII redaction -> chunks -> embeddings -> vector store.

Content hashes of what was indexed live in SQL (`IndexedRecord`), so a run embeds only
records that are new or changed and deletes the chunks of records that are gone. Work is
committed batch by batch: an interrupted run loses at most one batch, and the next run
picks up where it stopped.
"""

from __future__ import annotations

import logging
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
from crmassist.domain.models import IndexedRecord
from crmassist.ingest.chunking import Chunker
from crmassist.ingest.documents import SourceDocument, iter_documents
from crmassist.privacy import Redactor
from crmassist.privacy.gate import index_gate
from crmassist.retrieval.embeddings import Encoder
from crmassist.retrieval.sparse import Bm25Encoder
from crmassist.retrieval.store import ChunkPoint, VectorStore

log = logging.getLogger(__name__)

POINT_NAMESPACE = uuid.UUID("5b0c5f0e-8a43-4f7e-9d43-3f1f6b0f6a11")

RecordKey = tuple[str, str]


@dataclass
class IndexReport:
    records_indexed: int = 0
    chunks_indexed: int = 0
    records_unchanged: int = 0
    records_deleted: int = 0
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
        }


@dataclass(frozen=True)
class IndexPlan:
    """What a sync will do, known before any embedding starts (for progress and dry runs)."""

    stale: list[SourceDocument]
    deleted: list[RecordKey]
    unchanged: int


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
    ) -> None:
        self._sessions = session_factory
        self._store = store
        self._encoder = encoder
        self._sparse = sparse
        self._redactor = redactor
        self._chunker = chunker
        self._batch_records = batch_records

    def plan(self, rebuild: bool = False) -> IndexPlan:
        with self._sessions() as session:
            documents = list(iter_documents(session))
            fresh = rebuild or self._store.model_changed()  # another model: embed all again
            indexed = {} if fresh else _indexed_hashes(session)
        current = {(d.source_type.value, d.record_id) for d in documents}
        stale = [d for d in documents if indexed.get(_key(d)) != d.content_hash]
        deleted = sorted(set(indexed) - current)
        return IndexPlan(stale, deleted, unchanged=len(documents) - len(stale))

    def sync(self, rebuild: bool = False, progress: Progress | None = None) -> IndexReport:
        """Bring the index in line with the store; `rebuild` starts from an empty index."""
        started = time.perf_counter()
        if self._store.model_changed():
            log.warning("the index holds another embedding model's vectors: rebuilding it")
            rebuild = True
        if rebuild or not self._store.exists():
            self._reset()
        self._store.ensure_collection(self._encoder.dimension)
        plan = self.plan()
        report = IndexReport(records_unchanged=plan.unchanged)
        report.records_deleted = self._delete(plan.deleted)
        for batch in batched(plan.stale, self._batch_records):
            report.chunks_indexed += self._index_batch(batch)
            report.records_indexed += len(batch)
            if progress:
                progress(len(batch))
        report.seconds = time.perf_counter() - started
        log.info(
            "indexed %d records (%d chunks), %d unchanged, %d deleted in %.1fs",
            report.records_indexed,
            report.chunks_indexed,
            report.records_unchanged,
            report.records_deleted,
            report.seconds,
        )
        return report

    def sync_records(self, only: Mapping[SourceType, Collection[str]]) -> int:
        """Index these records now, e.g. a note logged mid-conversation; returns chunk count.

        Their hashes are remembered, so the next full `sync` leaves them alone.
        """
        self._store.ensure_collection(self._encoder.dimension)
        with self._sessions() as session:
            docs = list(iter_documents(session, only))
        return self._index_batch(docs) if docs else 0

    def _reset(self) -> None:
        self._store.drop()
        with session_scope(self._sessions) as session:
            session.execute(sa.delete(IndexedRecord))

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
        return [
            ChunkPoint(
                id=point_id(c.doc, c.chunk_no),
                dense=vector.tolist(),
                sparse=sparse_vector,
                payload=c.payload(),
            )
            for c, vector, sparse_vector in zip(chunks, dense, sparse, strict=True)
        ]

    def _remember(self, docs: Sequence[SourceDocument], points: Sequence[ChunkPoint]) -> None:
        counts: dict[RecordKey, int] = {}
        for point in points:
            key = (point.payload[PayloadKey.SOURCE_TYPE], point.payload[PayloadKey.RECORD_ID])
            counts[key] = counts.get(key, 0) + 1
        now = datetime.now(UTC)
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


def _indexed_hashes(session: Session) -> dict[RecordKey, str]:
    rows = session.execute(
        sa.select(IndexedRecord.source_type, IndexedRecord.record_id, IndexedRecord.content_hash)
    )
    return {(st, rid): h for st, rid, h in rows}


def _group(keys: Iterable[RecordKey]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = {}
    for source_type, record_id in keys:
        grouped.setdefault(source_type, []).append(record_id)
    return grouped


def _records_filter(source_type: str, record_ids: Sequence[str]) -> Condition:
    return all_of(
        match(PayloadKey.SOURCE_TYPE, source_type), match(PayloadKey.RECORD_ID, *record_ids)
    )
