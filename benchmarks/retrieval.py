"""Retrieval benchmark: ingest throughput against the raw encoder, and search latency.

    python benchmarks/retrieval.py [--data knowledge/sample] [--sizes 10000 100000]
                                   [--sections ingest search kb]

1. Ingest. The sample CRM is imported into a fresh SQLite database and indexed by the real
   pipeline (SQL -> PII redaction -> chunks -> dense + BM25 -> Qdrant's embedded engine).
   Its chunks/s is set beside the raw encoder's chunks/s on the very texts the pipeline
   embedded (target: >= 80 %), with and without the NER model in the redactor.
2. Search. For each size, an embedded index is filled with the sample's real chunk vectors
   plus jittered copies (encoding 100k chunks for real would take ~25 min on two cores; the
   copies keep real payloads, BM25 terms and the embedding space's shape). Latency is the
   real `Retriever.search` path as a rep (access filter) and as an admin: query redaction,
   query embedding, filtered hybrid query, audit write. Target: p95 < 30 ms.

3. KB across languages (`kb`). Both encoders side by side, each on its own real index of
   the sample's articles and users (real redactor, real indexer, embedded engine in a temp
   dir; the rest of the sample is left out, search is filtered to the KB anyway), searched
   through the real `Retriever` as an admin with `sources=kb`, on the benchmark set
   `benchmarks/data/kb_queries.yaml` (written from the articles, never tuned on): recall@5
   (share of questions with an answering article among the first five) and MRR, per bucket
   (en, zh, en->zh, zh->en), for the product's search (each article language ranked apart
   on the multilingual vector, taken in turns), one hybrid ranking over all languages on
   the main vector (dense + BM25, RRF; the search before partitioning), and dense only
   (BM25 left out); query-embedding and whole-search latency p50/p95; ingest chunks/s.

Results go to stdout and to `--out` as JSON, with the machine's context. Sections not run
keep their previous results from `--out`.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere

import yaml

from benchmarks.common import machine, percentiles
from crmassist.access.directory import principal_for
from crmassist.access.principal import Principal
from crmassist.domain.enums import SourceType
from crmassist.domain.models import User
from crmassist.evals.metrics import reciprocal_rank
from crmassist.ingest.importer import import_directory
from crmassist.retrieval.edge_store import EdgeStore
from crmassist.retrieval.embeddings import E5_MODEL
from crmassist.retrieval.search import Retriever, SearchRequest
from crmassist.retrieval.sparse import Bm25Encoder
from crmassist.retrieval.store import ChunkPoint, SparseVector
from crmassist.runtime import Runtime
from crmassist.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
KB_QUERIES = ROOT / "benchmarks" / "data" / "kb_queries.yaml"
ENCODERS = ("all-MiniLM-L6-v2", E5_MODEL)
BUCKETS = ("en", "zh", "en->zh", "zh->en")
SECTIONS = ("ingest", "search", "kb")


def ingest(rt: Runtime, data: Path) -> dict[str, Any]:
    """The pipeline's chunks/s against the raw encoder's on the very same texts; the raw
    encoder is timed right before and right after the pipeline, and averaged, so a noisy
    neighbour hurts both sides alike."""
    import_directory(data, rt.sessions, as_of=rt.clock.today())
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


@dataclass(frozen=True)
class KbQuery:
    bucket: str
    q: str
    relevant: tuple[str, ...]
    also: tuple[str, ...]


def load_kb_queries(path: Path, languages: dict[str, str]) -> list[KbQuery]:
    """The benchmark set, checked: every article named exists and each `relevant` one is in
    the language its bucket is about (else the bucket would measure something else)."""
    queries = [
        KbQuery(row["bucket"], row["q"], tuple(row["relevant"]), tuple(row.get("also") or ()))
        for row in yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]
    ]
    for query in queries:
        target = query.bucket.split("->")[-1]
        unknown = [a for a in query.relevant + query.also if a not in languages]
        wrong = [a for a in query.relevant if languages.get(a) != target]
        if query.bucket not in BUCKETS or unknown or wrong or not query.relevant:
            raise SystemExit(f"{path}: bad entry {query} (unknown {unknown}, language {wrong})")
    return queries


def _article_languages(rt: Runtime) -> dict[str, str]:
    from crmassist.domain.models import KnowledgeArticle

    with rt.sessions() as session:
        return dict(session.execute(sa.select(KnowledgeArticle.id, KnowledgeArticle.lang)).all())


def stratified(queries: Sequence[KbQuery], per_bucket: int) -> list[KbQuery]:
    """A seeded subsample of `per_bucket` questions from each bucket, in file order."""
    rng = np.random.default_rng(0)
    kept: set[int] = set()
    for bucket in BUCKETS:
        members = [n for n, q in enumerate(queries) if q.bucket == bucket]
        kept.update(members[i] for i in rng.permutation(len(members))[:per_bucket])
    return [q for n, q in enumerate(queries) if n in kept]


class _NoBm25(Bm25Encoder):
    """Queries without BM25 terms: the hybrid query's sparse stage finds nothing, so the
    fused ranking is the dense ranking alone (same retriever, filter and redaction)."""

    def embed_query(self, text: str) -> SparseVector:
        return SparseVector(indices=[], values=[])


def ranked_articles(
    retriever: Retriever, principal: Principal, query: KbQuery, k: int
) -> list[str]:
    """The first k KB articles, counterparts in `also` left out of the ranking."""
    request = SearchRequest(query.q, k=k + len(query.also), sources=(SourceType.KB,))
    ranked = [c.record_id for c in retriever.search(principal, request)]
    return [a for a in ranked if a not in query.also][:k]


def kb_scores(
    retriever: Retriever, principal: Principal, queries: Sequence[KbQuery], k: int
) -> dict[str, Any]:
    """recall@k (an answering article among the first k) and MRR, per bucket and overall;
    and the whole search's latency (redaction, embedding, hybrid query, audit)."""
    ranked_articles(retriever, principal, queries[0], k)  # warm-up
    found, times = {}, []
    for query in queries:
        started = time.perf_counter()
        found[id(query)] = ranked_articles(retriever, principal, query, k)
        times.append((time.perf_counter() - started) * 1000)
    misses = [
        {"bucket": q.bucket, "q": q.q, "relevant": list(q.relevant), "got": found[id(q)]}
        for q in queries
        if not set(q.relevant) & set(found[id(q)])
    ]

    def score(subset: Sequence[KbQuery]) -> dict[str, float]:
        hits = [bool(set(q.relevant) & set(found[id(q)])) for q in subset]
        mrr = [reciprocal_rank(q.relevant, found[id(q)]) for q in subset]
        return {
            f"recall_at_{k}": round(sum(hits) / len(subset), 3),
            "mrr": round(sum(mrr) / len(subset), 3),
            "n": len(subset),
        }

    buckets = {b: score([q for q in queries if q.bucket == b]) for b in BUCKETS}
    return {**buckets, "all": score(queries), "search_ms": percentiles(times), "misses": misses}


