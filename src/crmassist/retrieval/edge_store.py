"""The embedded default: Qdrant's engine in-process (qdrant-edge `EdgeShard`), on disk.

Durability: every update goes to the shard's write-ahead log first, so a crash loses nothing
that `upsert` returned from; `close()` flushes segments so the next open skips WAL replay.
Speed: nothing runs in the background. New points land in plain (brute-force) segments until
`optimize()` builds HNSW and sparse indexes — call it after a large load. The shard directory
is locked while open: one process at a time.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from qdrant_edge import (
    CountRequest,
    Distance,
    EdgeConfig,
    EdgeShard,
    EdgeSparseVectorParams,
    EdgeVectorParams,
    FieldCondition,
    Filter,
    Fusion,
    MatchAny,
    Modifier,
    PayloadSchemaType,
    Point,
    Prefetch,
    Query,
    QueryRequest,
    RangeFloat,
    SearchParams,
    UpdateOperation,
)
from qdrant_edge import IdfParams as EdgeIdfParams
from qdrant_edge import SparseVector as EdgeSparseVector

from crmassist.access.filters import Condition
from crmassist.batching import batched
from crmassist.retrieval import qdrant_query as qq
from crmassist.retrieval.store import (
    MODEL_KEY,
    ChunkPoint,
    CollectionMismatchError,
    CollectionMissingError,
    Hit,
    SparseVector,
    StoreInUseError,
    model_mismatch,
)

_SCHEMA = {"keyword": PayloadSchemaType.Keyword, "float": PayloadSchemaType.Float}
_CONFIG_FILE = "edge_config.json"  # written by EdgeShard.create: marks a complete shard
_MODEL_FILE = "crmassist_model.json"  # ours, beside the shard: the embedding model it holds


class EdgeDialect:
    """qdrant-edge's spelling of the query objects `qdrant_query` builds."""

    def match_any(self, key: str, values: list[str]) -> FieldCondition:
        return FieldCondition(key, match=MatchAny(values))

    def range(self, key: str, gte: float | None, lte: float | None) -> FieldCondition:
        return FieldCondition(key, range=RangeFloat(gte=gte, lte=lte))

    def filter(self, must: list[Any] | None = None, should: list[Any] | None = None) -> Filter:
        return Filter(must=must, should=should)

    def sparse(self, vector: SparseVector) -> EdgeSparseVector:
        return EdgeSparseVector(vector.indices, vector.values)

    def prefetch(
        self, query: Any, using: str, flt: Filter | None, limit: int, idf_corpus: Filter | None
    ) -> Prefetch:
        params = None if idf_corpus is None else SearchParams(idf=EdgeIdfParams(corpus=idf_corpus))
        return Prefetch(limit, query=Query.Nearest(query, using=using), filter=flt, params=params)

    def rrf(self, k: int) -> Fusion.Rrf:
        return Fusion.Rrf(k=k)


DIALECT = EdgeDialect()


def _config(dense_dim: int) -> EdgeConfig:
    return EdgeConfig(
        vectors={qq.DENSE: EdgeVectorParams(size=dense_dim, distance=Distance.Cosine)},
        sparse_vectors={qq.SPARSE: EdgeSparseVectorParams(modifier=Modifier.Idf)},
    )


