"""The shared query builder, engine-free: a recording dialect shows what each engine is told."""

from __future__ import annotations

from typing import Any

import pytest

from crmassist.access.filters import DENY_ALL, AllOf, AnyOf, Match, Range, all_of, any_of, match
from crmassist.access.policy import PayloadKey
from crmassist.domain.enums import SourceType
from crmassist.retrieval import qdrant_query as qq
from crmassist.retrieval.store import SparseVector


class Recorder:
    """A dialect whose query objects are plain tuples and dicts."""

    def match_any(self, key: str, values: list[str]) -> Any:
        return ("match", key, values)

    def range(self, key: str, gte: float | None, lte: float | None) -> Any:
        return ("range", key, gte, lte)

    def filter(self, must: list[Any] | None = None, should: list[Any] | None = None) -> Any:
        return {"must": must, "should": should}

    def sparse(self, vector: SparseVector) -> Any:
        return ("sparse", vector.indices)

    def prefetch(self, query: Any, using: str, flt: Any, limit: int, idf_corpus: Any) -> Any:
        return {"using": using, "filter": flt, "limit": limit, "idf_corpus": idf_corpus}

    def rrf(self, k: int) -> Any:
        return ("rrf", k)


D = Recorder()
A, B, C = match("a", "1"), match("b", "2"), Range("c", gte=1.0)


@pytest.mark.parametrize(
    ("condition", "simple"),
    [
        (DENY_ALL, False),
        (all_of(), True),
        (Match("a", ()), False),
        (all_of(A), A),
        (all_of(A, all_of(), B), AllOf((A, B))),
        (all_of(A, DENY_ALL), False),
        (any_of(A, DENY_ALL), A),
        (any_of(A, all_of()), True),
        (any_of(DENY_ALL, all_of(B, C)), AllOf((B, C))),
        (any_of(any_of(), any_of(Match("a", ()))), False),
    ],
)
def test_simplify_settles_constants_before_any_engine_sees_them(
    condition: Any, simple: Any
) -> None:
    assert qq.simplify(condition) == simple


def test_filter_translation_keeps_the_shape_of_the_algebra() -> None:
    condition = any_of(all_of(A, C), match("s", SourceType.KB, SourceType.TICKET))
    assert qq.engine_filter(D, condition) == {
        "must": [
            {
                "must": None,
                "should": [
                    {"must": [("match", "a", ["1"]), ("range", "c", 1.0, None)], "should": None},
                    ("match", "s", ["kb", "tickets"]),
                ],
            }
        ],
        "should": None,
    }


def test_enum_values_reach_the_engine_as_plain_strings() -> None:
    flt = qq.engine_filter(D, match("s", SourceType.KB))
    assert not isinstance(flt, bool)
    assert type(flt["must"][0][2][0]) is str


def test_no_condition_means_no_restriction() -> None:
    assert qq.engine_filter(D, None) is True


def test_delete_filter_skips_nothing_and_spells_everything_as_an_empty_filter() -> None:
    assert qq.delete_filter(D, DENY_ALL) is None
    assert qq.delete_filter(D, all_of()) == {"must": None, "should": None}


def test_hybrid_query_puts_the_filter_in_every_stage() -> None:
    q = qq.hybrid_query(D, [0.1, 0.2], SparseVector([3], [1.0]), A, 10)
    assert q is not None
    flt = {"must": [("match", "a", ["1"])], "should": None}
    assert q.filter == flt
    assert [p["filter"] for p in q.prefetches] == [flt, flt]
    assert [p["using"] for p in q.prefetches] == [qq.DENSE, qq.SPARSE]
    assert all(p["limit"] >= q.limit for p in q.prefetches)
    assert q.fusion == ("rrf", qq.RRF_K)
    assert [p["idf_corpus"] for p in q.prefetches] == [None, None]


def test_scoped_idf_measures_bm25_over_the_visible_points_only() -> None:
    q = qq.hybrid_query(D, [0.1], SparseVector([3], [1.0]), A, 10, scoped_idf=True)
    assert q is not None
    dense, sparse = q.prefetches
    assert dense["idf_corpus"] is None and sparse["idf_corpus"] == q.filter


def test_hybrid_query_for_deny_all_is_never_sent() -> None:
    assert qq.hybrid_query(D, [0.1], SparseVector([], []), DENY_ALL, 10) is None
    assert qq.hybrid_query(D, [0.1], SparseVector([], []), any_of(), 10) is None


def test_every_payload_key_gets_an_index_of_its_kind() -> None:
    kinds = dict(qq.PAYLOAD_INDEXES)
    assert {k for k, v in kinds.items() if v == "keyword"} == set(PayloadKey.FILTERABLE_KEYWORDS)
    assert {k for k, v in kinds.items() if v == "float"} == set(PayloadKey.FILTERABLE_NUMBERS)
    assert qq.missing_indexes([PayloadKey.LANG, "other"]) == [
        (k, v) for k, v in qq.PAYLOAD_INDEXES if k != PayloadKey.LANG
    ]


def test_batches() -> None:
    from crmassist.batching import batched

    assert [len(b) for b in batched(range(600), 256)] == [256, 256, 88]
    assert list(batched([], 256)) == []
    with pytest.raises(ValueError):
        list(batched([1], 0))


def test_anyof_of_nothing_is_the_deny_all() -> None:
    assert AnyOf(()) == DENY_ALL
