"""The one builder of Qdrant filters and hybrid queries, shared by both store adapters.

qdrant-edge and qdrant-client name the same Qdrant concepts with different Python classes.
Each adapter supplies a `Dialect` (a handful of constructors); everything that decides what a
query *means* — how the access algebra maps to must/should, where the filter goes, how many
candidates each stage fetches, how they are fused — lives here, once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Generic, Literal, Protocol, TypeVar

from crmassist.access.filters import AllOf, Condition, Match, Range
from crmassist.access.policy import PayloadKey
from crmassist.retrieval.store import SparseVector

DENSE = "dense"
MULTILINGUAL = "multilingual"
"""A second dense vector on knowledge-base chunks, from the multilingual encoder, so an
article answers a question asked in another language (the main model may be English-only)."""
SPARSE = "bm25"
MULTILINGUAL_DIM = 384
"""multilingual-e5-small's size; fixed, so an index's layout does not depend on settings."""

# Qdrant's default RRF constant; the server applies it to a plain RRF fusion, which every
# server since 1.10 accepts (a custom k needs 1.16+, docker-compose pins 1.15.4).
RRF_K = 2
UPSERT_BATCH = 256  # larger batches gain nothing on qdrant-edge (measured 64..4096)

IndexKind = Literal["keyword", "float"]
PAYLOAD_INDEXES: tuple[tuple[str, IndexKind], ...] = (
    *((key, "keyword") for key in PayloadKey.FILTERABLE_KEYWORDS),
    *((key, "float") for key in PayloadKey.FILTERABLE_NUMBERS),
)

F = TypeVar("F")


class Dialect(Protocol[F]):
    """Constructors of one engine's query objects; `F` is its filter type."""

    def match_any(self, key: str, values: list[str]) -> Any: ...

    def range(self, key: str, gte: float | None, lte: float | None) -> Any: ...

    def filter(self, must: list[Any] | None = None, should: list[Any] | None = None) -> F: ...

    def sparse(self, vector: SparseVector) -> Any: ...

    def prefetch(
        self, query: Any, using: str, flt: F | None, limit: int, idf_corpus: F | None
    ) -> Any: ...

    def rrf(self, k: int) -> Any: ...


# -- filters --------------------------------------------------------------------------


def simplify(condition: Condition) -> Condition | bool:
    """Fold empty and constant branches: True matches everything, False nothing.

    Engines disagree on edge cases (qdrant-edge treats `should: []` as match-all), so
    constants are settled here and never reach an engine.
    """
    if isinstance(condition, Match):
        return condition if condition.values else False
    if isinstance(condition, Range):
        return condition
    parts = [simplify(part) for part in condition.conditions]
    absorbing, neutral = (False, True) if isinstance(condition, AllOf) else (True, False)
    if any(part is absorbing for part in parts):
        return absorbing
    kept = tuple(part for part in parts if not isinstance(part, bool))
    if not kept:
        return neutral
    if len(kept) == 1:
        return kept[0]
    return type(condition)(kept)


def engine_filter(dialect: Dialect[F], condition: Condition | None) -> F | bool:
    """The engine filter for `condition`, or True (no restriction) / False (matches nothing)."""
    simple = True if condition is None else simplify(condition)
    if isinstance(simple, bool):
        return simple
    return dialect.filter(must=[_node(dialect, simple)])


def _node(dialect: Dialect[F], condition: Condition) -> Any:
    if isinstance(condition, Match):
        # str(): StrEnum members arrive here; engines want plain strings
        return dialect.match_any(condition.key, [str(value) for value in condition.values])
    if isinstance(condition, Range):
        return dialect.range(condition.key, condition.gte, condition.lte)
    children = [_node(dialect, part) for part in condition.conditions]
    if isinstance(condition, AllOf):
        return dialect.filter(must=children)
    return dialect.filter(should=children)


def filter_or_none(flt: F | Literal[True]) -> F | None:
    """For engine calls where "no filter" is spelled None."""
    return None if flt is True else flt


def delete_filter(dialect: Dialect[F], condition: Condition) -> F | None:
    """The filter a delete needs: None when nothing matches (skip the call), {} for all."""
    flt = engine_filter(dialect, condition)
    if flt is False:
        return None
    return dialect.filter() if flt is True else flt


# -- hybrid query ---------------------------------------------------------------------


@dataclass(frozen=True)
class HybridQuery(Generic[F]):
    """Engine objects for one hybrid query; each adapter hands them to its engine's call."""

    prefetches: list[Any]
    fusion: Any
    filter: F | None
    limit: int


def prefetch_limit(limit: int) -> int:
    """Candidates per stage: enough that RRF can lift a hit found by only one of them."""
    return max(4 * limit, 40)


def hybrid_query(
    dialect: Dialect[F],
    dense: Sequence[float],
    sparse: SparseVector,
    condition: Condition,
    limit: int,
    *,
    scoped_idf: bool = False,
    using: str = DENSE,
) -> HybridQuery[F] | None:
    """Dense and BM25 prefetches fused by RRF, the access filter inside each; None = no hits.
    A query without BM25 terms is ranked by the dense prefetch alone.

    The filter sits in every prefetch (not only at the top) so no stage can rank, or leak
    through fusion, a point the caller may not see. With `scoped_idf`, BM25's IDF is computed
    over the points the caller may see as well, so forbidden documents do not shape the
    ranking (needs Qdrant 1.19+ on a server).
    """
    flt = engine_filter(dialect, condition)
    if flt is False or limit <= 0:
        return None
    restricted = filter_or_none(flt)
    n = prefetch_limit(limit)
    corpus = restricted if scoped_idf else None
    prefetches = [dialect.prefetch(list(dense), using, restricted, n, None)]
    if sparse.indices:  # no term to match (a question in another script): meaning alone
        prefetches.append(dialect.prefetch(dialect.sparse(sparse), SPARSE, restricted, n, corpus))
    return HybridQuery(prefetches, dialect.rrf(RRF_K), restricted, limit)


# -- shared plumbing ------------------------------------------------------------------


def missing_indexes(existing: Iterable[str]) -> list[tuple[str, IndexKind]]:
    """Payload indexes still to create, so a field added to `PayloadKey` gets indexed too."""
    have = set(existing)
    return [(key, kind) for key, kind in PAYLOAD_INDEXES if key not in have]
