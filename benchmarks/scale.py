"""The embedded index at scale: ingest rate, search latency, memory and disk as it grows.

    python benchmarks/scale.py [--sizes 10000 30000 100000] [--queries 200]

One embedded index (`EdgeStore`, Qdrant's engine in-process, on disk) grows step by step
to each size: synthetic notes, tickets and account profiles with the real payload layout
and access fields (owners, account teams, deal owners, ticket assignees over a generated
org of teams of reps), BM25 computed for real on their text; dense vectors are real
embeddings of a few hundred template notes plus noise, so the bulk measures the store, not
the encoder (2 cores embed ~50 chunks/s). After each step the engine's indexes are built
(`optimize`: HNSW, payload indexes) and timed, then the index is closed and reopened (what
a restarted service serves from) and searched with the product's own access filter
(`search_filter`) as a rep and as an admin. A search is what `Retriever.search` sends the
engine: the query embedded for real (dense, configured backend, and BM25), then one hybrid
query (two prefetches fused by RRF, the filter inside each); query redaction and the audit
write are measured in benchmarks/retrieval.py. CPU seconds are given beside wall-clock ones:
on a shared machine they say what the work costs, the wall clock what a user waited.
Memory is the process's resident set after reopening and searching, less what it held
before the index was opened; disk is the index directory.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import emit, machine, percentiles  # noqa: E402
from crmassist.access.policy import PayloadKey  # noqa: E402
from crmassist.access.principal import Principal  # noqa: E402
from crmassist.domain.enums import Audience, Role, SourceType  # noqa: E402
from crmassist.retrieval.edge_store import EdgeStore  # noqa: E402
from crmassist.retrieval.embeddings import Encoder, build_encoder  # noqa: E402
from crmassist.retrieval.search import OVERFETCH, SearchRequest, search_filter  # noqa: E402
from crmassist.retrieval.sparse import Bm25Encoder  # noqa: E402
from crmassist.retrieval.store import CONTENT_HASH, ChunkPoint  # noqa: E402
from crmassist.settings import Settings  # noqa: E402

OUT = ROOT / "benchmarks" / "results" / "scale.json"
TEAMS, REPS_PER_TEAM = 25, 8
TEMPLATES = 384
BATCH = 2_000
KINDS = (SourceType.INTERACTION, SourceType.TICKET, SourceType.ACCOUNT)

PRODUCTS = [
    "FlowGuard Industrial",
    "AquaPure Home",
    "PureStream 500",
    "ClearTap Mini",
    "HydroMax Pro",
    "净水器 X3",
    "CleanFlow RO",
]
ISSUES = [
    "leaking under the sink",
    "filter light stays on",
    "low water pressure",
    "strange taste after the change",
    "invoice shows the wrong tier",
    "late delivery",
    "installer missed the appointment",
    "asks for a volume discount",
    "renewal due",
    "wants a second unit for the office",
    "warranty question",
    "漏水，要求上门维修",
]
ACTIONS = [
    "Called back and agreed a visit on",
    "Sent the replacement cartridge on",
    "Escalated to the service lead on",
    "Quoted the three-year plan on",
    "Followed up by e-mail on",
    "Met the facilities manager on",
]
QUESTIONS = [
    "leaking purifier under the sink",
    "who asked for a volume discount",
    "renewal due next month",
    "filter light stays on after replacement",
    "installer missed the appointment",
    "客户投诉净水器漏水",
    "warranty question",
    "late delivery complaint",
    "second unit for the office",
    "wrong invoice tier",
]


class Org:
    """Teams of reps and accounts owned by them, each with a small account team."""

    def __init__(self, accounts: int, rng: random.Random) -> None:
        self.reps = [f"U{t:02d}{r}" for t in range(TEAMS) for r in range(REPS_PER_TEAM)]
        self.accounts = accounts
        self.owner = [rng.choice(self.reps) for _ in range(accounts)]
        self.team = [rng.sample(self.reps, 3) for _ in range(accounts)]

    def payload(self, n: int, rng: random.Random) -> dict[str, Any]:
        account = rng.randrange(self.accounts)
        kind = rng.choices(KINDS, weights=(86, 12, 2))[0]
        team = self.team[account]
        payload: dict[str, Any] = {
            PayloadKey.SOURCE_TYPE: kind.value,
            PayloadKey.RECORD_ID: f"S{n:08d}",
            PayloadKey.ACCOUNT_ID: f"A{account:06d}",
            PayloadKey.ACCOUNT_OWNER_ID: self.owner[account],
            PayloadKey.ACCOUNT_TEAM: team,
            PayloadKey.OWNER_ID: rng.choice(team),
            PayloadKey.AUDIENCE: Audience.INTERNAL.value,
            PayloadKey.LANG: "en",
            PayloadKey.OCCURRED_AT: 1.70e9 + rng.random() * 9e7,
            "chunk_no": 0,
            CONTENT_HASH: f"{rng.getrandbits(64):016x}",
        }
        if kind is SourceType.ACCOUNT:
            payload[PayloadKey.DEAL_OWNERS] = team[:2]
            payload[PayloadKey.TICKET_ASSIGNEES] = team[2:]
        return payload


def note(rng: random.Random) -> str:
    """60-150 words: a product, an issue, an action on a day, earlier issues."""
    day = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    filler = " ".join(rng.choices(ISSUES, k=rng.randint(4, 13)))
    return (
        f"{rng.choice(PRODUCTS)}: customer says {rng.choice(ISSUES)}. "
        f"{rng.choice(ACTIONS)} {day}. Earlier: {filler}."
    )


def points(
    org: Org,
    start: int,
    stop: int,
    templates: np.ndarray,
    sparse: Bm25Encoder,
    rng: random.Random,
    noise: np.random.Generator,
) -> Iterator[list[ChunkPoint]]:
    """Batches of synthetic chunks: a template vector plus noise, renormalised."""
    for first in range(start, stop, BATCH):
        count = min(BATCH, stop - first)
        picked = templates[noise.integers(0, len(templates), count)]
        dense = picked + noise.normal(0, 0.03, picked.shape).astype(np.float32)
        dense /= np.linalg.norm(dense, axis=1, keepdims=True)
        texts = [note(rng) for _ in range(count)]
        yield [
            ChunkPoint(
                id=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                dense=vector.tolist(),
                sparse=terms,
                payload={**org.payload(first + i, rng), "title": text[:40], "text": text},
            )
            for i, (vector, terms, text) in enumerate(
                zip(dense, sparse.embed_documents(texts), texts, strict=True)
            )
        ]


def rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def disk_mib(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 2**20


def search_ms(
    store: EdgeStore,
    encoder: Encoder,
    sparse: Bm25Encoder,
    principal: Principal,
    asked: Sequence[str],
    k: int,
) -> dict[str, Any]:
    """Embedding (dense + BM25) and the filtered hybrid query, as `Retriever.search`."""
    whole, engine, cpu = [], [], []
    for text in asked:
        started, cpu_started = time.perf_counter(), time.process_time()
        dense, terms = encoder.embed_query(text).tolist(), sparse.embed_query(text)
        condition = search_filter(principal, SearchRequest(text, k=k))
        queried = time.perf_counter()
        store.hybrid_search(dense, terms, condition, limit=k * OVERFETCH)
        done = time.perf_counter()
        cpu.append((time.process_time() - cpu_started) * 1000)
        whole.append((done - started) * 1000)
        engine.append((done - queried) * 1000)
    return {
        "with_embedding": percentiles(whole),
        "engine_only": percentiles(engine),
        "cpu_with_embedding": percentiles(cpu),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 30_000, 100_000])
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("-k", type=int, default=5)
    parser.add_argument("--dir", type=Path, help="where the index grows (default: a temp dir)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args(argv)
    settings = Settings()
    encoder = build_encoder(
        settings.embedding_model, settings.resolved_cache_dir, backend=settings.embedding_backend
    )
    sparse, rng, noise = Bm25Encoder(), random.Random(0), np.random.default_rng(0)
    templates = encoder.embed_documents([note(rng) for _ in range(TEMPLATES)])
    org = Org(max(args.sizes) // 40, rng)
    rep = Principal(org.reps[0], Role.REP, team_id="T00")
    admin = Principal("U-admin", Role.ADMIN)
    asked = [f"{QUESTIONS[i % len(QUESTIONS)]} {PRODUCTS[i % 7]}" for i in range(args.queries)]
    encoder.embed_query(asked[0])  # warm-up
    results: dict[str, Any] = {
        "machine": machine(),
        "backend": settings.embedding_backend,
        "accounts": org.accounts,
        "reps": len(org.reps),
        "load_average_start": [round(x, 2) for x in os.getloadavg()],
        "steps": [],
    }
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path, size = Path(tmp) / "scale", 0
        baseline = rss_mib()
        for target in sorted(args.sizes):
            store = EdgeStore(path)
            store.ensure_collection(encoder.dimension)
            upsert_s = upsert_cpu = 0.0  # the store's time only, not generating the batches
            for batch in points(org, size, target, templates, sparse, rng, noise):
                started, cpu = time.perf_counter(), time.process_time()
                store.upsert(batch)
                upsert_s += time.perf_counter() - started
                upsert_cpu += time.process_time() - cpu
            started, cpu = time.perf_counter(), time.process_time()
            store.optimize()
            optimize_s, optimize_cpu = time.perf_counter() - started, time.process_time() - cpu
            store.close()
            added, size = target - size, target
            started = time.perf_counter()
            store = EdgeStore(path)
            store.count()
            reopen_s = time.perf_counter() - started
            step = {
                "points": size,
                "ingest_pts_per_s": round(added / upsert_s),
                "ingest_pts_per_cpu_s": round(added / upsert_cpu),
                "ingest_incl_optimize_pts_per_s": round(added / (upsert_s + optimize_s)),
                "optimize_s": round(optimize_s, 1),
                "optimize_cpu_s": round(optimize_cpu, 1),
                "reopen_s": round(reopen_s, 2),
                "rep_filtered": search_ms(store, encoder, sparse, rep, asked, args.k),
                "admin": search_ms(store, encoder, sparse, admin, asked, args.k),
                "rss_mib": round(rss_mib() - baseline),
                "disk_mib": round(disk_mib(path)),
                "load_average": [round(x, 2) for x in os.getloadavg()],
            }
            store.close()
            results["steps"].append(step)
            print(step, file=sys.stderr, flush=True)
    emit(results, args.out)


if __name__ == "__main__":
    main()
