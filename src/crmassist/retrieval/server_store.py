"""A Qdrant server or cluster, reached with qdrant-client by URL (plus API key).

The same adapter runs against qdrant-client's local modes (`QdrantClient(":memory:")` or
`path=...`), which speak the server API; that is how it is tested without a server. The
server optimizes in the background, so `optimize()` is a no-op.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from qdrant_client import QdrantClient, models

from crmassist.access.filters import Condition
from crmassist.access.policy import PayloadKey
from crmassist.batching import batched
from crmassist.retrieval import qdrant_query as qq
from crmassist.retrieval.store import (
    CONTENT_HASH,
    MODEL_KEY,
    ChunkPoint,
    CollectionMismatchError,
    CollectionMissingError,
    Hit,
    RecordKey,
    RecordPoints,
    SparseVector,
    model_mismatch,
    tally,
)

_SCHEMA = {"keyword": models.PayloadSchemaType.KEYWORD, "float": models.PayloadSchemaType.FLOAT}
_SERVER_DEFAULT_RRF_K = 2
_SCROLL_PAGE = 2_000
_INVENTORY_KEYS = [PayloadKey.SOURCE_TYPE, PayloadKey.RECORD_ID, CONTENT_HASH]


class ClientDialect:
    """qdrant-client's spelling of the query objects `qdrant_query` builds."""

    def match_any(self, key: str, values: list[str]) -> models.FieldCondition:
        return models.FieldCondition(key=key, match=models.MatchAny(any=values))

    def range(self, key: str, gte: float | None, lte: float | None) -> models.FieldCondition:
        return models.FieldCondition(key=key, range=models.Range(gte=gte, lte=lte))

    def filter(
        self, must: list[Any] | None = None, should: list[Any] | None = None
    ) -> models.Filter:
        return models.Filter(must=must, should=should)

    def sparse(self, vector: SparseVector) -> models.SparseVector:
        return models.SparseVector(indices=vector.indices, values=vector.values)

    def prefetch(
        self,
        query: Any,
        using: str,
        flt: models.Filter | None,
        limit: int,
        idf_corpus: models.Filter | None,
    ) -> models.Prefetch:
        idf = None if idf_corpus is None else models.IdfCorpusParams(corpus=idf_corpus)
        params = None if idf is None else models.SearchParams(idf=idf)
        return models.Prefetch(query=query, using=using, filter=flt, limit=limit, params=params)

    def rrf(self, k: int) -> models.FusionQuery | models.RrfQuery:
        """Plain RRF when k is the server default: servers before 1.16 reject a custom k."""
        if k == _SERVER_DEFAULT_RRF_K:
            return models.FusionQuery(fusion=models.Fusion.RRF)
        return models.RrfQuery(rrf=models.Rrf(k=k))


DIALECT = ClientDialect()


