"""The index is never silently wrong: lost, damaged, half-built or shared, it says so, and
`crmassist index` repairs it; notes written under load all become searchable.

Everything runs through the real entry points: the `crmassist` CLI (in-process and as a
second OS process), the FastAPI app, the real embedding model and the embedded engine.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from crmassist.access.filters import match
from crmassist.access.keys import issue_key
from crmassist.access.policy import PayloadKey
from crmassist.api import create_app
from crmassist.cli import app as cli_app
from crmassist.db import session_scope
from crmassist.domain.enums import Channel, SourceType
from crmassist.domain.models import IndexedRecord, IndexOutbox, Interaction, Ticket
from crmassist.ingest.documents import iter_documents
from crmassist.ingest.indexer import Indexer
from crmassist.ingest.outbox import IndexWorker, owe
from crmassist.retrieval.edge_store import EdgeStore
from crmassist.retrieval.store import (
    ChunkPoint,
    CollectionMissingError,
    SparseVector,
    StoreInUseError,
)
from crmassist.runtime import Runtime
from crmassist.settings import Settings
from tests.conftest import DATA

pytestmark = pytest.mark.slow
MINI = DATA / "mini_crm"
CRMASSIST = Path(sys.executable).parent / "crmassist"


@pytest.fixture(autouse=True)
def _embedded_only(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("CRMASSIST_DATABASE_URL", "CRMASSIST_QDRANT_URL", "CRMASSIST_QDRANT_PATH"):
        monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The mini CRM imported and indexed once, through the CLI."""
    data = tmp_path_factory.mktemp("template") / "data"
    result = CliRunner().invoke(cli_app, ["--data-dir", str(data), "import", str(MINI)])
    assert result.exit_code == 0, result.output
    return data


@pytest.fixture
def data(template: Path, tmp_path: Path) -> Path:
    """A private copy of the indexed mini CRM."""
    copy = tmp_path / "data"
    shutil.copytree(template, copy)
    return copy


def cli(data: Path, *args: str) -> Any:
    return CliRunner().invoke(cli_app, ["--data-dir", str(data), *args])


@contextmanager
def serving(data: Path, **settings: Any) -> Iterator[tuple[TestClient, Runtime]]:
    """The app on `data`; a 500 is an answer to count, not an exception in the caller."""
    rt = Runtime(Settings(data_dir=data, **settings))
    try:
        with TestClient(create_app(runtime=rt), raise_server_exceptions=False) as client:
            yield client, rt
    finally:
        rt.close()


def keys(rt: Runtime, *users: str) -> dict[str, dict[str, str]]:
    with session_scope(rt.sessions) as session:
        issued = {u: issue_key(session, u, "tests").key for u in users}
    return {u: {"Authorization": f"Bearer {k}"} for u, k in issued.items()}


def found(client: TestClient, auth: dict[str, str], query: str, **body: Any) -> list[str]:
    response = client.post("/v1/search", headers=auth, json={"query": query, "k": 5, **body})
    assert response.status_code == 200, response.text
    return [hit["record_id"] for hit in response.json()]


def index_agrees_with_sql(rt: Runtime) -> None:
    """Every record SQL holds is in the index, as many chunks as recorded, this version."""
    held = rt.store.inventory()
    with rt.sessions() as session:
        docs = list(iter_documents(session))
        recorded = {
            (r.source_type, r.record_id): r.chunk_count
            for r in session.scalars(sa.select(IndexedRecord))
        }
    assert set(held) == {(d.source_type.value, d.record_id) for d in docs}
    for doc in docs:
        key = (doc.source_type.value, doc.record_id)
        assert held[key].hashes == {doc.content_hash}, key
        assert held[key].count == recorded[key], key


def owed(rt: Runtime) -> list[IndexOutbox]:
    with rt.sessions() as session:
        return list(session.scalars(sa.select(IndexOutbox)))


# -- a lost, damaged or half-built index ---------------------------------------------------


def test_a_lost_index_directory_is_reported_and_crmassist_index_repairs_it(data: Path) -> None:
    shutil.rmtree(data / "qdrant" / "crmassist")
    with serving(data) as (client, rt):
        auth = keys(rt, "U1")["U1"]
        note = {"account_id": "A1", "summary": "Drill: the quokka valve at plant 2 was swapped."}
        logged = client.post("/v1/interactions", headers=auth, json=note)
        assert logged.status_code == 201
        ready = client.get("/readyz")
        assert ready.status_code == 503  # not a nearly empty index that calls itself ready
        assert ready.json()["checks"]["index"].startswith("missing")
        assert ready.json()["index_outbox"]["pending"] == 1  # the note is owed, not lost
        assert client.post("/v1/search", headers=auth, json={"query": "valve"}).status_code == 503

    result = cli(data, "index")
    assert result.exit_code == 0, result.output

    with serving(data) as (client, rt):
        assert client.get("/readyz").status_code == 200
        index_agrees_with_sql(rt)
        assert owed(rt) == []
        auth = keys(rt, "U1")["U1"]
        assert logged.json()["interaction_id"] in found(client, auth, "quokka valve swapped")


