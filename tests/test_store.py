"""One contract for both vector-store adapters: qdrant-edge on disk and qdrant-client.

The client runs in its in-memory local mode, which speaks the server API. Expected results
come from `holds`, a plain-Python reading of the filter algebra, so every filter form is
checked against its meaning rather than against either engine.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from qdrant_client import QdrantClient

from crmassist.access.filters import (
    DENY_ALL,
    AllOf,
    AnyOf,
    Condition,
    Match,
    Range,
    all_of,
    any_of,
    match,
)
from crmassist.access.policy import PayloadKey as K
from crmassist.access.policy import retrieval_filter
from crmassist.access.principal import Principal
from crmassist.domain.enums import Role, SourceType
from crmassist.retrieval.edge_store import EdgeStore
from crmassist.retrieval.server_store import ServerStore
from crmassist.retrieval.sparse import Bm25Encoder
from crmassist.retrieval.store import (
    ChunkPoint,
    CollectionMismatchError,
    CollectionMissingError,
    Hit,
    SparseVector,
    StoreInUseError,
    VectorStore,
    open_store,
)
from crmassist.settings import Settings

pytestmark = pytest.mark.filterwarnings("ignore:Payload indexes have no effect:UserWarning")

DIM = 384
DAY = 86_400.0
T0 = 1_700_000_000.0
EVERYTHING = all_of()
BM25 = Bm25Encoder()
NO_TERMS = SparseVector([], [])


def unit(seed: int) -> list[float]:
    v = np.random.default_rng(seed).standard_normal(DIM)
    return (v / np.linalg.norm(v)).tolist()


CROWD = np.asarray(unit(77))  # the dense neighbourhood of the "keyword" queries


def near_crowd(i: int) -> list[float]:
    v = CROWD + 0.2 * np.asarray(unit(1000 + i))
    return (v / np.linalg.norm(v)).tolist()


@dataclass(frozen=True)
class Doc:
    name: str
    text: str
    payload: dict[str, Any]
    dense: list[float]

    @property
    def id(self) -> str:
        return str(uuid.uuid5(uuid.NAMESPACE_URL, self.name))

    def point(self) -> ChunkPoint:
        payload = {**self.payload, "text": self.text}
        return ChunkPoint(self.id, self.dense, BM25.embed_documents([self.text])[0], payload)


def crm(owner: str, account: str, **extra: Any) -> dict[str, Any]:
    """A record owned by `owner` on an account `owner` owns too."""
    return {K.OWNER_ID: owner, K.ACCOUNT_OWNER_ID: owner, K.ACCOUNT_ID: account, **extra}


KB, NOTE, TICKET, ACCOUNT = (SourceType.KB, SourceType.INTERACTION, SourceType.TICKET,
                             SourceType.ACCOUNT)  # fmt: skip
CORPUS: list[tuple[str, SourceType, str, dict[str, Any]]] = [
    ("kb-pub", KB, "How to descale a water dispenser", {K.AUDIENCE: "public"}),
    ("kb-int", KB, "Discount approval rules for sales reps", {K.AUDIENCE: "internal"}),
    ("note-u1", NOTE, "Call with Acme about the pump order",
     crm("u1", "A1", labels=["vip", "water"])),
    ("note-u2", NOTE, "Hotel wants twelve dispensers with a lilac front panel",
     crm("u2", "A2")),
    ("ticket-u1", TICKET, "Sync fails with error E-1042 after the firmware update",
     crm("u1", "A1", labels=["vip"])),
    ("ticket-zh", TICKET, "客户投诉净水器漏水，要求上门维修", crm("u2", "A3", lang="zh")),
    ("account-a2", ACCOUNT, "Account profile of Harbor Hotel", crm("u2", "A2")),
]  # fmt: skip


def build_docs() -> list[Doc]:
    """The i-th row happens on day i; five "crowd" notes sit in CROWD's dense neighbourhood."""
    rows = CORPUS + [
        (f"crowd-{i}", NOTE, f"Routine visit report {i} about filters", crm("u1", "A1"))
        for i in range(5)
    ]
    docs = []
    for day, (name, source, text, extra) in enumerate(rows):
        payload: dict[str, Any] = {K.SOURCE_TYPE: str(source), K.RECORD_ID: name, K.LANG: "en"}
        payload |= {K.OCCURRED_AT: T0 + day * DAY, **extra}
        dense = near_crowd(day) if name.startswith("crowd") else unit(day + 1)
        docs.append(Doc(name, text, payload, dense))
    return docs


