"""Encryption at rest on SQLite and PostgreSQL: raw rows hold no personal data, the app
still finds, exports and erases people, revision 0010 encrypts a 0009 database in place,
keys are handled as documented, and rotation leaves the old key opening nothing."""

from __future__ import annotations

import logging
import os
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from crmassist import governance
from crmassist.api import create_app
from crmassist.cli import app
from crmassist.db import make_engine, make_session_factory, upgrade_schema
from crmassist.db.migrate import alembic_config
from crmassist.domain.models import AuditEvent, Contact, PiiToken
from crmassist.privacy import EntityType, TokenVault
from crmassist.privacy.crypto import (
    KEY_FILE,
    UNKNOWN_KEY,
    Keyring,
    SecretKeyError,
    encrypted_columns,
)
from crmassist.privacy.normalise import digest, normalise
from crmassist.privacy.rights import find_person, prove_absent
from crmassist.retrieval.search import SearchRequest
from crmassist.runtime import Runtime
from crmassist.settings import Settings
from tests.agent_support import who
from tests.api_support import TODAY, bearer_keys, mini_runtime
from tests.conftest import BACKENDS, fresh_database

MARIA = ("Maria Gonzalez", "maria.gonzalez@acme-corp.example", "+1 415 555 0134")
WANG = ("王芳", "wangfang@xihuhotel.example", "13812345678")
QUESTION = "what did Maria Gonzalez report at Acme?"


def raw(engine: sa.Engine, *tables: str) -> str:
    """The tables' rows as stored, read with plain SQL (no decorator decrypts them)."""
    with engine.connect() as conn:
        return "\n".join(
            str(tuple(row))
            for table in tables
            for row in conn.execute(sa.text(f'SELECT * FROM "{table}"'))
        )


def plain(text: str, values: tuple[str, ...]) -> set[str]:
    return {v for v in values if v in text or v.lower() in text.lower()}


@pytest.fixture(params=BACKENDS)
def db(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    with fresh_database(request.param, request, tmp_path) as url:
        yield url


@pytest.mark.slow
def test_rows_are_encrypted_and_people_are_still_found_exported_and_erased(
    db: str, tmp_path: Path
) -> None:
    rt = mini_runtime(tmp_path / "data", database_url=db)
    try:
        rt.assistant().ask(who(rt, "U1"), QUESTION)  # the vault holds her values now
        stored = raw(rt.engine, "contacts", "pii_tokens")
        assert plain(stored, MARIA + WANG) == set()
        unkeyed = digest(EntityType.EMAIL, normalise(EntityType.EMAIL, MARIA[1]))
        assert unkeyed not in stored  # the vault's key is an HMAC, not a bare sha256
        with rt.sessions() as session:
            contact = session.get(Contact, "C1")
            assert contact is not None
            assert (contact.name, contact.email, contact.phone) == MARIA
            assert find_person(session, email=f"  {MARIA[1].upper()} ").contact_id == "C1"
            values = set(session.scalars(sa.select(PiiToken.value)))
        assert set(MARIA) <= values

        data = governance.export_person(rt, None, via="test", email=MARIA[1].upper())
        assert data["contact"]["email"] == MARIA[1]
        assert set(MARIA) <= set(data["pseudonyms"].values())

        erasure = governance.erase_person(rt, None, via="test", email=MARIA[1])
        assert erasure.clean, erasure.proof
        with rt.sessions() as session:
            assert set(MARIA) & set(session.scalars(sa.select(PiiToken.value))) == set()
        # The proof looks inside encrypted columns too: a value planted there is named.
        with rt.sessions.begin() as session:
            session.add(Contact(id="C9", account_id="A3", name="Planted", email=WANG[1]))
        lines, _, _ = prove_absent(rt.sessions, None, {"email": WANG[1]})
        assert "contacts.email: 2 row(s)" in lines[0].sql
    finally:
        rt.close()


def _vault_row(email: str) -> dict[str, str]:
    unkeyed = digest(EntityType.EMAIL, normalise(EntityType.EMAIL, email))
    return {"token": f"<EMAIL_{unkeyed[:4]}>", "digest": unkeyed, "value": email}


def test_revision_0010_encrypts_a_0009_database_in_place(db_engine: sa.Engine) -> None:
    command.downgrade(alembic_config(db_engine), "0009")
    vault_row = _vault_row(MARIA[1])
    with db_engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO accounts (id, name, lifecycle_stage) VALUES ('A1', 'Acme', 'lead')"
            )
        )
        conn.execute(
            sa.text(
                "INSERT INTO contacts (id, account_id, name, email, phone) VALUES "
                "('C1', 'A1', :name, :email, :phone), ('C2', 'A1', 'No Mail', NULL, NULL)"
            ),
            dict(zip(("name", "email", "phone"), MARIA, strict=True)),
        )
        conn.execute(
            sa.text(
                "INSERT INTO pii_tokens (token, entity_type, digest, value) "
                "VALUES (:token, 'EMAIL', :digest, :value)"
            ),
            vault_row,
        )
    upgrade_schema(db_engine)

    stored = raw(db_engine, "contacts", "pii_tokens")
    assert plain(stored, MARIA) == set() and vault_row["digest"] not in stored
    sessions = make_session_factory(db_engine)
    with sessions() as session:
        contacts = {c.id: (c.name, c.email, c.phone) for c in session.scalars(sa.select(Contact))}
        assert contacts == {"C1": MARIA, "C2": ("No Mail", None, None)}
        assert find_person(session, email=MARIA[1]).contact_id == "C1"
    # The token issued before encryption is the one issued for the value now.
    assert TokenVault(sessions).token_for(EntityType.EMAIL, MARIA[1]) == vault_row["token"]

    command.downgrade(alembic_config(db_engine), "0009")
    with db_engine.connect() as conn:
        assert (
            conn.execute(sa.text("SELECT name, email, phone FROM contacts WHERE id = 'C1'")).one()
            == MARIA
        )
        assert conn.execute(sa.text("SELECT digest, value FROM pii_tokens")).one() == (
            vault_row["digest"],
            MARIA[1],
        )
    upgrade_schema(db_engine)


