"""The vector-store interface: one small protocol, two Qdrant adapters behind it.

The embedded default runs Qdrant's own engine in-process (`edge_store`); a Qdrant server or
cluster is reached by URL (`server_store`). Both build their filters and hybrid queries with
`qdrant_query`, so access rules and ranking mean the same thing on either engine.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from crmassist.access.filters import Condition
from crmassist.access.policy import PayloadKey
from crmassist.errors import CrmassistError, IndexMissing

if TYPE_CHECKING:
    from qdrant_client import QdrantClient

    from crmassist.settings import Settings


@dataclass(frozen=True)
class SparseVector:
    """Term weights keyed by hashed token ids (see `sparse.Bm25Encoder`)."""

    indices: list[int]
    values: list[float]


@dataclass(frozen=True)
class ChunkPoint:
    """One indexed chunk; `id` is a UUID string chosen by the caller so re-indexing overwrites."""

    id: str
    dense: Sequence[float]
    sparse: SparseVector
    payload: Mapping[str, Any]
    multilingual: Sequence[float] | None = None
    """Knowledge-base chunks only: the multilingual encoder's vector (`MULTILINGUAL`)."""


@dataclass(frozen=True)
class Hit:
    id: str
    score: float
    payload: dict[str, Any]


class CollectionMismatchError(CrmassistError, ValueError):
    """The existing collection was built with another layout (another embedding size or
    model): its vectors cannot be compared with the configured model's."""


MODEL_KEY = "embedding_model"
"""Where an index records the embedding model its vectors came from."""


def model_mismatch(where: str, recorded: str | None, expected: str) -> CollectionMismatchError:
    """The error for an index built with another model than the configured one."""
    built = f"with embedding model {recorded!r}" if recorded else "without a recorded model"
    return CollectionMismatchError(
        f"the index {where} was built {built}, but the configured model is {expected!r}; "
        "run `crmassist index --rebuild` (or `crmassist index`, which rebuilds it)"
    )


CONTENT_HASH = "content_hash"
"""Payload key: the content hash of the record a chunk came from, so the index itself can
be checked against SQL (`inventory`), not only the bookkeeping about it."""

RecordKey = tuple[str, str]
"""(source type, record id)"""


@dataclass
class RecordPoints:
    """What the index really holds for one record."""

    count: int = 0
    hashes: set[str] = field(default_factory=set)


def tally(found: dict[RecordKey, RecordPoints], payload: Mapping[str, Any]) -> None:
    """Count one point into an inventory (both adapters scroll, then tally the same way)."""
    key = (str(payload.get(PayloadKey.SOURCE_TYPE)), str(payload.get(PayloadKey.RECORD_ID)))
    entry = found.setdefault(key, RecordPoints())
    entry.count += 1
    if payload.get(CONTENT_HASH):
        entry.hashes.add(str(payload[CONTENT_HASH]))


class IndexUnavailable(IndexMissing):
    """The index cannot serve right now; 503 in the API, one line in the CLI."""

    def __init__(self, message: str) -> None:
        CrmassistError.__init__(self, message)


class CollectionMissingError(IndexUnavailable, LookupError):
    """The collection does not exist yet: run the indexer (`ensure_collection`) first."""


class StoreInUseError(IndexUnavailable, RuntimeError):
    """Another process holds the embedded index; the engine allows one process at a time."""


class IndexCorrupted(IndexUnavailable):
    """The index files cannot be read; only a rebuild helps."""


class VectorStore(Protocol):
    """A collection of chunks searchable by dense + BM25 vectors under an access condition."""

    def ensure_collection(self, dense_dim: int) -> None:
        """Create the collection and its payload indexes if missing; idempotent.

        Raises `CollectionMismatchError` if it exists with another dense size or model.
        """
        ...

    def exists(self) -> bool: ...

    def claim(self) -> None:
        """Take the index for this process, or raise `StoreInUseError` naming its holder.

        The embedded engine is one process's; a server is shared, so there it is a no-op.
        """
        ...

    def model_changed(self) -> bool:
        """True when the collection exists but was built with another embedding model than
        the one this store was opened for (same-sized vectors of two models must not mix)."""
        ...

    def upsert(self, points: Sequence[ChunkPoint]) -> None:
        """Insert or overwrite points (by id), in engine-sized batches."""
        ...

    def delete_by_filter(self, condition: Condition) -> None: ...

    def hybrid_search(
        self,
        dense: Sequence[float],
        sparse: SparseVector,
        condition: Condition,
        limit: int,
        using: str = "dense",
    ) -> list[Hit]:
        """Dense and BM25 candidates fused by RRF; `condition` is enforced inside every stage.

        `using` names the dense vector: the main one, or `multilingual` (KB chunks only)."""
        ...

    def count(self, condition: Condition | None = None) -> int: ...

    def inventory(self) -> dict[RecordKey, RecordPoints]:
        """Per record, the chunks the index really holds and their content hashes."""
        ...

    def payloads(self, keys: Sequence[str]) -> Iterator[dict[str, Any]]:
        """These payload keys of every chunk, page by page (inventories, erasure proofs)."""
        ...

    def optimize(self) -> None:
        """Build search indexes after a large load (embedded engine; a no-op on a server)."""
        ...

    def drop(self) -> None:
        """Delete the collection and its data (for `index --rebuild`)."""
        ...

    def close(self) -> None:
        """Persist pending writes and release the engine."""
        ...


def open_store(settings: Settings, *, client: QdrantClient | None = None) -> VectorStore:
    """The server adapter if a URL (or a ready `client`) is given, else the embedded engine.

    Adapters are imported here so the embedded path never pays qdrant-client's import time.
    """
    model = settings.index_model  # the model and, where its vectors differ, the backend
    if client is not None or settings.qdrant_url:
        from crmassist.retrieval.server_store import ServerStore

        if client is not None:
            return ServerStore(client, settings.collection, model=model)
        api_key = settings.qdrant_api_key.get_secret_value() if settings.qdrant_api_key else None
        return ServerStore.connect(
            str(settings.qdrant_url), settings.collection, api_key=api_key, model=model
        )
    from crmassist.retrieval.edge_store import EdgeStore

    return EdgeStore(settings.resolved_qdrant_path / settings.collection, model=model)
