"""Ingest-side redaction: notes/s in process and with detector workers, and what a re-sync
of unchanged records costs.

    python benchmarks/ingest.py [--notes 480] [--workers N] [--out benchmarks/results/ingest.json]

Redaction runs the way the indexer calls it (windows of 128 texts: 64 records, text and
title), with the detection memo off so every note is really analysed; NER on and off.
With workers the pool is started and loaded before the clock starts (in a server or an
import it loads in the background while the first batches run in process). Then the
sample CRM is imported and indexed, and indexed again: the second sync finds every
record's content hash unchanged and redacts and embeds nothing.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.common import emit, machine  # noqa: E402
from benchmarks.privacy import DATA, fresh_sessions, realistic_notes  # noqa: E402
from crmassist.batching import batched  # noqa: E402
from crmassist.evals.dataset import load_examples  # noqa: E402
from crmassist.ingest.importer import import_directory  # noqa: E402
from crmassist.privacy import Redactor, build_redactor  # noqa: E402
from crmassist.privacy.pool import default_workers, shared_pool  # noqa: E402
from crmassist.runtime import Runtime  # noqa: E402
from crmassist.settings import Settings  # noqa: E402

WINDOW = 128


def notes_per_s(redactor: Redactor, notes: list[str]) -> float:
    started = time.perf_counter()
    for window in batched(notes, WINDOW):
        redactor.redact_many(window)
    return round(len(notes) / (time.perf_counter() - started), 1)


def wait_for_pool(workers: int, ner: bool) -> float:
    started = time.perf_counter()
    while workers and shared_pool(workers, ner) is None:
        time.sleep(0.2)
    return round(time.perf_counter() - started, 1)


def redaction(tmp: Path, notes: list[str], workers: int) -> dict[str, Any]:
    names = {n for row in load_examples(DATA) for n in row["known_names"]}
    out: dict[str, Any] = {}
    for ner in (False, True):
        for w in sorted({0, workers}):
            settings = Settings(pii_ner=ner, pii_workers=w, pii_cache_texts=0)
            redactor = build_redactor(settings, fresh_sessions(tmp / f"v-{ner}-{w}.db"), names)
            redactor.redact(notes[0])  # models loaded outside the timing
            if w:
                out[f"pool_load_s_ner_{'on' if ner else 'off'}"] = wait_for_pool(w, ner)
            out[f"ner_{'on' if ner else 'off'}_workers_{w}"] = notes_per_s(redactor, notes)
    return out


def resync(tmp: Path, data: Path) -> dict[str, Any]:
    rt = Runtime(Settings(data_dir=tmp / "data", today="2026-11-20"))
    try:
        import_directory(data, rt.sessions, as_of=rt.clock.today())
        first = rt.indexer().sync()
        again = rt.indexer().sync()
    finally:
        rt.close()
    return {
        "records": first.records_indexed,
        "chunks": first.chunks_indexed,
        "first_sync_s": round(first.seconds, 1),
        "first_sync_chunks_per_s": round(first.chunks_indexed / first.seconds, 1),
        "resync_s": round(again.seconds, 2),
        "resync_records_unchanged": again.records_unchanged,
        "resync_records_indexed": again.records_indexed,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notes", type=int, default=480)
    parser.add_argument("--workers", type=int, default=max(default_workers(), 1))
    parser.add_argument("--data", type=Path, default=ROOT / "knowledge" / "sample")
    parser.add_argument("--skip-sync", action="store_true", help="redaction rates only")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks/results/ingest.json")
    args = parser.parse_args()
    notes = realistic_notes(args.notes)
    with tempfile.TemporaryDirectory() as tmp:
        result: dict[str, Any] = {
            "notes": len(notes),
            "mean_chars": round(sum(map(len, notes)) / len(notes)),
            "window": WINDOW,
            "redaction_notes_per_s": redaction(Path(tmp), notes, args.workers),
        }
        if not args.skip_sync:
            result["sample_sync"] = resync(Path(tmp), args.data)
    result["machine"] = machine()
    emit(result, args.out)


if __name__ == "__main__":
    main()
