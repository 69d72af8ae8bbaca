"""Vector-store throughput and filtered hybrid latency, per adapter, as JSON on stdout.

    python benchmarks/store_bench.py --n 10000 --adapters edge,client

Synthetic chunks carry every `PayloadKey` field with CRM-like cardinalities; each query is
a dense vector plus a few BM25 terms under a sales rep's access filter (the real policy).
Dense vectors are clustered with a low intrinsic dimension, like sentence embeddings: i.i.d.
Gaussian vectors are a pathological case for HNSW (recall@10 ~0.3) and would mislead.
`client` is qdrant-client's in-memory local mode unless `--qdrant-url` names a server.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from crmassist.access.filters import Condition
from crmassist.access.policy import PayloadKey as K
from crmassist.access.policy import retrieval_filter
from crmassist.access.principal import Principal
from crmassist.domain.enums import Role, SourceType
from crmassist.retrieval.edge_store import EdgeStore
from crmassist.retrieval.sparse import Bm25Encoder
from crmassist.retrieval.store import ChunkPoint, SparseVector, VectorStore

SOURCES = [str(s) for s in SourceType]
USERS, ACCOUNTS = 50, 2000
VOCAB = [f"term{i}" for i in range(20_000)] + ["漏水", "维修", "净水器", "客户", "投诉"]
ACL = retrieval_filter(Principal("u7", Role.REP, "t3"))
LIMIT = 10

Query = tuple[list[float], SparseVector]


class Space:
    """Clustered dense vectors: 200 topics in a 32-dimensional subspace of `dim`."""

    def __init__(self, dim: int, seed: int = 0) -> None:
        self.rng = np.random.default_rng(seed)
        self.centers = self.rng.standard_normal((200, dim))
        self.basis = self.rng.standard_normal((32, dim)) / np.sqrt(32)

    def sample(self, n: int) -> np.ndarray:
        topics = self.rng.integers(len(self.centers), size=n)
        x = self.centers[topics] + self.rng.standard_normal((n, 32)) @ self.basis
        return x / np.linalg.norm(x, axis=1, keepdims=True)


def synth_points(space: Space, n: int) -> tuple[list[ChunkPoint], float]:
    """n chunks and the BM25 document-encoding rate (docs/s) measured on the way."""
    rng = space.rng
    dense = space.sample(n).astype(np.float32)
    texts = [_text(rng) for _ in range(n)]
    started = time.perf_counter()
    sparse = Bm25Encoder().embed_documents(texts)
    bm25_rate = n / (time.perf_counter() - started)
    points = [
        ChunkPoint(str(uuid.uuid4()), dense[i].tolist(), sparse[i], _payload(rng, i))
        for i in range(n)
    ]
    return points, bm25_rate


def _text(rng: np.random.Generator) -> str:
    """Zipf-distributed terms, 20-160 of them: equal lengths would make BM25 scores tie."""
    terms = np.minimum(rng.zipf(1.3, size=int(rng.integers(20, 160))), len(VOCAB)) - 1
    return " ".join(VOCAB[i] for i in terms)


def _payload(rng: np.random.Generator, i: int) -> dict[str, Any]:
    owner = int(rng.integers(USERS))
    return {
        K.SOURCE_TYPE: SOURCES[int(rng.integers(len(SOURCES)))],
        K.RECORD_ID: f"r{i // 3}",
        K.ACCOUNT_ID: f"a{int(rng.integers(ACCOUNTS))}",
        K.OWNER_ID: f"u{owner}",
        K.ACCOUNT_OWNER_ID: f"u{owner}",
        K.ACCOUNT_TEAM: [f"u{(owner + 1) % USERS}"],
        K.AUDIENCE: "internal" if rng.random() < 0.5 else "public",
        K.LANG: "zh" if rng.random() < 0.2 else "en",
        K.OCCURRED_AT: float(1.6e9 + rng.integers(0, 63_072_000)),
    }


def synth_queries(space: Space, count: int) -> list[Query]:
    bm25 = Bm25Encoder()
    dense = space.sample(count)
    words = [" ".join(space.rng.choice(VOCAB[:2000], 4)) for _ in range(count)]
    return [(dense[i].tolist(), bm25.embed_query(words[i])) for i in range(count)]


def timed_upsert(store: VectorStore, points: Sequence[ChunkPoint], batch: int) -> float:
    """Points per second, fed in indexer-sized batches."""
    started = time.perf_counter()
    for i in range(0, len(points), batch):
        store.upsert(points[i : i + batch])
    return len(points) / (time.perf_counter() - started)


def run_queries(
    store: VectorStore, queries: Sequence[Query], condition: Condition
) -> tuple[dict[str, float], list[list[str]]]:
    """Latency percentiles and the hit ids of every query."""
    store.hybrid_search(*queries[0], condition, LIMIT)  # warm-up
    times, results = [], []
    for dense, sparse in queries:
        started = time.perf_counter()
        hits = store.hybrid_search(dense, sparse, condition, LIMIT)
        times.append((time.perf_counter() - started) * 1000)
        results.append([h.id for h in hits])
    cuts = statistics.quantiles(times, n=100)
    return {"p50_ms": round(cuts[49], 3), "p95_ms": round(cuts[94], 3)}, results


def overlap(exact: list[list[str]], approx: list[list[str]]) -> float:
    """Mean share of the exact top-k that the approximate search also returned."""
    shares = [len(set(e) & set(a)) / len(e) for e, a in zip(exact, approx, strict=True) if e]
    return round(statistics.fmean(shares), 3)


def bench_edge(
    points: Sequence[ChunkPoint], queries: Sequence[Query], args: argparse.Namespace
) -> dict[str, Any]:
    """Before `optimize()` segments are searched exhaustively: that is the recall baseline."""
    with tempfile.TemporaryDirectory() as tmp:
        store = EdgeStore(Path(tmp) / "index")
        store.ensure_collection(args.dim)
        out: dict[str, Any] = {"upsert_pts_per_s": round(timed_upsert(store, points, args.batch))}
        out["query_before_optimize"], exact = run_queries(store, queries, ACL)
        started = time.perf_counter()
        store.optimize()
        out["optimize_s"] = round(time.perf_counter() - started, 2)
        out["query"], approx = run_queries(store, queries, ACL)
        out["recall_at_10_vs_exhaustive"] = overlap(exact, approx)
        started = time.perf_counter()
        store.close()
        out["close_s"] = round(time.perf_counter() - started, 3)
        started = time.perf_counter()
        store.count()  # reopens
        out["reopen_s"] = round(time.perf_counter() - started, 3)
        store.close()
        out["disk_mb"] = _disk_mb(Path(tmp))
    return out


def _disk_mb(root: Path) -> float:
    """Blocks actually used: the engine pre-allocates sparse files (64 MB of WAL alone)."""
    return round(sum(f.stat().st_blocks * 512 for f in root.rglob("*")) / 2**20, 1)


def bench_client(
    points: Sequence[ChunkPoint], queries: Sequence[Query], args: argparse.Namespace
) -> dict[str, Any]:
    from qdrant_client import QdrantClient

    from crmassist.retrieval.server_store import ServerStore

    client = QdrantClient(url=args.qdrant_url) if args.qdrant_url else QdrantClient(":memory:")
    store = ServerStore(client, f"bench_{uuid.uuid4().hex[:8]}")
    store.ensure_collection(args.dim)
    try:
        out: dict[str, Any] = {"mode": args.qdrant_url or ":memory:"}
        out["upsert_pts_per_s"] = round(timed_upsert(store, points, args.batch))
        out["query"], _ = run_queries(store, queries, ACL)
    finally:
        store.drop()
        store.close()
    return out


BENCHES = {"edge": bench_edge, "client": bench_client}


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000, help="points to load")
    parser.add_argument("--dim", type=int, default=384)
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--batch", type=int, default=512, help="points per upsert call")
    parser.add_argument("--adapters", default="edge,client", help="comma list: edge,client")
    parser.add_argument("--qdrant-url", default=None, help="benchmark a server, not :memory:")
    args = parser.parse_args(argv)
    space = Space(args.dim)
    points, bm25_rate = synth_points(space, args.n)
    queries = synth_queries(space, args.queries)
    report: dict[str, Any] = {
        "n": args.n,
        "dim": args.dim,
        "queries": args.queries,
        "acl_visible_fraction": round(sum(_visible(p.payload) for p in points) / args.n, 3),
        "bm25_docs_per_s": round(bm25_rate),
    }
    for name in args.adapters.split(","):
        report[name] = BENCHES[name](points, queries, args)
        print(f"{name}: done", file=sys.stderr)
    json.dump(report, sys.stdout, indent=2)
    print()


def _visible(payload: Mapping[str, Any]) -> bool:
    """Whether the benchmark's rep may see a chunk: the filter's selectivity, for context."""
    return payload[K.SOURCE_TYPE] == SourceType.KB or "u7" in (
        payload[K.OWNER_ID],
        *payload[K.ACCOUNT_TEAM],
    )


if __name__ == "__main__":
    main()