DOCS = build_docs()
BY_NAME = {d.name: d for d in DOCS}
BY_ID = {d.id: d for d in DOCS}

REP_U1 = Principal("u1", Role.REP, "west")
REP_U2 = Principal("u2", Role.REP, "east")


def holds(condition: Condition, payload: dict[str, Any]) -> bool:
    """The filter algebra's meaning, in plain Python."""
    if isinstance(condition, Match):
        value = payload.get(condition.key)
        values = value if isinstance(value, list) else [value]
        return any(v in condition.values for v in values)
    if isinstance(condition, Range):
        value = payload.get(condition.key)
        return isinstance(value, float) and (
            (condition.gte is None or value >= condition.gte)
            and (condition.lte is None or value <= condition.lte)
        )
    if isinstance(condition, AllOf):
        return all(holds(c, payload) for c in condition.conditions)
    return any(holds(c, payload) for c in condition.conditions)


def names(hits: list[Hit]) -> list[str]:
    return [BY_ID[h.id].name for h in hits]


# -- fixtures ---------------------------------------------------------------------------


@pytest.fixture(params=["edge", "client"])
def opener(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], VectorStore]]:
    """Opens (and reopens) one store's backing: a shard directory or one client."""
    opened: list[VectorStore] = []
    client = QdrantClient(":memory:")

    def open_() -> VectorStore:
        store: VectorStore
        if request.param == "edge":
            store = EdgeStore(tmp_path / "index")
        else:
            store = ServerStore(client, "chunks")
        opened.append(store)
        return store

    yield open_
    for store in opened:
        if isinstance(store, EdgeStore):
            store.close()
    client.close()


@pytest.fixture
def empty(opener: Callable[[], VectorStore]) -> VectorStore:
    store = opener()
    store.ensure_collection(DIM)
    return store


@pytest.fixture
def store(empty: VectorStore) -> VectorStore:
    empty.upsert([d.point() for d in DOCS])
    return empty


# -- search -----------------------------------------------------------------------------


def test_search_returns_the_best_match_with_its_payload(store: VectorStore) -> None:
    target = BY_NAME["note-u2"]
    hits = store.hybrid_search(target.dense, BM25.embed_query(target.text), EVERYTHING, 3)
    assert names(hits)[0] == "note-u2"
    assert hits[0].payload == {**target.payload, "text": target.text}
    assert hits[0].score > hits[1].score


@pytest.mark.parametrize(
    ("query", "target"),
    [("E-1042", "ticket-u1"), ("1042", "ticket-u1"), ("漏水", "ticket-zh")],
)
def test_bm25_finds_an_exact_term_that_dense_alone_misses(
    store: VectorStore, query: str, target: str
) -> None:
    dense_only = store.hybrid_search(CROWD.tolist(), NO_TERMS, EVERYTHING, 3)
    assert target not in names(dense_only)
    hybrid = store.hybrid_search(CROWD.tolist(), BM25.embed_query(query), EVERYTHING, 3)
    assert names(hybrid)[0] == target


def test_forbidden_best_match_never_comes_back(store: VectorStore) -> None:
    """The filter is inside the query: no limit is large enough to reach a forbidden point."""
    target = BY_NAME["note-u2"]
    dense, sparse = target.dense, BM25.embed_query(target.text)
    assert names(store.hybrid_search(dense, sparse, retrieval_filter(REP_U2), 1)) == ["note-u2"]
    condition = retrieval_filter(REP_U1)
    hits = store.hybrid_search(dense, sparse, condition, 1000)
    assert hits and "note-u2" not in names(hits)
    assert all(holds(condition, BY_ID[h.id].payload) for h in hits)


