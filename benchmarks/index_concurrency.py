"""Index concurrency benchmark: writers beside searchers, errors and note-to-searchable delay.

    python benchmarks/index_concurrency.py [--data knowledge/sample] [--notes 40]
        [--searches 110] [--give-up 60] [--out benchmarks/results/index_concurrency.json]

The CRM export in `--data` is imported and indexed in a temporary data dir (SQLite, the
embedded engine, the real model). Then, through the real FastAPI app (in-process, one
thread per client), 2 writers each log `--notes` notes while 8 searchers each run
`--searches` searches as different roles. After each note, its writer searches for the
note's unique word, as its author, until it is found (or `--give-up` seconds passed: the
note counts as unsearchable): the delay from sending the note to finding it, one search
included, is the note-to-searchable delay. Two modes:

- `wait`: the default (`CRMASSIST_INDEX_WAIT_SECONDS=10`): logging a note answers once the
  index worker has indexed it, so the delay includes the whole write.
- `async`: `CRMASSIST_INDEX_WAIT_SECONDS=0`: the note is answered as soon as it is in SQL
  and its outbox row; the delay is the background worker's.

Counted: every response by status (a 5xx is an error), request latencies, and whether
every note was searchable at the end. Results go to stdout and `--out` as JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402

from benchmarks.common import machine, percentiles  # noqa: E402
from crmassist.access.keys import issue_key  # noqa: E402
from crmassist.api import create_app  # noqa: E402
from crmassist.db import session_scope  # noqa: E402
from crmassist.ingest.importer import import_directory  # noqa: E402
from crmassist.runtime import Runtime  # noqa: E402
from crmassist.settings import Settings  # noqa: E402

WRITERS = {"U001": "A001", "U002": "A004"}  # reps, each on an account of their own
SEARCHERS = ["U001", "U002", "U003", "U007", "U010", "U013", "U001", "U003"]
QUERIES = [
    "how do I fix error E3?",
    "membrane replacement",
    "pump serviced load drill",
    "净水器漏水怎么办",
    "pressure drop at the plant",
    "what did we promise about the quote",
]


class Load:
    """One run of writers and searchers against one app; collects what happened."""

    def __init__(
        self, client: TestClient, auth: dict[str, dict[str, str]], tag: str, give_up_s: float
    ) -> None:
        self.client, self.auth, self.tag, self.give_up_s = client, auth, tag, give_up_s
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.write_ms: list[float] = []
        self.search_ms: list[float] = []
        self.delays_ms: list[float] = []
        self.unsearchable: list[str] = []

    def post(self, path: str, user: str, body: dict[str, Any]) -> tuple[int, Any, float]:
        started = time.perf_counter()
        response = self.client.post(path, headers=self.auth[user], json=body)
        elapsed = (time.perf_counter() - started) * 1000
        with self.lock:
            self.statuses[response.status_code] += 1
        is_json = "json" in response.headers.get("content-type", "")
        return response.status_code, response.json() if is_json else {}, elapsed

    def search_ids(self, user: str, query: str, account: str | None = None) -> list[str]:
        body = {"query": query, "k": 5, **({"account_id": account} if account else {})}
        status, found, elapsed = self.post("/v1/search", user, body)
        with self.lock:
            self.search_ms.append(elapsed)
        return [hit["record_id"] for hit in found] if status == 200 else []

    def writer(self, user: str, account: str, notes: int, w: int) -> None:
        for n in range(notes):
            word = f"zq{self.tag}{w}x{n}k"
            body = {"account_id": account, "summary": f"Load drill {word}: pump serviced."}
            sent = time.perf_counter()
            status, logged, elapsed = self.post("/v1/interactions", user, body)
            with self.lock:
                self.write_ms.append(elapsed)
            if status != 201:
                continue
            note_id = logged["interaction_id"]
            while note_id not in self.search_ids(user, word, account):
                if time.perf_counter() - sent > self.give_up_s:
                    self.unsearchable.append(note_id)
                    break
                time.sleep(0.02)
            else:
                with self.lock:
                    self.delays_ms.append((time.perf_counter() - sent) * 1000)

    def searcher(self, user: str, searches: int, s: int) -> None:
        for n in range(searches):
            self.search_ids(user, QUERIES[(s + n) % len(QUERIES)])

    def run(self, notes: int, searches: int) -> dict[str, Any]:
        threads = [
            threading.Thread(target=self.writer, args=(user, account, notes, w))
            for w, (user, account) in enumerate(WRITERS.items())
        ]
        threads += [
            threading.Thread(target=self.searcher, args=(user, searches, s))
            for s, user in enumerate(SEARCHERS)
        ]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        return self.report(time.perf_counter() - started, notes)

    def report(self, seconds: float, notes: int) -> dict[str, Any]:
        errors = sum(n for status, n in self.statuses.items() if status >= 500)
        return {
            "requests": sum(self.statuses.values()),
            "errors_5xx": errors,
            "statuses": dict(sorted(self.statuses.items())),
            "notes": notes * len(WRITERS),
            "notes_unsearchable": len(self.unsearchable),
            "note_to_searchable": percentiles(self.delays_ms) | {"max_ms": _max(self.delays_ms)},
            "write_latency": percentiles(self.write_ms),
            "search_latency": percentiles(self.search_ms),
            "seconds": round(seconds, 1),
        }


def _max(values: list[float]) -> float:
    return round(max(values), 1) if values else 0.0


def run_mode(data_dir: Path, wait_s: float, tag: str, args: argparse.Namespace) -> dict[str, Any]:
    rt = Runtime(Settings(data_dir=data_dir, index_wait_seconds=wait_s))
    try:
        with session_scope(rt.sessions) as session:
            users = set(SEARCHERS) | set(WRITERS)
            auth = {
                u: {"Authorization": f"Bearer {issue_key(session, u, 'bench').key}"} for u in users
            }
        app = create_app(runtime=rt)
        with TestClient(app, raise_server_exceptions=False) as client:  # count 500s, go on
            load = Load(client, auth, tag, args.give_up)
            load.search_ids("U001", "warm-up")
            result = load.run(args.notes, args.searches)
            ready = client.get("/readyz")
            result["ready_after"] = ready.status_code == 200
            result["index_outbox_after"] = ready.json().get("index_outbox")
        return {"index_wait_seconds": wait_s, **result}
    finally:
        rt.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=ROOT / "knowledge" / "sample")
    parser.add_argument("--notes", type=int, default=40, help="notes per writer")
    parser.add_argument("--searches", type=int, default=110, help="searches per searcher")
    parser.add_argument("--modes", default="wait,async")
    parser.add_argument("--give-up", type=float, default=60.0, help="seconds per note")
    parser.add_argument(
        "--out", type=Path, default=ROOT / "benchmarks/results/index_concurrency.json"
    )
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="crmassist-bench-"))
    try:
        settings = Settings(data_dir=tmp / "data", today="2026-11-20")
        rt = Runtime(settings)
        import_directory(args.data, rt.sessions, as_of=rt.clock.today())
        indexed = rt.indexer().sync()
        rt.close()
        waits = {"wait": 10.0, "async": 0.0}
        results = {
            "data": str(
                args.data.relative_to(ROOT) if args.data.is_relative_to(ROOT) else args.data
            ),
            "chunks": indexed.chunks_indexed,
            "writers": len(WRITERS),
            "searchers": len(SEARCHERS),
            "give_up_s": args.give_up,
            "modes": {
                mode: run_mode(tmp / "data", waits[mode], mode[0], args)
                for mode in args.modes.split(",")
            },
            "machine": machine(),
        }
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = json.dumps(results, indent=2, ensure_ascii=False)
    print(text)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