def test_crmassist_index_trusts_the_index_itself_not_its_bookkeeping(data: Path) -> None:
    rt = Runtime(Settings(data_dir=data))
    rt.store.delete_by_filter(match(PayloadKey.SOURCE_TYPE, SourceType.KB))  # the index lost the KB
    with session_scope(rt.sessions) as session:  # and SQL claims a version the index lacks
        ticket = session.get(Ticket, "T1")
        assert ticket is not None
        ticket.body += " Update: the E7 chiller relay was replaced on site."
    with rt.sessions() as session:
        changed = next(iter_documents(session, {SourceType.TICKET: ["T1"]}))
    with session_scope(rt.sessions) as session:
        record = session.get(IndexedRecord, (SourceType.TICKET.value, "T1"))
        assert record is not None
        record.content_hash = changed.content_hash
    rt.close()

    with serving(data) as (client, _):
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["index"].startswith("mismatch")

    result = cli(data, "index")
    assert result.exit_code == 0, result.output
    assert "Indexed 4 records" in result.stdout  # 3 articles and the ticket, nothing else
    assert "4 repaired" in result.stdout

    with serving(data) as (client, rt):
        assert client.get("/readyz").status_code == 200
        index_agrees_with_sql(rt)
        support = keys(rt, "U4")["U4"]
        assert "T1" in found(client, support, "E7 chiller relay replaced", sources=["tickets"])
        assert found(client, support, "high TDS alarm", sources=["kb"])
    assert "Indexed 0 records" in cli(data, "index").stdout  # and then it is whole


def test_a_killed_rebuild_does_not_serve_as_ready(data: Path) -> None:
    rt = Runtime(Settings(data_dir=data))
    base = rt.indexer()
    indexer = Indexer(
        rt.sessions, rt.store, rt.encoder, rt.sparse, rt.redactor, base._chunker, batch_records=2
    )

    def killed(_: int) -> None:
        raise KeyboardInterrupt  # the process dies after its first batch

    with pytest.raises(KeyboardInterrupt):
        indexer.sync(rebuild=True, progress=killed)
    rt.close()

    with serving(data) as (client, _):
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["index"].startswith("incomplete")

    assert cli(data, "index").exit_code == 0  # the next run finishes what the rebuild began
    with serving(data) as (client, rt):
        assert client.get("/readyz").status_code == 200
        index_agrees_with_sql(rt)


def test_a_corrupted_index_answers_503_and_writes_still_land(data: Path) -> None:
    segment = glob.glob(str(data / "qdrant" / "crmassist" / "segments" / "*" / "segment.json"))
    Path(segment[0]).write_bytes(os.urandom(300))

    with serving(data) as (client, rt):
        ready = client.get("/readyz")
        assert ready.status_code == 503
        assert ready.json()["checks"]["index"].startswith("unavailable: the index")
        auth = keys(rt, "U1")["U1"]
        search = client.post("/v1/search", headers=auth, json={"query": "pressure drop"})
        assert search.status_code == 503
        assert search.headers["content-type"] == "application/problem+json"
        assert "run `crmassist index`" in search.json()["detail"]
        note = {"account_id": "A1", "summary": "Corruption drill: the wombat gauge reads low."}
        logged = client.post("/v1/interactions", headers=auth, json=note)
        assert logged.status_code == 201
        note_id = logged.json()["interaction_id"]
        with rt.sessions() as session:
            assert session.get(Interaction, note_id) is not None
        (row,) = owed(rt)
        assert (row.record_id, row.attempts) == (note_id, 1)
        assert "cannot be read" in (row.last_error or "")

    result = cli(data, "index")  # an unreadable index is rebuilt from SQL
    assert result.exit_code == 0, result.output
    with serving(data) as (client, rt):
        assert client.get("/readyz").status_code == 200
        index_agrees_with_sql(rt)
        assert owed(rt) == []
        assert note_id in found(client, keys(rt, "U1")["U1"], "wombat gauge reads low")


def test_a_shard_deleted_while_open_is_missing_not_served_from_a_stale_handle(
    tmp_path: Path,
) -> None:
    store = EdgeStore(tmp_path / "index")
    store.ensure_collection(4)
    store.upsert(
        [
            ChunkPoint(
                f"00000000-0000-0000-0000-00000000000{i}",
                [1.0, 0, 0, i],
                SparseVector([1], [1.0]),
                {PayloadKey.RECORD_ID: str(i)},
            )
            for i in range(3)
        ]
    )
    assert store.count() == 3
    shutil.rmtree(tmp_path / "index")
    assert not store.exists()
    with pytest.raises(CollectionMissingError):
        store.count()
    store.ensure_collection(4)  # what `crmassist index` does next: a new shard, really opened
    assert store.count() == 0
    store.close()


# -- one process per embedded index ----------------------------------------------------------


