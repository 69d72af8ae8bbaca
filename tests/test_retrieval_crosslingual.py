"""multilingual-e5-small on the real pieces: the sample's articles (English and Chinese)
imported, redacted and chunked in E5's own tokens; and an index never mixes two models'
vectors. (Cross-lingual recall is measured by benchmarks/retrieval.py, not asserted here.)"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from crmassist.access.directory import principal_for
from crmassist.domain.enums import SourceType
from crmassist.ingest.importer import import_directory
from crmassist.retrieval.edge_store import EdgeStore
from crmassist.retrieval.embeddings import E5_MODEL, E5Encoder
from crmassist.retrieval.search import SearchRequest
from crmassist.retrieval.server_store import ServerStore
from crmassist.retrieval.store import CollectionMismatchError, VectorStore
from crmassist.runtime import Runtime
from crmassist.settings import Settings
from tests.conftest import DATA

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
MINILM = "all-MiniLM-L6-v2"


@pytest.fixture(scope="module")
def kb_only(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An import directory with the sample's 39 articles and a few users."""
    source = tmp_path_factory.mktemp("kb_import")
    shutil.copytree(ROOT / "knowledge" / "sample" / "kb", source / "kb")
    shutil.copy(DATA / "mini_crm" / "users.csv", source / "users.csv")
    return source


def runtime(data_dir: Path, model: str) -> Runtime:
    return Runtime(Settings(data_dir=data_dir, embedding_model=model, pii_ner=False))


@pytest.fixture(scope="module")
def e5(kb_only: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Runtime]:
    rt = runtime(tmp_path_factory.mktemp("e5"), E5_MODEL)
    import_directory(kb_only, rt.sessions, as_of=rt.clock.today())
    rt.indexer().sync()
    yield rt
    rt.close()


def test_e5_token_length_counts_the_texts_own_tokens() -> None:
    encoder = E5Encoder()
    assert encoder.token_length("") == 0
    assert encoder.token_length("hello world") == 2  # "▁hello", "▁world"; no prefix, no <s></s>
    assert encoder.max_tokens == E5Encoder.MAX_TOKENS - 5  # "passage: " (3 tokens), <s>, </s>


def test_chunks_measured_in_e5_tokens_stay_within_the_chunk_size(e5: Runtime) -> None:
    chunker_size = e5.settings.chunk_tokens
    indexer = e5.indexer()
    chunks = indexer.prepare(indexer.plan(rebuild=True).stale)
    assert len(chunks) > 39  # long articles were split
    assert max(e5.encoder.token_length(c.text) for c in chunks) <= chunker_size


def test_a_changed_model_rebuilds_the_index_instead_of_mixing_vectors(tmp_path: Path) -> None:
    few = tmp_path / "import"  # three articles keep two models' indexing short
    (few / "kb").mkdir(parents=True)
    for article in ("KB-0013", "KB-0035", "KB-0016"):
        shutil.copy(ROOT / "knowledge" / "sample" / "kb" / f"{article}.md", few / "kb")
    shutil.copy(DATA / "mini_crm" / "users.csv", few / "users.csv")
    first = runtime(tmp_path / "data", MINILM)
    import_directory(few, first.sessions, as_of=first.clock.today())
    indexed = first.indexer().sync().records_indexed
    first.close()

    second = runtime(tmp_path / "data", E5_MODEL)  # same data dir and 384-d size, other model
    assert second.store.model_changed()
    with second.sessions() as session:
        admin = principal_for(session, "U5")
    with pytest.raises(CollectionMismatchError, match=f"{MINILM!r}.*{E5_MODEL!r}"):
        second.retriever().search(admin, SearchRequest("保修几年", sources=(SourceType.KB,)))
    report = second.indexer().sync()
    assert report.records_indexed == indexed  # everything embedded again
    assert not second.store.model_changed()
    found = second.retriever().search(admin, SearchRequest("净水器保修几年"))
    assert found and found[0].record_id in {"KB-0035", "KB-0013"}
    assert second.indexer().sync().records_indexed == 0  # and the next run is incremental
    second.close()


Opener = Callable[[str | None], VectorStore]


@pytest.fixture(params=["edge", "server"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Opener]:
    """Stores on one index, each opened for a given embedding model (or none)."""
    from qdrant_client import QdrantClient

    client = QdrantClient(path=str(tmp_path / "local"))

    def open_(model: str | None) -> VectorStore:
        if request.param == "edge":
            return EdgeStore(tmp_path / "index", model=model)
        return ServerStore(client, "chunks", model=model)

    yield open_
    client.close()


def release(store: VectorStore) -> None:
    """Close an embedded shard (one holder at a time); a server store shares the client."""
    if isinstance(store, EdgeStore):
        store.close()


def test_a_store_opened_for_another_model_refuses_clearly(opener: Opener) -> None:
    built = opener("model-a")
    built.ensure_collection(4)
    assert not built.model_changed()
    release(built)

    other = opener("model-b")
    assert other.model_changed()
    with pytest.raises(CollectionMismatchError, match=r"'model-a'.*'model-b'.*--rebuild"):
        other.count()
    with pytest.raises(CollectionMismatchError):
        other.ensure_collection(4)
    other.drop()
    other.ensure_collection(4)
    assert not other.model_changed() and other.count() == 0
    release(other)
    assert not opener(None).model_changed()  # a store not told its model cannot tell


def test_an_embedded_index_without_a_recorded_model_counts_as_changed(tmp_path: Path) -> None:
    legacy = EdgeStore(tmp_path / "index")  # as every index was built before models were recorded
    legacy.ensure_collection(4)
    legacy.close()
    reopened = EdgeStore(tmp_path / "index", model=E5_MODEL)
    assert reopened.model_changed()
    with pytest.raises(CollectionMismatchError, match="without a recorded model"):
        reopened.count()


def test_a_chinese_question_finds_the_english_only_article(e5: Runtime) -> None:
    """Each language's articles are ranked apart; Chinese words never occur in English
    articles, so English ones are ranked by meaning (and by any Latin codes) alone: the
    Chinese articles, which share the question's words, do not push the answer out."""
    with e5.sessions() as session:
        admin = principal_for(session, "U5")
    asked = {
        "饮水机冷水出口出来的是常温水": "KB-0016",
        "寄回设备之前要先申请什么编号": "KB-0018",
    }
    for question, article in asked.items():
        found = e5.retriever().search(admin, SearchRequest(question, sources=(SourceType.KB,)))
        assert article in [c.record_id for c in found], question
