"""Data rights through the real CLI and API on a real CRM (SQLite and PostgreSQL, the real
index and model): export reveals everything held about a person, erasure removes them
from every table and every chunk while notes keep their business content, and the proof
it prints agrees with an independent scan of the raw database and index."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from crmassist.api import create_app
from crmassist.cli import app
from crmassist.db import session_scope
from crmassist.domain.models import AuditEvent, Conversation, Interaction, PiiToken, Reminder
from crmassist.privacy.rights import TOMBSTONE
from crmassist.runtime import Runtime
from crmassist.settings import Settings
from tests.agent_support import who
from tests.api_support import TODAY, bearer_keys, mini_runtime
from tests.conftest import BACKENDS, fresh_database

pytestmark = pytest.mark.slow

MARIA = ("Maria Gonzalez", "maria.gonzalez@acme-corp.example", "+1 415 555 0134")
WANG = ("王芳", "wangfang@xihuhotel.example", "13812345678")


@pytest.fixture(params=BACKENDS)
def crm(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Settings]:
    """The mini CRM, indexed, with a conversation and searches about Maria Gonzalez; closed
    again so the CLI can take the index."""
    with fresh_database(request.param, request, tmp_path) as url:
        rt = mini_runtime(tmp_path / "data", database_url=url)
        rep = who(rt, "U1")
        rt.assistant().ask(rep, "what did Maria Gonzalez report at Acme?")
        from crmassist.retrieval.search import SearchRequest

        rt.retriever().search(rep, SearchRequest(query="maria.gonzalez@acme-corp.example"))
        with rt.sessions.begin() as session:  # a reminder elsewhere that names her
            session.add(
                Reminder(
                    id="R-MARIA", owner_id="U1", text="Call Maria Gonzalez about the valve",
                    due_at=datetime(2026, 11, 24, 9, tzinfo=UTC), time_zone="UTC",
                    account_id=None, state="pending", created_at=datetime.now(UTC),
                )
            )  # fmt: skip
        settings = rt.settings
        rt.close()
        monkeypatch.setenv("CRMASSIST_DATA_DIR", str(settings.data_dir))
        monkeypatch.setenv("CRMASSIST_DATABASE_URL", url)
        monkeypatch.setenv("CRMASSIST_TODAY", TODAY.isoformat())
        monkeypatch.delenv("CRMASSIST_QDRANT_URL", raising=False)
        yield settings


def raw_dump(rt: Runtime) -> str:
    """Every row of every table, read with plain SQL (not the code under test)."""
    parts = []
    with rt.engine.connect() as conn:
        for table in sa.inspect(conn).get_table_names():
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                parts.append(json.dumps([str(v) for v in row], ensure_ascii=False))
                parts.append(str(tuple(row)))
    return "\n".join(parts)


def index_dump(rt: Runtime) -> str:
    return "\n".join(
        json.dumps(p, ensure_ascii=False) for p in rt.store.payloads(["title", "text"])
    )


def found(values: tuple[str, ...], text: str) -> set[str]:
    return {v for v in values if v.lower() in text.lower()}


def test_export_reveals_everything_held_and_is_audited(crm: Settings) -> None:
    result = CliRunner().invoke(app, ["privacy", "export", "--email", MARIA[1].upper()])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["contact"]["id"] == "C1" and data["contact"]["phone"] == MARIA[2]
    assert [n["id"] for n in data["interactions"]] == ["I1"]  # I4 is on Acme, not about her
    assert MARIA[0] in data["interactions"][0]["body"]
    (conversation,) = data["conversations"]
    assert MARIA[0] in conversation["messages"][0]["content"]  # stored as a pseudonym
    assert set(data["pseudonyms"].values()) >= set(MARIA)
    assert {"interactions/I1", "tickets/T2", "accounts/A1"} <= set(data["index"]["records"])
    rt = Runtime(crm)
    try:
        with rt.sessions() as session:
            event = session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == "privacy:export")
            ).one()
        assert event.target == "contact/C1" and event.details["via"].startswith("cli:")
        assert found(MARIA, json.dumps(event.details, ensure_ascii=False)) == set()
    finally:
        rt.close()


def test_erase_removes_the_person_everywhere_and_prints_the_proof(crm: Settings) -> None:
    before = Runtime(crm)
    try:
        assert found(MARIA, raw_dump(before)) == set(MARIA)
        assert found(MARIA[:1], index_dump(before)) == set()  # indexed as pseudonyms
        with before.sessions() as session:
            vault = session.execute(sa.select(PiiToken.token, PiiToken.value))
            tokens = {token for token, value in vault if value in MARIA}  # stored encrypted
        assert len(tokens) == 3 and found(tuple(tokens), index_dump(before))
    finally:
        before.close()

    result = CliRunner().invoke(app, ["privacy", "erase", "--contact", "C1", "--yes"])
    assert result.exit_code == 0, result.output
    assert "Proof" in result.stdout and "yes" not in result.stdout
    for term in ("name", "email", "phone", *tokens):
        assert term in result.stdout
    assert found(MARIA, result.stdout) == set()  # the proof names kinds, never values

    rt = Runtime(crm)
    try:
        assert found(MARIA + tuple(tokens), raw_dump(rt)) == set()
        assert found(MARIA + tuple(tokens), index_dump(rt)) == set()
        with rt.sessions() as session:
            note = session.get(Interaction, "I1")
            assert note is not None and note.contact_id is None
            assert TOMBSTONE in note.body and "pressure drop of 0.8 bar" in note.body
            conversation = session.scalars(sa.select(Conversation)).one()
            assert TOMBSTONE in conversation.messages[0].content
            reminder = session.get(Reminder, "R-MARIA")
            assert reminder is not None and reminder.text.endswith("about the valve")
            erased = session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == "privacy:erase")
            ).one()
            assert erased.target == "contact/C1" and erased.details["clean"] is True
        # The note is still found by its business content, without her.
        from crmassist.retrieval.search import SearchRequest

        hits = rt.retriever().search(who(rt, "U1"), SearchRequest(query="pressure drop plant 2"))
        assert hits[0].record_id == "I1" and TOMBSTONE in hits[0].text
        assert rt.index_health() == "ok"
    finally:
        rt.close()

    again = CliRunner().invoke(app, ["privacy", "erase", "--contact", "C1", "--yes"])
    assert again.exit_code == 1 and "no contact 'C1'" in again.output


def test_erasing_a_chinese_contact_by_email_keeps_the_note(crm: Settings) -> None:
    result = CliRunner().invoke(app, ["privacy", "erase", "--email", WANG[1], "--yes", "--json"])
    assert result.exit_code == 0, result.output
    proof = json.loads(result.stdout)
    assert proof["clean"] is True and proof["changed"]["interactions"] == 1
    rt = Runtime(crm)
    try:
        assert found(WANG, raw_dump(rt)) == set()
        assert found(WANG, index_dump(rt)) == set()
        with rt.sessions() as session:
            note = session.get(Interaction, "I3")
            assert note is not None and "12楼净水器漏水" in note.body and TOMBSTONE in note.body
    finally:
        rt.close()


def test_the_cli_refuses_bad_requests_in_one_line(crm: Settings) -> None:
    both = CliRunner().invoke(app, ["privacy", "erase", "--contact", "C1", "--email", "x@y.z"])
    assert both.exit_code == 2 and "exactly one" in both.output
    unknown = CliRunner().invoke(app, ["privacy", "export", "--contact", "C999"])
    assert unknown.exit_code == 1 and "no contact 'C999'" in unknown.output
    declined = CliRunner().invoke(app, ["privacy", "erase", "--contact", "C1"], input="n\n")
    assert declined.exit_code == 1 and "nothing erased" in declined.output
    no_days = CliRunner().invoke(app, ["privacy", "purge"])
    assert no_days.exit_code == 1 and "CRMASSIST_CONVERSATION_RETENTION_DAYS" in no_days.output


def test_purge_enforces_retention(crm: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    rt = Runtime(crm)
    try:
        old = rt.assistant().ask(who(rt, "U2"), "what happened with Harbor Lights?")
        with session_scope(rt.sessions) as session:
            conversation = session.get(Conversation, old.conversation_id)
            assert conversation is not None
            conversation.updated_at = datetime.now(UTC) - timedelta(days=40)
    finally:
        rt.close()
    monkeypatch.setenv("CRMASSIST_CONVERSATION_RETENTION_DAYS", "30")
    result = CliRunner().invoke(app, ["privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "Purged 1 conversation(s)" in result.stdout
    rt = Runtime(Settings())
    try:
        with rt.sessions() as session:
            left = session.scalars(sa.select(Conversation.id)).all()
            asks = session.scalars(
                sa.select(AuditEvent).where(AuditEvent.target == old.conversation_id)
            ).all()
        assert old.conversation_id not in left and len(left) == 1  # the fresh one stays
        assert asks and all("message" not in e.details for e in asks if e.action == "ask")
    finally:
        rt.close()


def test_the_api_serves_admins_only_with_problem_details(crm: Settings) -> None:
    rt = Runtime(crm)
    try:
        keys = bearer_keys(rt, "U1", "U5")  # a rep and the admin
        with TestClient(create_app(runtime=rt)) as client:
            for path in ("/v1/privacy/export", "/v1/privacy/erase"):
                denied = client.post(path, json={"contact_id": "C1"}, headers=keys["U1"])
                assert denied.status_code == 403
                assert denied.headers["content-type"] == "application/problem+json"
            bad = client.post("/v1/privacy/erase", json={}, headers=keys["U5"])
            assert bad.status_code == 400 and "exactly one" in bad.json()["detail"]
            missing = client.post(
                "/v1/privacy/export", json={"contact_id": "C9"}, headers=keys["U5"]
            )
            assert missing.status_code == 404 and missing.json()["detail"] == "no contact 'C9'"
            exported = client.post(
                "/v1/privacy/export", json={"email": MARIA[1]}, headers=keys["U5"]
            )
            assert exported.status_code == 200 and exported.json()["contact"]["name"] == MARIA[0]
            erased = client.post("/v1/privacy/erase", json={"contact_id": "C1"}, headers=keys["U5"])
            assert erased.status_code == 200, erased.text
            assert erased.json()["clean"] is True
            # The running service forgot her: a search by her e-mail is answered with
            # nothing of hers, and the vault no longer restores her pseudonyms.
            search = client.post(
                "/v1/search", json={"query": MARIA[0], "k": 10}, headers=keys["U5"]
            )
            assert search.status_code == 200
            assert found(MARIA, search.text) == set()
        assert found(MARIA[1:], raw_dump(rt)) == set()
    finally:
        rt.close()


def test_the_proof_fails_loudly_where_a_value_survives(crm: Settings) -> None:
    """A copy erasure does not know of (a KB article quoting her e-mail): the proof names
    the column and the chunk, and the command exits 1."""
    from crmassist.domain.enums import Audience
    from crmassist.domain.models import KnowledgeArticle

    rt = Runtime(crm)
    try:
        with session_scope(rt.sessions) as session:
            session.add(
                KnowledgeArticle(
                    id="KB-LEAK",
                    title="Escalations",
                    audience=Audience.INTERNAL,
                    lang="en",
                    tags=[],
                    body=f"Escalate plant issues to {MARIA[1]} first.",
                )
            )
        rt.indexer().sync()
    finally:
        rt.close()
    result = CliRunner().invoke(app, ["privacy", "erase", "--contact", "C1", "--yes", "--json"])
    assert result.exit_code == 1
    proof = json.loads(result.stdout[: result.stdout.rindex("}") + 1])
    by_term = {line["term"]: line for line in proof["proof"]}
    assert proof["clean"] is False
    assert "knowledge_articles.body: 1 row(s)" in by_term["email"]["sql"]
    assert [t for t, line in by_term.items() if line["index"] == ["kb/KB-LEAK"]]
    assert "some values were still found" in result.output
