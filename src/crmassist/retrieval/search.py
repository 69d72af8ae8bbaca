"""Permission-aware hybrid search that answers with citations.

The principal's access filter is part of the vector query itself, so a forbidden chunk
is never scored, never returned, never counted. The query is redacted with the same
pseudonyms as the index, which also makes names findable: "Maria Chen" becomes the
same `<PERSON_…>` token that the indexed notes carry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import zip_longest

from crmassist.access.audit import AuditLog
from crmassist.access.filters import Condition, Range, all_of, match
from crmassist.access.policy import PayloadKey, retrieval_filter, visible_sources
from crmassist.access.principal import Principal
from crmassist.domain.enums import SourceType
from crmassist.domain.language import detect_lang
from crmassist.privacy import Redactor
from crmassist.retrieval.embeddings import Encoder
from crmassist.retrieval.qdrant_query import MULTILINGUAL
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
        *,
        multilingual: Encoder | None = None,
        kb_languages: Sequence[str] = (),
    ) -> None:
        """`multilingual` with `kb_languages`: knowledge-base searches rank each article
        language apart on the multilingual vector (see `_knowledge_hits`)."""
        self._store = store
        self._encoder = encoder
        self._sparse = sparse
        self._redactor = redactor
        self._audit = audit
        self._multilingual = multilingual
        self._kb_languages = tuple(kb_languages)

    def search(self, principal: Principal, request: SearchRequest) -> list[Citation]:
        _check_sources(principal, request.sources)
        query = self._redactor.redact(request.query).text
        condition = search_filter(principal, request)
        if self._multilingual is not None and request.sources == (SourceType.KB,):
            hits = self._knowledge_hits(self._multilingual, query, condition, request.k)
        else:
            hits = self._store.hybrid_search(
                dense=self._encoder.embed_query(query).tolist(),
                sparse=self._sparse.embed_query(query),
                condition=condition,
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

    def _knowledge_hits(
        self, encoder: Encoder, query: str, condition: Condition, k: int
    ) -> list[Hit]:
        """The best articles of each language, taken in turns, the query's own first.

        A multilingual model scores any text in the query's own language above the right
        answer in another language, so one ranking across languages buries translations;
        within one language it finds them (docs/evals.md, "Knowledge base across
        languages"). Taking each language's ranking in turn keeps the best of each near
        the top; the reader then picks among them by meaning.
        """
        dense = encoder.embed_query(query).tolist()
        own = detect_lang(query)
        languages = sorted(self._kb_languages, key=lambda lang: (lang != own, lang))
        partitions: list[tuple[str, Condition]] = [
            (lang, all_of(condition, match(PayloadKey.LANG, lang))) for lang in languages
        ]
        rankings = [
            _one_per_record(
                self._store.hybrid_search(
                    dense,
                    self._sparse.embed_query(_matchable(query, lang)),
                    part,
                    k * OVERFETCH,
                    using=MULTILINGUAL,
                )
            )
            for lang, part in partitions or [(own, condition)]
        ]
        return [hit for turn in zip_longest(*rankings) for hit in turn if hit is not None]


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\u3000-\u303f\uff00-\uffef]+")


def _matchable(query: str, lang: str) -> str:
    """The query's words that can match text in `lang` word for word: Chinese words never
    occur in English articles, so ranking those by them only adds noise to the meaning;
    codes and names in Latin letters ("E5", "AquaSense") occur in articles of any language."""
    return _HAN.sub(" ", query) if lang == "en" else query


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


def _one_per_record(hits: Sequence[Hit]) -> list[Hit]:
    """Each record's best chunk, in rank order."""
    seen: set[tuple[str, str]] = set()
    best = []
    for hit in hits:
        key = (hit.payload[PayloadKey.SOURCE_TYPE], hit.payload[PayloadKey.RECORD_ID])
        if key not in seen:
            seen.add(key)
            best.append(hit)
    return best


def _best_per_record(hits: Sequence[Hit]) -> list[Citation]:
    return [
        Citation(
            source_type=SourceType(hit.payload[PayloadKey.SOURCE_TYPE]),
            record_id=hit.payload[PayloadKey.RECORD_ID],
            title=str(hit.payload.get("title", "")),
            snippet=_snippet(str(hit.payload.get("text", ""))),
            score=hit.score,
            account_id=hit.payload.get(PayloadKey.ACCOUNT_ID),
            occurred_at=_when(hit.payload.get(PayloadKey.OCCURRED_AT)),
            text=str(hit.payload.get("text", "")),
        )
        for hit in _one_per_record(hits)
    ]


def _when(timestamp: float | None) -> datetime | None:
    return datetime.fromtimestamp(timestamp, UTC) if timestamp is not None else None


def _snippet(text: str) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1].rstrip() + "…"
