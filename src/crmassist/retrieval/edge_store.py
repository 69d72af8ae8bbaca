"""The embedded default: Qdrant's engine in-process (qdrant-edge `EdgeShard`), on disk.

Durability: every update goes to the shard's write-ahead log first, so a crash loses nothing
that `upsert` returned from; `close()` flushes segments so the next open skips WAL replay.
Speed: nothing runs in the background. New points land in plain (brute-force) segments until
`optimize()` builds HNSW and sparse indexes — call it after a large load.

One process per shard: the engine locks the directory while open, and `OwnerLock` (a lock
file beside it with the holder's pid and command) says *which* process holds it, and lets
a command check before it writes anything. Inside the process, `_Gate` keeps searches and
writes from ever meeting a shard that is being opened, reopened or closed.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
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
    PayloadSelector,
    Point,
    Prefetch,
    Query,
    QueryRequest,
    RangeFloat,
    ScrollRequest,
    SearchParams,
    UpdateOperation,
)
from qdrant_edge import IdfParams as EdgeIdfParams
from qdrant_edge import SparseVector as EdgeSparseVector

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
    IndexCorrupted,
    RecordKey,
    RecordPoints,
    SparseVector,
    StoreInUseError,
    model_mismatch,
    tally,
)

_SCHEMA = {"keyword": PayloadSchemaType.Keyword, "float": PayloadSchemaType.Float}
_CONFIG_FILE = "edge_config.json"  # written by EdgeShard.create: marks a complete shard
_MODEL_FILE = "crmassist_model.json"  # ours, beside the shard: the embedding model it holds
_SCROLL_PAGE = 2_000
_INVENTORY_KEYS = [PayloadKey.SOURCE_TYPE, PayloadKey.RECORD_ID, CONTENT_HASH]


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
        vectors={
            qq.DENSE: EdgeVectorParams(size=dense_dim, distance=Distance.Cosine),
            qq.MULTILINGUAL: EdgeVectorParams(size=qq.MULTILINGUAL_DIM, distance=Distance.Cosine),
        },
        sparse_vectors={qq.SPARSE: EdgeSparseVectorParams(modifier=Modifier.Idf)},
    )


class OwnerLock:
    """An exclusive `flock` on `<shard>.lock`, holding the owner's pid and command.

    The kernel drops it when the process dies, so a killed server leaves nothing stale;
    the file's text only serves to name the holder to the process that is turned away.
    """

    def __init__(self, shard: Path) -> None:
        self.shard = shard
        self.path = shard.with_name(shard.name + ".lock")
        self._fd: int | None = None

    def acquire(self) -> None:
        if self._fd is not None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _read_holder(fd)
            os.close(fd)
            raise in_use(self.shard, holder) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(_me()).encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)


def _me() -> dict[str, Any]:
    command = " ".join([Path(sys.argv[0]).name, *sys.argv[1:]]) if sys.argv else "python"
    return {"pid": os.getpid(), "command": command[:120], "since": datetime.now(UTC).isoformat()}


def _read_holder(fd: int) -> dict[str, Any]:
    try:
        holder = json.loads(os.pread(fd, 4096, 0) or b"{}")
    except (OSError, ValueError):
        return {}
    return holder if isinstance(holder, dict) else {}


def in_use(shard: Path, holder: dict[str, Any]) -> StoreInUseError:
    """One line that says who holds the index and what to do about it."""
    who = f"process {holder['pid']}" if holder.get("pid") else "another process"
    if holder.get("command"):
        who += f" ({holder['command']})"
    return StoreInUseError(
        f"the index {shard} is in use by {who}: the embedded engine serves one process per "
        "data directory; stop that process first, or use the service it runs"
    )


class _Gate:
    """Shared for searches and writes, exclusive for opening and closing the shard.

    Waiting openers go first, so a steady stream of searches cannot starve a reopen.
    Not reentrant: an operation never takes the gate twice.
    """

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._users = 0
        self._owner = False
        self._waiting = 0

    @contextmanager
    def shared(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._owner and not self._waiting)
            self._users += 1
        try:
            yield
        finally:
            with self._cond:
                self._users -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self) -> Iterator[None]:
        with self._cond:
            self._waiting += 1
            self._cond.wait_for(lambda: not self._owner and not self._users)
            self._waiting -= 1
            self._owner = True
        try:
            yield
        finally:
            with self._cond:
                self._owner = False
                self._cond.notify_all()


class EdgeStore:
    """A `VectorStore` in one shard directory; opened lazily, kept open until `close()`.

    With `model`, the shard records the embedding model on creation and refuses to be
    opened for another one (the engine only knows vector sizes, and two 384-d models fit).
    A shard directory that disappears or is replaced while open is noticed on the next
    operation: it counts as missing, and a new one is opened instead of the stale handle.
    """

    def __init__(self, path: Path, *, scoped_idf: bool = False, model: str | None = None) -> None:
        self.path = Path(path)
        self.scoped_idf = scoped_idf
        self.model = model
        self.owner = OwnerLock(self.path)
        self._shard: EdgeShard | None = None
        self._checked: int | None = None  # the dense size the engine checked on opening
        self._identity: tuple[int, int] | None = None  # the config file the shard came from
        self._gate = _Gate()

    # -- lifecycle ------------------------------------------------------------------

    def exists(self) -> bool:
        return (self.path / _CONFIG_FILE).is_file()

    def claim(self) -> None:
        self.owner.acquire()

    def model_changed(self) -> bool:
        return self.model is not None and self.exists() and self._recorded_model() != self.model

    def ensure_collection(self, dense_dim: int) -> None:
        with self._gate.exclusive():
            self._drop_stale()
            if self._shard is None or self._checked != dense_dim:
                self._open_checked(dense_dim)
            shard = self._shard
            assert shard is not None
            for key, kind in qq.missing_indexes(shard.info().payload_schema):
                shard.update(UpdateOperation.create_field_index(key, _SCHEMA[kind]))

    def _open_checked(self, dense_dim: int) -> None:
        """Open (or create) with the expected config; the engine checks compatibility."""
        config = _config(dense_dim)
        self.claim()
        self._close_shard()
        if self.exists():
            self._check_model()
            self._shard = _load(self.path, config)
        else:
            self.path.mkdir(parents=True, exist_ok=True)
            self._shard = EdgeShard.create(str(self.path), config)
            if self.model is not None:
                (self.path / _MODEL_FILE).write_text(json.dumps({MODEL_KEY: self.model}))
        self._checked = dense_dim
        self._identity = self._config_identity()

    def optimize(self) -> None:
        """Build HNSW/sparse indexes and vacuum deletes; blocks (about 50 s per 100k points)."""
        with self._use() as shard:
            shard.optimize()

    def copy_to(self, target: Path) -> int:
        """Copy the shard's files into `target` (a backup); the number of points copied.

        Flushed first, so the copy opens without replaying the write-ahead log. The
        caller keeps writers out meanwhile (the runtime's index lock: every write holds
        it); searches go on.
        """
        with self._use() as shard:
            shard.flush()
            shutil.copytree(self.path, target)
            return shard.count(CountRequest(exact=True))

    def drop(self) -> None:
        with self._gate.exclusive():
            self._close_shard()
            shutil.rmtree(self.path, ignore_errors=True)

    def close(self) -> None:
        with self._gate.exclusive():
            self._close_shard()
        self.owner.release()

    def _close_shard(self, flush: bool = True) -> None:
        if self._shard is not None:
            shard, self._shard = self._shard, None
            self._checked, self._identity = None, None
            try:
                if flush:
                    shard.flush()
            finally:
                shard.close()

    @contextmanager
    def _use(self) -> Iterator[EdgeShard]:
        """The open shard, opened first if need be; it stays open while the caller uses it."""
        with self._gate.shared():
            if self._shard is not None and self._config_identity() == self._identity:
                yield self._shard
                return
        with self._gate.exclusive():
            self._drop_stale()
            if self._shard is None:
                if not self.exists():
                    raise CollectionMissingError(f"no index at {self.path}; run `crmassist index`")
                self.claim()
                self._check_model()
                self._shard = _load(self.path, None)
                self._identity = self._config_identity()
        with self._use() as shard:  # once more, shared: the shard is open now
            yield shard

    def _require(self) -> EdgeShard:
        """The open shard, for a look at the engine's own view (tests); not gated."""
        with self._use() as shard:
            return shard

    def _drop_stale(self) -> None:
        """Forget a shard whose directory was deleted or replaced since it was opened."""
        if self._shard is not None and self._config_identity() != self._identity:
            self._close_shard(flush=False)  # its files are gone: nothing to flush into

    def _config_identity(self) -> tuple[int, int] | None:
        try:
            stat = (self.path / _CONFIG_FILE).stat()
        except OSError:
            return None
        return (stat.st_dev, stat.st_ino)

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
        with self._use() as shard:
            for batch in batched(points, qq.UPSERT_BATCH):
                shard.update(UpdateOperation.upsert_points([_point(p) for p in batch]))

    def delete_by_filter(self, condition: Condition) -> None:
        flt = qq.delete_filter(DIALECT, condition)
        if flt is not None:
            with self._use() as shard:
                shard.update(UpdateOperation.delete_points_by_filter(flt))

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
        request = QueryRequest(
            limit=query.limit,
            prefetches=query.prefetches,
            query=query.fusion,
            filter=query.filter,
            with_payload=True,
        )
        with self._use() as shard:
            points = shard.query(request)
        return [Hit(str(p.id), p.score, dict(p.payload or {})) for p in points]

    def count(self, condition: Condition | None = None) -> int:
        flt = qq.engine_filter(DIALECT, condition)
        if flt is False:
            return 0
        with self._use() as shard:
            return shard.count(CountRequest(exact=True, filter=qq.filter_or_none(flt)))

    def inventory(self) -> dict[RecordKey, RecordPoints]:
        found: dict[RecordKey, RecordPoints] = {}
        for payload in self.payloads(_INVENTORY_KEYS):
            tally(found, payload)
        return found

    def payloads(self, keys: Sequence[str]) -> Iterator[dict[str, Any]]:
        offset = None
        with self._use() as shard:
            while True:
                records, offset = shard.scroll(
                    ScrollRequest(
                        offset=offset,
                        limit=_SCROLL_PAGE,
                        with_payload=PayloadSelector.Include(list(keys)),
                        with_vector=False,
                    )
                )
                for record in records:
                    yield dict(record.payload or {})
                if offset is None:
                    return


def _point(point: ChunkPoint) -> Point:
    vectors: dict[str, Any] = {qq.DENSE: list(point.dense), qq.SPARSE: DIALECT.sparse(point.sparse)}
    if point.multilingual is not None:
        vectors[qq.MULTILINGUAL] = list(point.multilingual)
    return Point(point.id, vectors, dict(point.payload))


def _short(message: str, path: Path) -> str:
    """The engine's message without its boilerplate: paths inside the shard, relative."""
    text = " ".join(message.split()).replace("Service runtime error: ", "")
    return text.replace(f"{path}/", "")[:240]


def _load(path: Path, config: EdgeConfig | None) -> EdgeShard:
    """Open an existing shard, turning the engine's generic errors into ours."""
    try:
        return EdgeShard.load(str(path), config)
    except Exception as exc:  # qdrant-edge raises bare Exception with a message
        message = str(exc)
        if "WouldBlock" in message:
            raise in_use(path, {}) from exc
        if "incompatible" in message.lower():
            raise CollectionMismatchError(f"{path}: {message}") from exc
        reason = _short(message, path)
        raise IndexCorrupted(
            f"the index {path} cannot be read ({reason}); run `crmassist index` to rebuild it"
        ) from exc
