"""A question in one language answered from an article in the other: the real index (the
multilingual vector ranked per language), the real planner, and the dictionary reader.

The articles are written here, for this test only: an English procedure with a Chinese
decoy on another topic, and a Chinese policy with an English decoy.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from crmassist.domain.enums import SourceType
from crmassist.ingest.importer import import_directory
from crmassist.retrieval.glossary import coverage, glossary
from crmassist.retrieval.search import Retriever, SearchRequest
from crmassist.retrieval.sparse import Bm25Encoder
from crmassist.runtime import Runtime
from crmassist.settings import Settings
from tests.agent_support import who
from tests.conftest import DATA

pytestmark = pytest.mark.slow

ARTICLES = {
    "KB-9001": (
        "en",
        "Descaling the dispenser hot tank",
        "Hard water leaves scale in the hot tank of a water dispenser. Descale the hot tank "
        "every 90 days with citric acid. Drain the tank first, then fill it with the "
        "descaling solution and wait 30 minutes before rinsing twice with clean water.",
    ),
    "KB-9002": (
        "zh",
        "上门服务收费标准",
        "保修期外的上门服务，每次收取上门费二百八十元，零件另计。偏远地区加收一百元。",
    ),
    "KB-9003": (
        "en",
        "Filter cartridge recycling",
        "Used cartridges can be returned to the technician at the next visit. We recycle the "
        "housing and the carbon; customers get a 5 percent discount on the next order.",
    ),
    "KB-9004": (
        "zh",
        "净水器安装位置要求",
        "净水器必须安装在通风良好的地方，离墙至少五十厘米，不得靠近热源。",
    ),
}


def write_articles(directory: Path) -> None:
    (directory / "kb").mkdir(parents=True)
    for article_id, (lang, title, body) in ARTICLES.items():
        front = f"---\nid: {article_id}\ntitle: {title}\naudience: public\nlang: {lang}\n---\n"
        (directory / "kb" / f"{article_id}.md").write_text(front + body, encoding="utf-8")
    shutil.copy(DATA / "mini_crm" / "users.csv", directory / "users.csv")


@pytest.fixture(scope="module")
def rt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    source = tmp_path_factory.mktemp("kb_import")
    write_articles(source)
    runtime = Runtime(Settings(data_dir=tmp_path_factory.mktemp("data"), pii_ner=False))
    import_directory(source, runtime.sessions, as_of=runtime.clock.today())
    runtime.indexer().sync()
    yield runtime
    runtime.close()


def first_articles(retriever: Retriever, rt: Runtime, query: str, k: int) -> list[str]:
    request = SearchRequest(query, k=k, sources=(SourceType.KB,))
    return [c.record_id for c in retriever.search(who(rt, "U4"), request)]


def test_each_language_is_ranked_apart_so_a_translation_is_not_buried(rt: Runtime) -> None:
    question = "饮水机热水罐多久要除垢一次"  # the answer is only in the English article
    partitioned = first_articles(rt.retriever(), rt, question, 2)
    one_ranking = Retriever(rt.store, rt.encoder, rt.sparse, rt.redactor, rt.audit)
    assert "KB-9001" in partitioned
    assert set(partitioned) == {"KB-9001", "KB-9004"}  # the best of each language
    assert first_articles(rt.retriever(), rt, "hot tank descaling", 1) == ["KB-9001"]
    assert first_articles(one_ranking, rt, question, 1) != ["KB-9001"]


def test_a_chinese_question_is_answered_from_the_english_article(rt: Runtime) -> None:
    reply = rt.assistant().ask(who(rt, "U4"), "饮水机热水罐多久要除垢一次？")
    assert "90" in reply.answer
    assert "[KB-9001]" in reply.answer


def test_an_english_question_is_answered_from_the_chinese_article(rt: Runtime) -> None:
    reply = rt.assistant().ask(who(rt, "U4"), "how much is the call-out fee for an on-site visit?")
    assert "[KB-9002]" in reply.answer
    assert "二百八十元" in reply.answer


def test_the_dictionary_cuts_chinese_into_its_longest_words() -> None:
    words = [w.text for w in glossary().words("饮水机不制冷了E5")]
    assert words[:3] == ["饮水机", "不", "制冷"]
    assert words[-1] == "E5"


def test_a_word_is_held_by_a_text_that_holds_one_of_its_translations() -> None:
    terms = Bm25Encoder().terms
    groups = glossary().term_groups("水泵过热")  # water pump; overheated
    assert coverage(groups, terms("The pump is overheated.")) == 1.0
    half = coverage(groups, terms("The pump stopped."))
    assert 0.0 < half < 1.0
    assert coverage(groups, terms("Invoices are sent monthly.")) == 0.0
    english = glossary().term_groups("warranty")
    assert coverage(english, terms("保修期为一年")) == 1.0


def test_rare_words_weigh_more_than_everyday_ones() -> None:
    terms = Bm25Encoder().terms
    groups = glossary().term_groups("customer keeps seeing E1", translate=False)
    one_rare = coverage(groups, terms("Error E1 means low inlet pressure."))
    one_everyday = coverage(groups, terms("The customer called."))
    assert one_rare > 1.5 * one_everyday > 0  # unweighted, both would hold one word in four


def test_own_words_only_without_translation() -> None:
    terms = Bm25Encoder().terms
    assert coverage(glossary().term_groups("warranty", translate=False), terms("保修期为一年")) == 0


def test_stop_words_make_no_group_and_no_question_words_hold_everything() -> None:
    assert glossary().term_groups("the of and") == []
    assert coverage([], {1, 2}) == 1.0


def test_an_index_made_before_the_multilingual_vector_is_rebuilt_by_a_sync(
    tmp_path: Path,
) -> None:
    from qdrant_edge import (
        Distance,
        EdgeConfig,
        EdgeShard,
        EdgeSparseVectorParams,
        EdgeVectorParams,
        Modifier,
    )

    from crmassist.retrieval import qdrant_query as qq

    source = tmp_path / "import"
    write_articles(source)
    runtime = Runtime(Settings(data_dir=tmp_path / "data", pii_ner=False))
    shard = runtime.settings.resolved_qdrant_path / runtime.settings.collection
    shard.mkdir(parents=True)
    old_layout = EdgeConfig(
        vectors={qq.DENSE: EdgeVectorParams(size=384, distance=Distance.Cosine)},
        sparse_vectors={qq.SPARSE: EdgeSparseVectorParams(modifier=Modifier.Idf)},
    )
    EdgeShard.create(str(shard), old_layout).close()
    try:
        import_directory(source, runtime.sessions, as_of=runtime.clock.today())
        assert runtime.indexer().sync().records_indexed == len(ARTICLES)
        assert "KB-9001" in first_articles(runtime.retriever(), runtime, "饮水机热水罐除垢", 2)
    finally:
        runtime.close()
