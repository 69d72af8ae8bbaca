"""Permission-aware hybrid search that answers with citations.

The principal's access filter is part of the vector query itself, so a forbidden chunk
is never scored, never returned, never counted. The query is redacted with the same
pseudonyms as the index, which also makes names findable: "Maria Chen" becomes the
same `<PERSON_…>` token that the indexed notes carry.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from crmassist.access.audit import AuditLog
from crmassist.access.filters import Condition, Range, all_of, match
from crmassist.access.policy import PayloadKey, retrieval_filter, visible_sources
from crmassist.access.principal import Principal
from crmassist.domain.enums import SourceType
from crmassist.privacy import Redactor
from crmassist.retrieval.embeddings import Encoder
from crmassist.retrieval.sparse import Bm25Encoder
from crmassist.retrieval.store import Hit, VectorStore

SNIPPET_CHARS = 280
OVERFETCH = 4
"""Chunks fetched per wanted record, so several chunks of one record don't crowd others out."""


class SourceNotAllowed(PermissionError):
    def __init__(self, principal: Principal, source: SourceType) -> None:
        super().__init__(f"role {principal.role.value!r} may not search {source.value}")


@dataclass(frozen=True)
class Citation:
    source_type: SourceType
    record_id: str
    title: str
    snippet: str
    score: float
    account_id: str | None = None
    occurred_at: datetime | None = None
    text: str = ""
    """The whole matching chunk (pseudonymised), for a model to read; `snippet` is for people."""


@dataclass(frozen=True)
class SearchRequest:
    query: str
    k: int = 5
    sources: tuple[SourceType, ...] = ()
    account_id: str | None = None
    since: datetime | None = None
    until: datetime | None = None


class Retriever:
    def __init__(
        self,
        store: VectorStore,
        encoder: Encoder,
        sparse: Bm25Encoder,
        redactor: Redactor,
        audit: AuditLog,
    ) -> None:
        self._store = store
        self._encoder = encoder
        self._sparse = sparse
        self._redactor = redactor
        self._audit = audit

    def search(self, principal: Principal, request: SearchRequest) -> list[Citation]:
        _check_sources(principal, request.sources)
        query = self._redactor.redact(request.query).text
        hits = self._store.hybrid_search(
            dense=self._encoder.embed_query(query).tolist(),
            sparse=self._sparse.embed_query(query),
            condition=search_filter(principal, request),
            limit=request.k * OVERFETCH,
        )
        citations = _best_per_record(hits)[: request.k]
        self._audit.record(
            principal,
            "search",
            target=query,
            records=[f"{c.source_type.value}/{c.record_id}" for c in citations],
            sources=[s.value for s in request.sources],
            k=request.k,
        )
        return citations


def search_filter(principal: Principal, request: SearchRequest) -> Condition:
    """The principal's access filter AND the request's own narrowing."""
    conditions: list[Condition] = [retrieval_filter(principal)]
    if request.sources:
        conditions.append(match(PayloadKey.SOURCE_TYPE, *request.sources))
    if request.account_id:
        conditions.append(match(PayloadKey.ACCOUNT_ID, request.account_id))
    if request.since or request.until:
        conditions.append(
            Range(
                PayloadKey.OCCURRED_AT,
                gte=request.since.timestamp() if request.since else None,
                lte=request.until.timestamp() if request.until else None,
            )
        )
    return all_of(*conditions)


def _check_sources(principal: Principal, sources: Sequence[SourceType]) -> None:
    allowed = visible_sources(principal)
    for source in sources:
        if source not in allowed:
            raise SourceNotAllowed(principal, source)


def _best_per_record(hits: Sequence[Hit]) -> list[Citation]:
    seen: set[tuple[str, str]] = set()
    citations = []
    for hit in hits:
        key = (hit.payload[PayloadKey.SOURCE_TYPE], hit.payload[PayloadKey.RECORD_ID])
        if key in seen:
            continue
        seen.add(key)
        citations.append(
            Citation(
                source_type=SourceType(key[0]),
                record_id=key[1],
                title=str(hit.payload.get("title", "")),
                snippet=_snippet(str(hit.payload.get("text", ""))),
                score=hit.score,
                account_id=hit.payload.get(PayloadKey.ACCOUNT_ID),
                occurred_at=_when(hit.payload.get(PayloadKey.OCCURRED_AT)),
                text=str(hit.payload.get("text", "")),
            )
        )
    return citations


def _when(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp is not None else None


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rstrip() + "…"
