"""Retrieval benchmark: ingest throughput against the raw encoder, and search latency.

    python benchmarks/retrieval.py [--data knowledge/sample] [--sizes 10000 100000]

1. Ingest. The sample CRM is imported into a fresh SQLite database and indexed by the real
   pipeline (SQL -> PII redaction -> chunks -> dense + BM25 -> Qdrant's embedded engine).
   Its chunks/s is set beside the raw encoder's chunks/s on the very texts the pipeline
   embedded (target: >= 80 %), with and without the NER model in the redactor.
2. Search. For each size, an embedded index is filled with the sample's real chunk vectors
   plus jittered copies (encoding 100k chunks for real would take ~25 min on two cores; the
   copies keep real payloads, BM25 terms and the embedding space's shape). Latency is the
   real `Retriever.search` path as a rep (access filter) and as an admin: query redaction,
   query embedding, filtered hybrid query, audit write. Target: p95 < 30 ms.

Results go to stdout and to `--out` as JSON, with the machine's context.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

from benchmarks.common import machine, percentiles
from crmassist.access.directory import principal_for
from crmassist.access.principal import Principal
from crmassist.domain.models import User
from crmassist.ingest.importer import import_directory
from crmassist.retrieval.edge_store import EdgeStore
from crmassist.retrieval.search import Retriever, SearchRequest
from crmassist.retrieval.store import ChunkPoint
from crmassist.runtime import Runtime
from crmassist.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def ingest(rt: Runtime, data: Path) -> dict[str, Any]:
    """The pipeline's chunks/s against the raw encoder's on the very same texts; the raw
    encoder is timed right before and right after the pipeline, and averaged, so a noisy
    neighbour hurts both sides alike."""
    import_directory(data, rt.sessions)
    indexer = rt.indexer()
    plan = indexer.plan()
    started = time.perf_counter()
    chunks = indexer.prepare(plan.stale)
    prepare_s = time.perf_counter() - started
    texts = [c.embed_text for c in chunks]
    rt.encoder.embed_documents(texts[:64])  # warm-up
    before = _raw_rate(rt, texts)
    report = indexer.sync()
    raw_rate = (before + _raw_rate(rt, texts)) / 2
    return {
        "records": report.records_indexed,
        "chunks": report.chunks_indexed,
        "raw_encoder_chunks_per_s": round(raw_rate, 1),
        "raw_encoder_before_after": [round(before, 1), round(2 * raw_rate - before, 1)],
        "pipeline_chunks_per_s": round(report.chunks_per_second, 1),
        "pipeline_vs_raw_encoder": round(report.chunks_per_second / raw_rate, 3),
        "redact_and_chunk_s": round(prepare_s, 2),
    }


def _raw_rate(rt: Runtime, texts: list[str]) -> float:
    started = time.perf_counter()
    rt.encoder.embed_documents(texts)
    return len(texts) / (time.perf_counter() - started)


def scaled_points(real: Sequence[ChunkPoint], n: int, rng: np.random.Generator) -> list[ChunkPoint]:
    """n points: the real index's chunks, then jittered copies with fresh record ids."""
    points = list(real)
    dense = np.array([p.dense for p in real], dtype=np.float32)
    while len(points) < n:
        take = min(len(real), n - len(points))
        noisy = dense[:take] + rng.normal(0, 0.03, (take, dense.shape[1])).astype(np.float32)
        noisy /= np.linalg.norm(noisy, axis=1, keepdims=True)
        copy_no = len(points) // len(real)
        points.extend(
            ChunkPoint(
                id=str(uuid.uuid4()),
                dense=vec.tolist(),
                sparse=src.sparse,
                payload={**src.payload, "record_id": f"{src.payload['record_id']}~{copy_no}"},
            )
            for src, vec in zip(real[:take], noisy, strict=True)
        )
    return points[:n]


def real_points(rt: Runtime) -> tuple[list[ChunkPoint], list[str]]:
    """The indexed chunks with their vectors (same code path as the indexer), and titles."""
    indexer = rt.indexer()
    chunks = indexer.prepare(indexer.plan(rebuild=True).stale)
    return indexer.points(chunks), sorted({c.doc.title for c in chunks if len(c.doc.title) > 8})


def pick_queries(titles: Sequence[str], count: int, rng: np.random.Generator) -> list[str]:
    """Realistic questions: titles of notes, tickets and articles in the sample, EN and ZH."""
    picked = rng.choice(len(titles), size=min(count, len(titles)), replace=False)
    return [titles[i] for i in picked]


def latency(
    retriever: Retriever, principal: Principal, asked: Sequence[str], k: int
) -> dict[str, float]:
    retriever.search(principal, SearchRequest(asked[0], k=k))  # warm-up
    times = []
    for text in asked:
        started = time.perf_counter()
        retriever.search(principal, SearchRequest(text, k=k))
        times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


def search_at(
    rt: Runtime, real: Sequence[ChunkPoint], n: int, asked: Sequence[str], tmp: Path, k: int
) -> dict[str, Any]:
    points = scaled_points(real, n, np.random.default_rng(n))
    store = EdgeStore(tmp / f"scale_{n}")
    store.ensure_collection(rt.encoder.dimension)
    started = time.perf_counter()
    store.upsert(points)
    upsert_s = time.perf_counter() - started
    started = time.perf_counter()
    store.optimize()
    optimize_s = time.perf_counter() - started
    retriever = Retriever(store, rt.encoder, rt.sparse, rt.redactor, rt.audit)
    rep, admin = _principals(rt)
    result = {
        "points": n,
        "upsert_pts_per_s": round(n / upsert_s),
        "optimize_s": round(optimize_s, 1),
        "rep_filtered": latency(retriever, rep, asked, k),
        "admin": latency(retriever, admin, asked, k),
        "query_embedding_only": _embed_latency(rt, asked),
    }
    store.drop()
    return result


def _principals(rt: Runtime) -> tuple[Principal, Principal]:
    with rt.sessions() as session:
        rep = session.scalars(sa.select(User.id).where(User.role == "rep").order_by(User.id))
        admin = session.scalars(sa.select(User.id).where(User.role == "admin"))
        return principal_for(session, rep.first() or ""), principal_for(
            session, admin.first() or ""
        )


def _embed_latency(rt: Runtime, asked: Sequence[str]) -> dict[str, float]:
    times = []
    for text in asked:
        started = time.perf_counter()
        rt.encoder.embed_query(text)
        times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "knowledge" / "sample")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/retrieval.json")
    args = parser.parse_args(argv)
    results: dict[str, Any] = {"machine": machine(), "ingest": {}, "search": []}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        runtimes = {
            ner: Runtime(Settings(data_dir=tmp / f"ner_{ner}", pii_ner=ner))
            for ner in (True, False)
        }
        for ner, rt in runtimes.items():  # both ingests first, before the search runs load the box
            results["ingest"]["ner_on" if ner else "ner_off"] = ingest(rt, args.data)
            _emit(results)
        runtimes[False].close()
        rt = runtimes[True]
        real, titles = real_points(rt)
        asked = pick_queries(titles, args.queries, np.random.default_rng(0))
        for n in args.sizes:
            results["search"].append(search_at(rt, real, n, asked, tmp, args.k))
            _emit(results)
        rt.close()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


def _emit(results: dict[str, Any]) -> None:
    print(json.dumps(results, ensure_ascii=False), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