def test_non_positive_limit_returns_nothing(store: VectorStore) -> None:
    assert store.hybrid_search(unit(1), NO_TERMS, EVERYTHING, 0) == []


FILTERS: dict[str, Condition] = {
    "match-one": match(K.OWNER_ID, "u1"),
    "match-many": match(K.SOURCE_TYPE, SourceType.TICKET, SourceType.KB),
    "match-in-list": match("labels", "water"),
    "match-none-of-nothing": Match(K.OWNER_ID, ()),
    "range-closed": Range(K.OCCURRED_AT, gte=T0 + 1 * DAY, lte=T0 + 4 * DAY),
    "range-from": Range(K.OCCURRED_AT, gte=T0 + 8 * DAY),
    "range-until": Range(K.OCCURRED_AT, lte=T0 + 2 * DAY),
    "all-of-any": all_of(
        match(K.LANG, "en"), any_of(match(K.OWNER_ID, "u2"), match(K.AUDIENCE, "public"))
    ),
    "rep-policy": retrieval_filter(REP_U1),
    "manager-policy": retrieval_filter(
        Principal("m", Role.MANAGER, "east", reach=frozenset({"u2"}))
    ),
    "support-policy-since": all_of(
        retrieval_filter(Principal("s", Role.SUPPORT)), Range(K.OCCURRED_AT, gte=T0 + 3 * DAY)
    ),
    "deny-all": DENY_ALL,
    "any-of-deny-and-match": any_of(DENY_ALL, match(K.ACCOUNT_ID, "A2")),
    "all-of-match-and-deny": all_of(match(K.LANG, "en"), DENY_ALL),
    "everything": EVERYTHING,
    "nested-empty-groups": any_of(all_of(), AnyOf(())),
}


@pytest.mark.parametrize("name", FILTERS)
def test_every_filter_form_means_what_it_says(store: VectorStore, name: str) -> None:
    condition = FILTERS[name]
    expected = {d.name for d in DOCS if holds(condition, d.payload)}
    hits = store.hybrid_search(unit(99), BM25.embed_query("dispenser"), condition, 100)
    assert set(names(hits)) == expected
    assert store.count(condition) == len(expected)


def test_deny_all_finds_counts_and_deletes_nothing(store: VectorStore) -> None:
    assert store.hybrid_search(DOCS[0].dense, NO_TERMS, DENY_ALL, 100) == []
    store.delete_by_filter(DENY_ALL)
    assert store.count() == store.count(EVERYTHING) == len(DOCS)


def test_scoped_idf_is_accepted_and_still_filters(
    store: VectorStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "scoped_idf", True)
    target = BY_NAME["note-u2"]
    condition = retrieval_filter(REP_U1)
    hits = store.hybrid_search(target.dense, BM25.embed_query(target.text), condition, 100)
    assert hits and all(holds(condition, BY_ID[h.id].payload) for h in hits)


# -- writes -----------------------------------------------------------------------------


def test_delete_by_filter_removes_all_chunks_of_some_records(store: VectorStore) -> None:
    gone = match(K.RECORD_ID, "note-u1", "crowd-0")
    store.delete_by_filter(gone)
    assert store.count(gone) == 0
    assert store.count() == len(DOCS) - 2
    hits = store.hybrid_search(BY_NAME["note-u1"].dense, NO_TERMS, EVERYTHING, 100)
    assert not {"note-u1", "crowd-0"} & set(names(hits))


def test_delete_by_the_empty_condition_clears_the_collection(store: VectorStore) -> None:
    store.delete_by_filter(EVERYTHING)
    assert store.count() == 0 and store.exists()


def test_upsert_overwrites_by_id(store: VectorStore) -> None:
    changed = Doc("kb-pub", "How to descale a water dispenser", {"audience": "internal"}, unit(1))
    store.upsert([changed.point()])
    assert store.count() == len(DOCS)
    assert store.count(match(K.AUDIENCE, "public")) == 0


