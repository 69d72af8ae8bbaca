"""Encoder backends side by side: the same all-MiniLM-L6-v2 weights on torch, on
onnxruntime fp32 (the graph crmassist exports and caches) and on ONNX int8 (that graph with
per-channel int8 weights, dynamic quantisation): CRMASSIST_EMBEDDING_BACKEND's three values.

    python benchmarks/encoders.py [--backends torch onnx onnx-int8] [--data knowledge/sample]

Per backend, a fresh data directory gets the sample CRM imported and indexed by the real
pipeline with that encoder (real redactor, BM25, the embedded engine), then, as an admin:
- recall@5 and MRR on the benchmark KB set (benchmarks/data/kb_queries.yaml), hybrid
  (dense + BM25) and dense only on the main vector (the product's KB search ranks on the
  multilingual E5 vector, which no backend here changes: benchmarks/retrieval.py);
- recall@5 and MRR of record search: titles of notes, tickets and accounts as queries, the
  records bearing that title relevant; hybrid and dense only;
- cold load in a fresh process (imports, weights or graph; the export is cached before),
  query embedding p50/p95, raw chunks/s on the pipeline's own chunk texts (rounds
  alternate backends, medians) and the index sync's chunks/s;
- agreement with torch on the same texts: cosine of chunk and query vectors (mean, min).
Backends not run keep their previous results in --out.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import emit, machine, percentiles  # noqa: E402
from benchmarks.retrieval import (  # noqa: E402
    KB_QUERIES,
    _article_languages,
    _NoBm25,
    _principals,
    kb_scores,
    load_kb_queries,
)
from crmassist.access.principal import Principal  # noqa: E402
from crmassist.domain.enums import SourceType  # noqa: E402
from crmassist.evals.metrics import reciprocal_rank  # noqa: E402
from crmassist.ingest.importer import import_directory  # noqa: E402
from crmassist.retrieval.embeddings import (  # noqa: E402
    Encoder,
    SentenceTransformerEncoder,
    onnx_encoder,
)
from crmassist.retrieval.search import Retriever, SearchRequest  # noqa: E402
from crmassist.runtime import Runtime  # noqa: E402
from crmassist.settings import Settings  # noqa: E402

MODEL = "all-MiniLM-L6-v2"
BACKENDS = ("torch", "onnx", "onnx-int8")
OUT = ROOT / "benchmarks" / "results" / "encoders.json"

LOAD = """
import sys, time
t = time.perf_counter()
from crmassist.retrieval.embeddings import build_encoder
from pathlib import Path
build_encoder(sys.argv[1], Path(sys.argv[2]), backend=sys.argv[3]).embed_query("warm")
print(time.perf_counter() - t)
"""


def encoders(names: Sequence[str], cache: Path) -> dict[str, Encoder]:
    made: dict[str, Callable[[], Encoder]] = {
        "torch": lambda: SentenceTransformerEncoder(MODEL),
        "onnx": lambda: onnx_encoder(MODEL, cache),
        "onnx-int8": lambda: onnx_encoder(MODEL, cache, int8=True),
    }
    return {name: made[name]() for name in ("torch", *names) if name in made}


def first_notes(data: Path, notes: int, target: Path) -> Path:
    """A copy of the export with only its first `notes` notes (a busy machine's run)."""
    shutil.copytree(data, target)
    lines = (data / "interactions.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    (target / "interactions.jsonl").write_text("".join(lines[:notes]), encoding="utf-8")
    return target


def cold_load_s(backend: str, cache: Path) -> float:
    """A fresh process building the encoder and embedding one query."""
    done = subprocess.run(
        [sys.executable, "-c", LOAD, MODEL, str(cache), backend],
        capture_output=True,
        text=True,
        check=True,
    )
    return round(float(done.stdout.strip().splitlines()[-1]), 2)


def record_queries(rt: Runtime, count: int) -> list[tuple[str, set[str]]]:
    """Titles of CRM records (seeded sample), each with the records that bear it."""
    bearing: dict[str, set[str]] = {}
    for payload in rt.store.payloads(["title", "record_id", "source_type"]):
        if payload["source_type"] != SourceType.KB.value and len(payload["title"]) > 8:
            bearing.setdefault(payload["title"], set()).add(payload["record_id"])
    titles = sorted(bearing)
    picked = np.random.default_rng(0).permutation(len(titles))[:count]
    return [(titles[i], bearing[titles[i]]) for i in sorted(picked)]


def record_scores(
    retriever: Retriever, admin: Principal, queries: Sequence[tuple[str, set[str]]], k: int
) -> dict[str, float]:
    hits, ranks = [], []
    for text, relevant in queries:
        found = [c.record_id for c in retriever.search(admin, SearchRequest(text, k=k))]
        hits.append(bool(relevant & set(found)))
        ranks.append(reciprocal_rank(tuple(relevant), found))
    return {
        f"recall_at_{k}": round(sum(hits) / len(hits), 3),
        "mrr": round(sum(ranks) / len(ranks), 3),
        "n": len(hits),
    }


def pipeline(
    backend: str, encoder: Encoder, args: argparse.Namespace, tmp: Path
) -> tuple[dict[str, Any], list[str]]:
    """Index the sample with `encoder`, then search it; also the chunk texts it embedded."""
    rt = Runtime(Settings(data_dir=tmp / backend, pii_workers=0))
    rt.encoder = encoder  # the backend under test, whatever the settings say
    try:
        import_directory(args.data, rt.sessions, as_of=rt.clock.today())
        indexer = rt.indexer()
        texts = [c.embed_text for c in indexer.prepare(indexer.plan().stale)]
        report = indexer.sync()
        _, admin = _principals(rt)
        kb = load_kb_queries(args.kb_queries, _article_languages(rt))
        records = record_queries(rt, args.queries)
        hybrid = Retriever(rt.store, encoder, rt.sparse, rt.redactor, rt.audit)
        dense = Retriever(rt.store, encoder, _NoBm25(), rt.redactor, rt.audit)
        result = {
            "index_sync_chunks_per_s": round(report.chunks_per_second, 1),
            "chunks": report.chunks_indexed,
            "kb": {
                name: {
                    key: v for key, v in kb_scores(r, admin, kb, args.k).items() if key != "misses"
                }
                for name, r in (("hybrid", hybrid), ("dense_only", dense))
            },
            "records": {
                "hybrid": record_scores(hybrid, admin, records, args.k),
                "dense_only": record_scores(dense, admin, records, args.k),
            },
            "query_embedding_ms": embed_latency(encoder, [q for q, _ in records]),
        }
        return result, texts
    finally:
        rt.close()


def embed_latency(encoder: Encoder, queries: Sequence[str]) -> dict[str, float]:
    times = []
    for text in queries:
        started = time.perf_counter()
        encoder.embed_query(text)
        times.append((time.perf_counter() - started) * 1000)
    return percentiles(times)


def throughput(made: dict[str, Encoder], texts: list[str], rounds: int) -> dict[str, float]:
    """Raw chunks/s per backend; rounds alternate backends so load hits each alike."""
    rates: dict[str, list[float]] = {name: [] for name in made}
    for _ in range(rounds):
        for name, encoder in made.items():
            started = time.perf_counter()
            encoder.embed_documents(texts)
            rates[name].append(len(texts) / (time.perf_counter() - started))
    return {name: round(statistics.median(r), 1) for name, r in rates.items()}


def agreement(reference: Encoder, other: Encoder, texts: list[str]) -> dict[str, float]:
    """Cosine between the two backends' vectors (normalised: the dot product)."""
    docs = np.sum(reference.embed_documents(texts) * other.embed_documents(texts), axis=1)
    queries = [float(reference.embed_query(t[:120]) @ other.embed_query(t[:120])) for t in texts]
    return {
        "chunk_cosine_mean": round(float(docs.mean()), 5),
        "chunk_cosine_min": round(float(docs.min()), 5),
        "query_cosine_mean": round(float(np.mean(queries)), 5),
        "query_cosine_min": round(float(np.min(queries)), 5),
        "n": len(texts),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", choices=BACKENDS, default=list(BACKENDS))
    parser.add_argument("--data", type=Path, default=ROOT / "knowledge" / "sample")
    parser.add_argument("--kb-queries", type=Path, default=KB_QUERIES)
    parser.add_argument("--notes", type=int, help="only the first N notes (default: all)")
    parser.add_argument("--queries", type=int, default=200, help="record-search queries")
    parser.add_argument("--texts", type=int, default=256, help="chunks for throughput")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    previous = json.loads(args.out.read_text()) if args.out.is_file() else {}
    results: dict[str, Any] = {**previous, "machine": machine(), "model": MODEL}
    results["notes"] = args.notes or "all"
    cache = Settings().resolved_cache_dir
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        if args.notes is not None:
            args.data = first_notes(args.data, args.notes, tmp / "data")
        made = encoders(args.backends, cache)
        texts: list[str] = []
        for name in args.backends:
            measured, texts = pipeline(name, made[name], args, tmp)
            results[name] = {**measured, "cold_load_s": cold_load_s(name, cache)}
            print(json.dumps({name: results[name]}), file=sys.stderr, flush=True)
        sample = texts[:: max(len(texts) // args.texts, 1)][: args.texts]
        rates = throughput(made, sample, args.rounds)
        for name in args.backends:
            results[name]["raw_chunks_per_s"] = rates[name]
            results[name]["raw_vs_torch"] = round(rates[name] / rates["torch"], 2)
            if name != "torch":
                results[name]["agreement_with_torch"] = agreement(made["torch"], made[name], sample)
        results["load_average"] = [round(x, 2) for x in os.getloadavg()]
    emit(results, args.out)


if __name__ == "__main__":
    main()