@pytest.fixture
def process_logging() -> Iterator[None]:
    """`serve` configures the process's logging on the stream it has (CliRunner's, closed
    afterwards): put the root logger back so later tests do not log into a closed file."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:], root.level = handlers, level


@pytest.mark.usefixtures("process_logging")
def test_production_without_a_key_refuses_to_start_in_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CRMASSIST_ENV", "production")
    monkeypatch.setenv("CRMASSIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CRMASSIST_SECRET_KEY")
    for command_line in (["users", "list"], ["serve", "--port", "0"]):
        result = CliRunner().invoke(app, command_line)
        assert result.exit_code == 1, result.output
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in result.stderr
        assert "CRMASSIST_ENV=production needs CRMASSIST_SECRET_KEY" in lines[0]
    assert not (tmp_path / "data" / KEY_FILE).exists()


def test_the_embedded_default_makes_a_key_once_and_a_wrong_key_stops_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("CRMASSIST_SECRET_KEY")
    data_dir = tmp_path / "data"
    with caplog.at_level(logging.WARNING, logger="crmassist.privacy.crypto"):
        rt = mini_runtime(data_dir)
    rt.close()
    key_file = data_dir / KEY_FILE
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert [r.message for r in caplog.records if "generated the key" in r.message]
    secret = key_file.read_text().strip()
    assert secret not in caplog.text

    again = Runtime(Settings(data_dir=data_dir))
    with again.sessions() as session:
        assert session.get(Contact, "C1").email == MARIA[1]  # type: ignore[union-attr]
    again.close()
    assert key_file.read_text().strip() == secret

    wrong = Runtime(Settings(data_dir=data_dir, secret_key=secrets.token_urlsafe(32)))
    with pytest.raises(SecretKeyError, match="is not the key this database"):
        _ = wrong.engine
    with pytest.raises(SecretKeyError, match="at least 32"):
        Keyring("too short")


@pytest.mark.slow
def test_rotation_re_encrypts_everything_and_the_old_key_opens_nothing(
    db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    old, new = secrets.token_urlsafe(32), secrets.token_urlsafe(32)
    monkeypatch.setenv("CRMASSIST_SECRET_KEY", old)
    rt = mini_runtime(tmp_path / "data", database_url=db)
    rep = who(rt, "U1")
    before = rt.assistant().ask(rep, QUESTION).answer
    hits = [c.record_id for c in rt.retriever().search(rep, SearchRequest(query=MARIA[2]))]
    with rt.sessions() as session:
        vault = dict(session.execute(sa.select(PiiToken.token, PiiToken.value)).all())
    rt.close()

    monkeypatch.setenv("CRMASSIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CRMASSIST_DATABASE_URL", db)
    monkeypatch.setenv("CRMASSIST_TODAY", TODAY.isoformat())
    monkeypatch.setenv("CRMASSIST_SECRET_KEY", new)
    refused = CliRunner().invoke(app, ["privacy", "rotate-key"])
    assert refused.exit_code == 2 and "CRMASSIST_SECRET_KEY_PREVIOUS" in refused.stderr
    monkeypatch.setenv("CRMASSIST_SECRET_KEY_PREVIOUS", old)
    rotated = CliRunner().invoke(app, ["privacy", "rotate-key"])
    assert rotated.exit_code == 0, rotated.output
    old_id, new_id = Keyring(old).key_id, Keyring(new).key_id
    assert f"key {old_id} -> {new_id}" in " ".join(rotated.stdout.split())  # rich wraps
    monkeypatch.delenv("CRMASSIST_SECRET_KEY_PREVIOUS")

    engine = make_engine(db)
    with engine.connect() as conn:
        stored = [
            v
            for c in encrypted_columns()
            for v in conn.scalars(sa.text(f'SELECT "{c.name}" FROM "{c.table.name}"'))
            if v is not None
        ]
    engine.dispose()
    assert len(stored) > len(vault)
    assert {Keyring(old).key_of(v) for v in stored} == {UNKNOWN_KEY}
    assert {Keyring(new).key_of(v) for v in stored} == {new_id}
    with pytest.raises(SecretKeyError, match="is not the key"):
        _ = Runtime(Settings(secret_key=old, database_url=db, data_dir=tmp_path / "x")).engine

    after = Runtime(Settings())
    try:
        with after.sessions() as session:
            assert dict(session.execute(sa.select(PiiToken.token, PiiToken.value)).all()) == vault
            assert find_person(session, email=MARIA[1]).contact_id == "C1"
            event = session.scalars(
                sa.select(AuditEvent).where(AuditEvent.action == "privacy:rotate-key")
            ).one()
        assert event.details["from_key"] == old_id and event.details["to_key"] == new_id
        assert old not in str(event.details) and new not in str(event.details)
        rep = who(after, "U1")
        assert [
            c.record_id for c in after.retriever().search(rep, SearchRequest(query=MARIA[2]))
        ] == hits
        assert after.assistant().ask(rep, QUESTION).answer == before
    finally:
        after.close()


@pytest.mark.slow
def test_logs_of_a_full_run_hold_no_secret_key_api_key_or_personal_data(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    rt = mini_runtime(tmp_path / "data", log_level="DEBUG")
    try:
        keys = bearer_keys(rt, "U1", "U3")
        with TestClient(create_app(runtime=rt)) as client:
            for user, headers in keys.items():
                assert client.get("/v1/accounts", headers=headers).status_code == 200
                assert client.get("/v1/accounts/A1", headers=headers).status_code == 200
                search = client.post("/v1/search", headers=headers, json={"query": MARIA[1]})
                assert search.status_code == 200
                chat = client.post("/v1/chat", headers=headers, json={"message": QUESTION})
                assert chat.status_code == 200, (user, chat.text)
    finally:
        rt.close()
    logged = "\n".join([caplog.text, *(f"{r.getMessage()} {r.args!r}" for r in caplog.records)])
    assert len(caplog.records) > 20  # the run did log
    secrets_seen = [os.environ["CRMASSIST_SECRET_KEY"]]
    secrets_seen += [h["Authorization"].removeprefix("Bearer ") for h in keys.values()]
    assert [s for s in secrets_seen if s in logged] == []
    assert plain(logged, MARIA) == set()
