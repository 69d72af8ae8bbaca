"""BM25 sparse vectors: Chinese segmentation, numbers, and document vs query weighting."""

from __future__ import annotations

import pytest

from crmassist.retrieval.sparse import Bm25Encoder, normalize
from crmassist.retrieval.store import SparseVector

BM25 = Bm25Encoder()


def doc(text: str) -> SparseVector:
    return BM25.embed_documents([text])[0]


def terms(text: str) -> set[int]:
    return set(BM25.embed_query(text).indices)


def test_chinese_is_segmented_into_words() -> None:
    vector = BM25.embed_query("客户投诉净水器漏水，要求上门维修")
    assert len(vector.indices) >= 6
    assert terms("漏水") <= set(vector.indices)
    assert terms("维修") <= set(vector.indices)


def test_query_terms_count_once_with_weight_one() -> None:
    query = BM25.embed_query("leak leak leak pump")
    assert len(query.indices) == len(set(query.indices)) == 2
    assert query.values == [1.0, 1.0]


def test_document_weights_saturate_with_frequency_and_shrink_with_length() -> None:
    once, thrice = doc("leak").values[0], doc("leak leak leak").values[0]
    assert once < thrice < 3 * once
    padded = doc("leak " + " ".join(f"word{i}" for i in range(300)))
    [leak] = terms("leak")
    assert padded.values[padded.indices.index(leak)] < once


@pytest.mark.parametrize(
    ("document", "query"),
    [
        ("error E-1042 on sync", "1042"),
        ("order 20240115 shipped", "20240115"),
        ("工单１０４２已关闭", "1042"),  # full-width digits inside Chinese
        ("ticket #4711", "4711"),
    ],
)
def test_bare_numbers_are_searchable_terms(document: str, query: str) -> None:
    assert terms(query)
    assert terms(query) <= set(doc(document).indices)


def test_normalize_leaves_words_and_one_letter_codes_alone() -> None:
    assert normalize("E1042 pump") == "E1042 pump"
    assert normalize("ＡＢＣ") == "ABC"


@pytest.mark.parametrize(
    ("document", "query"),
    [
        ("Replace the CB-20 carbon block", "when is the cb20 due"),
        ("更换PF-10滤芯", "pf10 多久换"),
        ("the RO75 membrane", "RO-75"),
    ],
)
def test_part_codes_match_hyphenated_or_glued(document: str, query: str) -> None:
    [code] = [w for w in query.split() if any(c.isdigit() for c in w)]
    assert terms(code) <= set(doc(document).indices)


def test_part_codes_do_not_match_another_number() -> None:
    assert not terms("cb20") <= set(doc("Replace the CB-30 carbon block").indices)


def test_empty_and_stopword_only_texts_give_empty_vectors() -> None:
    assert doc("") == SparseVector([], [])
    assert BM25.embed_query("the of and") == SparseVector([], [])


def test_documents_and_queries_share_one_term_space() -> None:
    assert set(doc("Pumps leaking at the depot").indices) == terms("pump leaks depot")