def test_empty_sparse_vectors_are_stored_and_queried(empty: VectorStore) -> None:
    blank = Doc("blank", "", {K.LANG: "en"}, unit(3)).point()
    assert blank.sparse == NO_TERMS
    empty.upsert([blank])
    assert [h.id for h in empty.hybrid_search(unit(3), NO_TERMS, EVERYTHING, 5)] == [blank.id]


def test_upsert_in_several_batches(empty: VectorStore) -> None:
    many = [Doc(f"bulk-{i}", f"bulk text {i}", {K.LANG: "en"}, unit(i)).point() for i in range(600)]
    empty.upsert(many)
    assert empty.count() == 600


# -- lifecycle --------------------------------------------------------------------------


def test_ensure_collection_is_idempotent_and_checks_the_size(store: VectorStore) -> None:
    store.ensure_collection(DIM)
    assert store.count() == len(DOCS)
    with pytest.raises(CollectionMismatchError):
        store.ensure_collection(DIM + 1)


def test_missing_collection(opener: Callable[[], VectorStore]) -> None:
    store = opener()
    assert not store.exists()
    with pytest.raises(CollectionMissingError):
        store.count()
    with pytest.raises(CollectionMissingError):
        store.hybrid_search(unit(1), NO_TERMS, EVERYTHING, 5)


def test_drop_then_rebuild(store: VectorStore) -> None:
    store.drop()
    assert not store.exists()
    store.ensure_collection(DIM)
    assert store.exists() and store.count() == 0


@pytest.mark.parametrize("engine", ["edge", "client-on-disk"])
def test_reopen_finds_what_was_written(tmp_path: Path, engine: str) -> None:
    def open_() -> VectorStore:
        if engine == "edge":
            return EdgeStore(tmp_path / "index")
        return ServerStore(QdrantClient(path=str(tmp_path / "local")), "chunks")

    store = open_()
    store.ensure_collection(DIM)
    store.upsert([d.point() for d in DOCS])
    store.optimize()
    store.close()
    again = open_()
    assert again.exists() and again.count() == len(DOCS)
    hits = again.hybrid_search(CROWD.tolist(), BM25.embed_query("E-1042"), EVERYTHING, 3)
    assert names(hits)[0] == "ticket-u1"
    again.close()


# -- engine specifics -------------------------------------------------------------------


def test_edge_indexes_every_filterable_payload_field(tmp_path: Path) -> None:
    store = EdgeStore(tmp_path / "index")
    store.ensure_collection(DIM)
    schema = store._require().info().payload_schema
    assert set(schema) == {*K.FILTERABLE_KEYWORDS, *K.FILTERABLE_NUMBERS}
    assert {str(schema[k].data_type) for k in K.FILTERABLE_NUMBERS} == {"PayloadSchemaType.Float"}
    store.close()


def test_edge_index_is_held_by_one_store_at_a_time(tmp_path: Path) -> None:
    first = EdgeStore(tmp_path / "index")
    first.ensure_collection(DIM)
    with pytest.raises(StoreInUseError):
        EdgeStore(tmp_path / "index").count()
    first.close()
    assert EdgeStore(tmp_path / "index").count() == 0


def test_edge_store_opens_once_under_concurrent_first_calls(tmp_path: Path) -> None:
    seed = EdgeStore(tmp_path / "index")
    seed.ensure_collection(DIM)
    seed.close()
    store = EdgeStore(tmp_path / "index")
    with ThreadPoolExecutor(8) as pool:
        assert list(pool.map(lambda _: store.count(), range(8))) == [0] * 8
    store.close()


def test_open_store_picks_the_adapter(tmp_path: Path) -> None:
    embedded = open_store(Settings(data_dir=tmp_path, collection="c1"))
    assert isinstance(embedded, EdgeStore) and embedded.path == tmp_path / "qdrant" / "c1"
    client = QdrantClient(":memory:")
    server = open_store(Settings(data_dir=tmp_path, qdrant_url="http://q:6333"), client=client)
    assert isinstance(server, ServerStore) and server.client is client
    client.close()