def kb_encoder(
    name: str, data: Path, tmp: Path, queries_file: Path, k: int, sample: int | None
) -> dict[str, Any]:
    """One encoder: its own index of the sample's articles, then the KB set through it."""
    rt = Runtime(Settings(data_dir=tmp / f"kb_{len(name)}_{name[:8]}", embedding_model=name))
    try:
        import_directory(data, rt.sessions, as_of=rt.clock.today())
        report = rt.indexer().sync()
        _emit({"kb": name, "indexed_chunks": report.chunks_indexed, "s": round(report.seconds)})
        queries = load_kb_queries(queries_file, _article_languages(rt))
        if sample:
            queries = stratified(queries, sample)
        _, admin = _principals(rt)
        hybrid = Retriever(rt.store, rt.encoder, rt.sparse, rt.redactor, rt.audit)
        dense = Retriever(rt.store, rt.encoder, _NoBm25(), rt.redactor, rt.audit)
        return {
            "ingest": {
                "chunks": report.chunks_indexed,
                "pipeline_chunks_per_s": round(report.chunks_per_second, 1),
            },
            "partitioned": kb_scores(rt.retriever(), admin, queries, k),
            "hybrid": kb_scores(hybrid, admin, queries, k),
            "dense_only": kb_scores(dense, admin, queries, k),
            "query_embedding_ms": _embed_latency(rt, [q.q for q in queries]),
        }
    finally:
        rt.close()


def kb_comparison(
    data: Path, tmp: Path, queries_file: Path, k: int, sample: int | None
) -> dict[str, Any]:
    results: dict[str, Any] = {
        "queries": str(queries_file.relative_to(ROOT)),
        "principal": "admin (sees internal articles)",
        "sampled_per_bucket": sample,
    }
    articles = tmp / "kb_import"  # the articles and the users: search filters to the KB
    shutil.copytree(data / "kb", articles / "kb")
    shutil.copy(data / "users.csv", articles / "users.csv")
    for name in ENCODERS:
        results[name] = kb_encoder(name, articles, tmp, queries_file, k, sample)
        _emit({"kb": {name: results[name]}})  # a run cut short keeps what it measured
    return results


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "knowledge" / "sample")
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/retrieval.json")
    parser.add_argument(
        "--sections",
        nargs="+",
        choices=SECTIONS,
        default=list(SECTIONS),
        help="ingest and search run together (one index); kb compares the encoders",
    )
    parser.add_argument("--kb-queries", type=Path, default=KB_QUERIES)
    parser.add_argument("--kb-sample", type=int, help="questions per bucket (seeded subsample)")
    args = parser.parse_args(argv)
    previous = json.loads(args.out.read_text()) if args.out.is_file() else {}
    results: dict[str, Any] = {**previous, "machine": machine()}
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        if "kb" in args.sections:
            results["kb"] = kb_comparison(args.data, tmp, args.kb_queries, args.k, args.kb_sample)
        if {"ingest", "search"} & set(args.sections):
            results["encoder"] = Settings().embedding_model
            scale(args, results, tmp)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print(f"wrote {args.out}", file=sys.stderr)


def scale(args: argparse.Namespace, results: dict[str, Any], tmp: Path) -> None:
    """Sections 1 and 2 (they share one index), with the default encoder."""
    results.update(ingest={}, search=[])
    runtimes = {
        ner: Runtime(Settings(data_dir=tmp / f"ner_{ner}", pii_ner=ner)) for ner in (True, False)
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


def _emit(results: dict[str, Any]) -> None:
    print(json.dumps(results, ensure_ascii=False), file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
