"""Backup and restore of the embedded default through the real CLI, the real service and a
real CRM (SQLite, the embedded index, the real model): a restored data directory searches
and answers as the original did, a backup made while notes are logged restores an index
that agrees with SQL, and a damaged or foreign backup is refused in one line."""

from __future__ import annotations

import json
import os
import tarfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
import uvicorn
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from crmassist import backup as backups
from crmassist import discovery
from crmassist.api import create_app
from crmassist.api.server import DiscoverableServer
from crmassist.cli import app
from crmassist.domain.models import IndexOutbox, Interaction
from crmassist.retrieval.search import SearchRequest
from crmassist.runtime import Runtime
from crmassist.settings import Settings
from tests.agent_support import who
from tests.api_support import TODAY, bearer_keys, mini_runtime

pytestmark = pytest.mark.slow

QUESTIONS = ["what did Maria Gonzalez report at Acme?", "open tickets for Acme"]
QUERIES = ["pressure drop plant 2", "leaking purifier"]


@pytest.fixture(autouse=True)
def embedded(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every CLI call here names its --data-dir; nothing else may point elsewhere."""
    for name in ("CRMASSIST_DATA_DIR", "CRMASSIST_DATABASE_URL", "CRMASSIST_QDRANT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("CRMASSIST_TODAY", TODAY.isoformat())


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """The mini CRM imported and indexed, with the vault's key file beside it (the embedded
    default makes `secret.key`; written here where it does not); closed again."""
    rt = mini_runtime(tmp_path / "data")
    rt.close()
    key = tmp_path / "data" / "secret.key"
    if not key.exists():
        key.write_bytes(os.urandom(32))
        key.chmod(0o600)
    return tmp_path / "data"


def cli(data_dir: Path, *args: str) -> Any:
    return CliRunner().invoke(app, ["--data-dir", str(data_dir), *args])


def observed(data_dir: Path) -> dict[str, Any]:
    """What a rep gets from search and from the assistant, minus per-run ids."""
    rt = Runtime(Settings(data_dir=data_dir, today=TODAY))
    try:
        rep = who(rt, "U1")
        hits = {
            q: [
                (h.record_id, round(h.score, 5))
                for h in rt.retriever().search(rep, SearchRequest(query=q))
            ]
            for q in QUERIES
        }
        answers = {}
        for question in QUESTIONS:
            reply = rt.assistant().ask(rep, question)
            answers[question] = (reply.answer, [c.record_id for c in reply.citations])
        return {"hits": hits, "answers": answers}
    finally:
        rt.close()


def test_a_restored_directory_searches_and_answers_the_same(data: Path, tmp_path: Path) -> None:
    before = observed(data)
    assert all(before["hits"].values()) and all(a for a, _ in before["answers"].values())

    made = cli(data, "backup", str(tmp_path / "backup"))
    assert made.exit_code == 0, made.output
    assert "Backed up to" in made.stdout and "secrets: secret.key" in made.output
    manifest = json.loads((tmp_path / "backup" / backups.MANIFEST).read_text())
    assert manifest["schema_revision"] and manifest["counts"]["index_points"] > 0
    assert manifest["counts"]["rows"]["interactions"] == 4 and manifest["secrets"] == ["secret.key"]
    assert (tmp_path / "backup" / "secrets" / "secret.key").stat().st_mode & 0o077 == 0

    restored = tmp_path / "restored"
    done = cli(restored, "restore", str(tmp_path / "backup"))
    assert done.exit_code == 0, done.output
    assert "0 to index" in done.stdout
    assert (restored / "secret.key").read_bytes() == (data / "secret.key").read_bytes()
    assert oct((restored / "secret.key").stat().st_mode & 0o777) == "0o600"
    index = cli(restored, "index")
    assert index.exit_code == 0 and "Indexed 0 records" in index.stdout, index.output
    assert "repaired" not in index.stdout
    assert observed(restored) == before

    again = cli(restored, "restore", str(tmp_path / "backup"))
    assert again.exit_code == 1 and "pass --force" in again.output
    assert len(again.output.strip().splitlines()) == 1
    forced = cli(restored, "restore", str(tmp_path / "backup"), "--force")
    assert forced.exit_code == 0, forced.output


@pytest.fixture
def running(data: Path) -> Iterator[tuple[Runtime, str]]:
    """A real service on `data` (its discovery file published), as `crmassist serve` runs."""
    rt = Runtime(Settings(data_dir=data, today=TODAY))
    rt.claim_index()
    service = create_app(runtime=rt)
    token = discovery.new_token()
    service.state.local_token = token
    config = uvicorn.Config(service, host="127.0.0.1", port=0, log_level="warning")
    server = DiscoverableServer(config, data, token)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while discovery.discover(data) is None and time.monotonic() < deadline:
        time.sleep(0.05)
    info = discovery.discover(data)
    assert info is not None
    yield rt, info.url
    server.should_exit = True
    thread.join(timeout=20)
    rt.close()


def test_a_backup_made_while_notes_are_logged_restores_a_whole_index(
    running: tuple[Runtime, str], data: Path, tmp_path: Path
) -> None:
    rt, _ = running
    keys = bearer_keys(rt, "U1", "U5")
    logged: list[str] = []
    stop = threading.Event()

    def writer() -> None:
        with TestClient(create_app(runtime=rt)) as client:
            while not stop.is_set():
                body = {"account_id": "A1", "channel": "call", "summary": f"Call {len(logged)}: "
                        "confirmed the filter swap on line 3."}  # fmt: skip
                answer = client.post("/v1/interactions", headers=keys["U1"], json=body)
                assert answer.status_code == 201, answer.text
                logged.append(answer.json()["interaction_id"])

    thread = threading.Thread(target=writer)
    thread.start()
    try:
        while len(logged) < 3:
            time.sleep(0.05)
        denied = cli(data, "backup", str(tmp_path / "b.tar.gz"), "--as", "U1")
        assert denied.exit_code == 1 and "only admins" in denied.output
        refused = cli(data, "backup", str(tmp_path / "b.tar.gz"))
        assert refused.exit_code == 2 and "--as ADMIN_ID" in refused.output
        made = cli(data, "backup", str(tmp_path / "b.tar.gz"), "--as", "U5")
        assert made.exit_code == 0, made.output
        after, deadline = len(logged), time.monotonic() + 60
        while len(logged) < after + 2 and time.monotonic() < deadline:  # logging goes on
            time.sleep(0.05)
    finally:
        stop.set()
        thread.join(timeout=60)

    with tarfile.open(tmp_path / "b.tar.gz") as tar:
        names = tar.getnames()
    assert "secrets/secret.key" in names  # added by the CLI: the service never sends it
    with rt.sessions() as session:
        audited = (
            session.execute(
                sa.text("SELECT actor_id FROM audit_events WHERE action = 'api:backup'")
            )
            .scalars()
            .all()
        )
    assert audited == ["U5"]

    restored = tmp_path / "restored"
    done = cli(restored, "restore", str(tmp_path / "b.tar.gz"))
    assert done.exit_code == 0, done.output
    check = Runtime(Settings(data_dir=restored, today=TODAY))
    try:
        plan = check.indexer().plan()
        with check.sessions() as session:
            notes = set(
                session.scalars(sa.select(Interaction.id).where(Interaction.id.in_(logged)))
            )
            owed = set(session.scalars(sa.select(IndexOutbox.record_id)))
        assert notes and notes <= set(logged)
        # The copy's index and SQL's record of it agree: nothing damaged, nothing stray;
        # what is still to index is what the outbox owes (notes logged during the copy).
        assert plan.repaired == 0 and plan.deleted == []
        assert {d.record_id for d in plan.stale} <= owed
        check.indexer().sync()
        rep = who(check, "U1")
        hits = check.retriever().search(rep, SearchRequest(query="filter swap on line 3", k=50))
        assert notes <= {h.record_id for h in hits}
    finally:
        check.close()


def test_only_admins_get_a_backup_from_the_api(data: Path) -> None:
    rt = Runtime(Settings(data_dir=data, today=TODAY))
    try:
        keys = bearer_keys(rt, "U1", "U5")
        with TestClient(create_app(runtime=rt)) as client:
            assert client.post("/v1/admin/backup", headers=keys["U1"]).status_code == 403
            answer = client.post("/v1/admin/backup", headers=keys["U5"])
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/gzip"
        assert answer.content[:2] == b"\x1f\x8b"
    finally:
        rt.close()


def test_a_damaged_or_foreign_backup_is_refused_in_one_line(data: Path, tmp_path: Path) -> None:
    assert cli(data, "backup", str(tmp_path / "good")).exit_code == 0
    assert cli(data, "backup", str(tmp_path / "good")).exit_code == 1  # never overwrites

    def refused(backup: Path, expected: str) -> None:
        target = tmp_path / f"target-{backup.name}"
        result = cli(target, "restore", str(backup))
        assert result.exit_code == 1 and expected in result.output, result.output
        assert len(result.output.strip().splitlines()) == 1
        assert not (target / "crmassist.db").exists()

    flipped = tmp_path / "flipped"
    assert cli(data, "backup", str(flipped)).exit_code == 0
    database = flipped / backups.DATABASE
    raw = bytearray(database.read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    database.write_bytes(bytes(raw))
    refused(flipped, "database/crmassist.db does not match its checksum")

    archive = tmp_path / "cut.tar.gz"
    assert cli(data, "backup", str(archive)).exit_code == 0
    archive.write_bytes(archive.read_bytes()[: archive.stat().st_size // 2])
    refused(archive, "cannot be read")

    newer = tmp_path / "newer"
    assert cli(data, "backup", str(newer)).exit_code == 0
    manifest = json.loads((newer / backups.MANIFEST).read_text())
    (newer / backups.MANIFEST).write_text(json.dumps({**manifest, "schema_revision": "9999"}))
    refused(newer, "schema revision 9999, newer than this crmassist knows")

    refused(tmp_path, "is not a crmassist backup")
    refused(tmp_path / "nothing.tar.gz", "no backup at")


def test_other_databases_are_pointed_to_their_own_tools(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRMASSIST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1/crm")
    result = cli(tmp_path, "backup", str(tmp_path / "b"))
    assert result.exit_code == 1 and "pg_dump" in result.output
    assert len(result.output.strip().splitlines()) == 1
    monkeypatch.delenv("CRMASSIST_DATABASE_URL")
    monkeypatch.setenv("CRMASSIST_QDRANT_URL", "http://qdrant:6333")
    result = cli(tmp_path, "restore", str(tmp_path / "b"))
    assert result.exit_code == 1 and "snapshots API" in result.output