class EdgeStore:
    """A `VectorStore` in one shard directory; opened lazily, kept open until `close()`.

    With `model`, the shard records the embedding model on creation and refuses to be
    opened for another one (the engine only knows vector sizes, and two 384-d models fit).
    """

    def __init__(self, path: Path, *, scoped_idf: bool = False, model: str | None = None) -> None:
        self.path = Path(path)
        self.scoped_idf = scoped_idf
        self.model = model
        self._shard: EdgeShard | None = None
        self._opening = threading.Lock()  # concurrent first calls (web workers) open it once

    # -- lifecycle ------------------------------------------------------------------

    def exists(self) -> bool:
        return self._shard is not None or (self.path / _CONFIG_FILE).is_file()

    def model_changed(self) -> bool:
        return self.model is not None and self.exists() and self._recorded_model() != self.model

    def ensure_collection(self, dense_dim: int) -> None:
        config = _config(dense_dim)
        if self.exists():
            self._check_model()
            self.close()  # reopen with the expected config: the engine checks compatibility
            self._shard = _load(self.path, config)
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            self._shard = EdgeShard.create(str(self.path), config)
            if self.model is not None:
                (self.path / _MODEL_FILE).write_text(json.dumps({MODEL_KEY: self.model}))
        shard = self._shard
        for key, kind in qq.missing_indexes(shard.info().payload_schema):
            shard.update(UpdateOperation.create_field_index(key, _SCHEMA[kind]))

    def optimize(self) -> None:
        """Build HNSW/sparse indexes and vacuum deletes; blocks (about 50 s per 100k points)."""
        self._require().optimize()

    def drop(self) -> None:
        self.close()
        shutil.rmtree(self.path, ignore_errors=True)

    def close(self) -> None:
        if self._shard is not None:
            shard, self._shard = self._shard, None
            shard.flush()
            shard.close()

    def _require(self) -> EdgeShard:
        with self._opening:
            if self._shard is None:
                if not self.exists():
                    raise CollectionMissingError(f"no index at {self.path}; run the indexer")
                self._check_model()
                self._shard = _load(self.path, None)
            return self._shard

    def _recorded_model(self) -> str | None:
        try:
            recorded = json.loads((self.path / _MODEL_FILE).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None  # an index from before models were recorded: unknown
        return str(recorded.get(MODEL_KEY)) if isinstance(recorded, dict) else None

    def _check_model(self) -> None:
        if self.model_changed():
            raise model_mismatch(f"at {self.path}", self._recorded_model(), str(self.model))

    # -- data -----------------------------------------------------------------------

    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        shard = self._require()
        for batch in batched(points, qq.UPSERT_BATCH):
            shard.update(UpdateOperation.upsert_points([_point(p) for p in batch]))

    def delete_by_filter(self, condition: Condition) -> None:
        flt = qq.delete_filter(DIALECT, condition)
        if flt is not None:
            self._require().update(UpdateOperation.delete_points_by_filter(flt))

    def hybrid_search(
        self, dense: Sequence[float], sparse: SparseVector, condition: Condition, limit: int
    ) -> list[Hit]:
        query = qq.hybrid_query(
            DIALECT, dense, sparse, condition, limit, scoped_idf=self.scoped_idf
        )
        if query is None:
            return []
        request = QueryRequest(
            limit=query.limit,
            prefetches=query.prefetches,
            query=query.fusion,
            filter=query.filter,
            with_payload=True,
        )
        return [
            Hit(str(p.id), p.score, dict(p.payload or {})) for p in self._require().query(request)
        ]

    def count(self, condition: Condition | None = None) -> int:
        flt = qq.engine_filter(DIALECT, condition)
        if flt is False:
            return 0
        return self._require().count(CountRequest(exact=True, filter=qq.filter_or_none(flt)))


def _point(point: ChunkPoint) -> Point:
    vectors: dict[str, Any] = {qq.DENSE: list(point.dense), qq.SPARSE: DIALECT.sparse(point.sparse)}
    return Point(point.id, vectors, dict(point.payload))


def _load(path: Path, config: EdgeConfig | None) -> EdgeShard:
    """Open an existing shard, turning the engine's generic errors into ours."""
    try:
        return EdgeShard.load(str(path), config)
    except Exception as exc:  # qdrant-edge raises bare Exception with a message
        message = str(exc)
        if "WouldBlock" in message:
            raise StoreInUseError(f"{path} is open in another process") from exc
        if "incompatible" in message.lower():
            raise CollectionMismatchError(f"{path}: {message}") from exc
        raise