class ServerStore:
    """A `VectorStore` over one collection of a Qdrant server (or a local-mode client)."""

    def __init__(
        self,
        client: QdrantClient,
        collection: str,
        *,
        scoped_idf: bool = False,
        model: str | None = None,
    ) -> None:
        self.client = client
        self.collection = collection
        self.scoped_idf = scoped_idf
        self.model = model
        self._known = False  # collection seen to exist (and its model checked): one round trip

    @classmethod
    def connect(
        cls, url: str, collection: str, *, api_key: str | None = None, model: str | None = None
    ) -> ServerStore:
        return cls(QdrantClient(url=url, api_key=api_key), collection, model=model)

    # -- lifecycle ------------------------------------------------------------------

    def exists(self) -> bool:
        return self.client.collection_exists(self.collection)

    def claim(self) -> None:
        """A server serves many processes at once: nothing to take."""

    def model_changed(self) -> bool:
        """Collection metadata (Qdrant 1.16+) records the model. A collection without it (an
        older server, or made before models were recorded) cannot tell: it counts as
        unchanged, and only its vector size is checked."""
        if self.model is None or not self.exists():
            return False
        recorded = self._recorded_model()
        return recorded is not None and recorded != self.model

    def ensure_collection(self, dense_dim: int) -> None:
        if self.exists():
            self._check_model()
            self._check_dim(dense_dim)
        else:
            self.client.create_collection(
                self.collection,
                vectors_config={
                    qq.DENSE: models.VectorParams(size=dense_dim, distance=models.Distance.COSINE),
                    qq.MULTILINGUAL: models.VectorParams(
                        size=qq.MULTILINGUAL_DIM, distance=models.Distance.COSINE
                    ),
                },
                sparse_vectors_config={
                    qq.SPARSE: models.SparseVectorParams(modifier=models.Modifier.IDF)
                },
                metadata={MODEL_KEY: self.model} if self.model else None,
            )
        self._known = True
        existing = self.client.get_collection(self.collection).payload_schema
        for key, kind in qq.missing_indexes(existing):
            self.client.create_payload_index(self.collection, key, field_schema=_SCHEMA[kind])

    def _check_dim(self, dense_dim: int) -> None:
        vectors = self.client.get_collection(self.collection).config.params.vectors
        params = vectors.get(qq.DENSE) if isinstance(vectors, dict) else None
        if params is None or params.size != dense_dim:
            found = params.size if params else "no named dense vector"
            raise CollectionMismatchError(
                f"collection {self.collection!r} has dense size {found}, expected {dense_dim}"
            )
        if not isinstance(vectors, dict) or qq.MULTILINGUAL not in vectors:
            raise CollectionMismatchError(
                f"collection {self.collection!r} predates the multilingual knowledge-base "
                "vector; run `crmassist index --rebuild`"
            )

    def optimize(self) -> None:
        """The server indexes in the background; nothing to do."""

    def drop(self) -> None:
        self.client.delete_collection(self.collection)
        self._known = False

    def close(self) -> None:
        self.client.close()

    def _recorded_model(self) -> str | None:
        metadata = self.client.get_collection(self.collection).config.metadata or {}
        recorded = metadata.get(MODEL_KEY)
        return str(recorded) if recorded is not None else None

    def _check_model(self) -> None:
        if self.model_changed():
            where = f"in collection {self.collection!r}"
            raise model_mismatch(where, self._recorded_model(), str(self.model))

    def _require(self) -> str:
        if not self._known:
            if not self.exists():
                raise CollectionMissingError(f"no collection {self.collection!r}; run the indexer")
            self._check_model()
            self._known = True
        return self.collection

    # -- data -----------------------------------------------------------------------

    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        name = self._require()
        for batch in batched(points, qq.UPSERT_BATCH):
            self.client.upsert(name, points=[_point(p) for p in batch], wait=True)

    def delete_by_filter(self, condition: Condition) -> None:
        flt = qq.delete_filter(DIALECT, condition)
        if flt is not None:
            selector = models.FilterSelector(filter=flt)
            self.client.delete(self._require(), points_selector=selector, wait=True)

    def hybrid_search(
        self,
        dense: Sequence[float],
        sparse: SparseVector,
        condition: Condition,
        limit: int,
        using: str = qq.DENSE,
    ) -> list[Hit]:
        query = qq.hybrid_query(
            DIALECT, dense, sparse, condition, limit, scoped_idf=self.scoped_idf, using=using
        )
        if query is None:
            return []
        response = self.client.query_points(
            self._require(),
            prefetch=query.prefetches,
            query=query.fusion,
            query_filter=query.filter,
            limit=query.limit,
            with_payload=True,
        )
        return [Hit(str(p.id), p.score, dict(p.payload or {})) for p in response.points]

    def count(self, condition: Condition | None = None) -> int:
        flt = qq.engine_filter(DIALECT, condition)
        if flt is False:
            return 0
        result = self.client.count(self._require(), count_filter=qq.filter_or_none(flt), exact=True)
        return result.count

    def inventory(self) -> dict[RecordKey, RecordPoints]:
        found: dict[RecordKey, RecordPoints] = {}
        for payload in self.payloads(_INVENTORY_KEYS):
            tally(found, payload)
        return found

    def payloads(self, keys: Sequence[str]) -> Iterator[dict[str, Any]]:
        name, offset = self._require(), None
        while True:
            records, offset = self.client.scroll(
                name,
                limit=_SCROLL_PAGE,
                offset=offset,
                with_payload=models.PayloadSelectorInclude(include=list(keys)),
                with_vectors=False,
            )
            for record in records:
                yield dict(record.payload or {})
            if offset is None:
                return


def _point(point: ChunkPoint) -> models.PointStruct:
    vectors: dict[str, Any] = {qq.DENSE: list(point.dense), qq.SPARSE: DIALECT.sparse(point.sparse)}
    if point.multilingual is not None:
        vectors[qq.MULTILINGUAL] = list(point.multilingual)
    return models.PointStruct(id=point.id, vector=vectors, payload=dict(point.payload))