def run_cli(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CRMASSIST_DATA_DIR": str(data)}
    return subprocess.run(
        [str(CRMASSIST), *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_a_second_process_is_turned_away_in_one_line_before_it_writes(data: Path) -> None:
    owner = Runtime(Settings(data_dir=data))
    assert owner.store.count() > 0  # a process using the index holds it
    try:
        with owner.sessions() as session:
            notes_before = session.scalar(sa.select(sa.func.count(Interaction.id)))
        for args in (
            ["index"],
            ["serve", "--port", "18767"],
            ["ask", "log a call with Acme: they want the quote by Friday", "--as", "U1"],
            ["search", "pressure drop", "--as", "U1"],
        ):
            done = run_cli(data, *args)
            assert done.returncode == 1, (args, done.stdout, done.stderr)
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and "Traceback" not in done.stderr, (args, done.stderr)
            assert f"in use by process {os.getpid()}" in lines[0]
        with owner.sessions() as session:
            assert session.scalar(sa.select(sa.func.count(Interaction.id))) == notes_before
        with pytest.raises(StoreInUseError, match="in use by process"):
            Runtime(Settings(data_dir=data)).claim_index()  # a second runtime in-process too
        assert run_cli(data, "users", "list").returncode == 0  # SQL-only commands still work
    finally:
        owner.close()
    assert run_cli(data, "index").returncode == 0  # once the owner is gone, it is free


# -- concurrent writers and searchers --------------------------------------------------------

WRITERS, NOTES_PER_WRITER, SEARCHERS, SEARCHES_PER_SEARCHER = 2, 15, 8, 25
AUTHORS = {"U1": "A1", "U2": "A2"}  # each rep logs on the account they own


def _write(client: TestClient, auth: dict[str, str], account: str, writer: int) -> list[Any]:
    results = []
    for n in range(NOTES_PER_WRITER):
        word = f"zq{writer}x{n}k"
        body = {"account_id": account, "summary": f"Load drill note {word}: pump serviced."}
        response = client.post("/v1/interactions", headers=auth, json=body)
        results.append((response.status_code, word, response.json().get("interaction_id")))
    return results


def _search(client: TestClient, auth: dict[str, str], n: int) -> list[int]:
    queries = ("pressure drop", "load drill pump", "dispenser cooling", "E3 alarm", "quote")
    return [
        client.post("/v1/search", headers=auth, json={"query": queries[i % 5], "k": 5}).status_code
        for i in range(n)
    ]


def test_concurrent_writers_and_searchers_lose_nothing(data: Path) -> None:
    with serving(data) as (client, rt):
        auth = keys(rt, "U1", "U2", "U3", "U4", "U5")
        writes: list[list[Any]] = [[] for _ in range(WRITERS)]
        searches: list[list[int]] = [[] for _ in range(SEARCHERS)]
        users = list(auth)

        def writer(w: int) -> None:
            author = list(AUTHORS)[w]
            writes[w] = _write(client, auth[author], AUTHORS[author], w)

        def searcher(s: int) -> None:
            searches[s] = _search(client, auth[users[s % len(users)]], SEARCHES_PER_SEARCHER)

        threads = [threading.Thread(target=writer, args=(w,)) for w in range(WRITERS)]
        threads += [threading.Thread(target=searcher, args=(s,)) for s in range(SEARCHERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

        statuses = Counter(
            [s for w in writes for s, _, _ in w] + [s for ss in searches for s in ss]
        )
        assert statuses == {
            201: WRITERS * NOTES_PER_WRITER,
            200: SEARCHERS * SEARCHES_PER_SEARCHER,
        }
        deadline = time.monotonic() + 60
        while (
            client.get("/readyz").json()["index_outbox"]["pending"] and time.monotonic() < deadline
        ):
            time.sleep(0.2)
        ready = client.get("/readyz")
        assert ready.status_code == 200 and ready.json()["index_outbox"]["pending"] == 0
        index_agrees_with_sql(rt)
        for w, author in enumerate(AUTHORS):
            for _, word, note_id in writes[w]:
                assert note_id in found(client, auth[author], word, account_id=AUTHORS[author])


# -- the outbox worker retries -----------------------------------------------------------------


def test_the_worker_retries_a_failed_note_until_it_is_indexed(data: Path) -> None:
    rt = Runtime(Settings(data_dir=data))
    try:
        failures = iter([RuntimeError("embedder went away")])

        def flaky() -> Indexer:
            if (failure := next(failures, None)) is not None:
                raise failure
            return rt.indexer()

        with session_scope(rt.sessions) as session:
            note = Interaction(
                id="N-retry000001",
                account_id="A1",
                author_id="U1",
                channel=Channel.CALL,
                occurred_at=rt.clock.now(),
                body="Retry drill: the axolotl filter housing cracked.",
            )
            session.add_all([note, owe(SourceType.INTERACTION, note.id)])
        worker = IndexWorker(flaky, rt.sessions, poll_s=0.05)
        worker.start()
        try:
            assert worker.wait_for({SourceType.INTERACTION: [note.id]}, timeout=30) is False
            (row,) = owed(rt)
            assert row.attempts == 1 and row.last_error == "embedder went away"
            deadline = time.monotonic() + 30
            while owed(rt) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert owed(rt) == []
        finally:
            worker.stop()
        index_agrees_with_sql(rt)
    finally:
        rt.close()
