"""The data-quality report on real SQL (SQLite and PostgreSQL), every check hand-counted."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from crmassist.access.principal import Principal
from crmassist.crm.quality import Check, email_ok, phone_ok, quality_report
from crmassist.db import session_scope
from crmassist.domain.enums import Role
from crmassist.domain.models import Interaction
from crmassist.ingest.importer import import_directory
from tests.conftest import DATA

TODAY = date(2026, 11, 20)


def test_validators() -> None:
    assert email_ok("maria@acme-corp.example") and email_ok("li@hz-hotel.com.cn")
    assert not email_ok("maria@acme.notatld") and not email_ok("maria@@acme.com")
    assert phone_ok("+1 415 555 0134") and phone_ok("(0571) 5943 4351")
    assert not phone_ok("+1 555") and not phone_ok("12345")


@pytest.fixture
def crm(session_factory: sessionmaker[Session], tmp_path: Path) -> sessionmaker[Session]:
    """mini_crm (stale-free, every account with a contact and an owner) plus one of each
    problem; the counts below are what was planted, nothing else."""
    crm = tmp_path / "crm"
    shutil.copytree(DATA / "mini_crm", crm)
    with (crm / "accounts.csv").open("a", encoding="utf-8") as f:
        f.write("A8,Nobody's Account,,,,,\n")
    with (crm / "contacts.csv").open("a", encoding="utf-8") as f:
        f.write("C8,A1,Bad Mail,,bad@acme.notatld,+1 555\n")
    with (crm / "opportunities.csv").open("a", encoding="utf-8") as f:
        f.write("O8,A1,Acme old quote,proposal,1000.00,USD,2026-10-01,20,\n")
    import_directory(crm, session_factory, as_of=TODAY)
    return session_factory


def test_each_check_finds_what_was_planted(crm: sessionmaker[Session]) -> None:
    with crm() as session:
        baseline = {i.record_id for i in quality_report(session, TODAY).issues}
    with session_scope(crm) as session:  # a note naming another account's contact
        note = session.get(Interaction, "I1")
        assert note is not None
        note.contact_id = "C2"
    with crm() as session:
        report = quality_report(session, TODAY)
    found = {(i.check, i.record_id) for i in report.issues}
    assert (Check.MISSING_OWNER, "A8") in found
    assert (Check.MISSING_OWNER, "O8") in found  # an open deal without an owner
    assert (Check.INVALID_EMAIL, "C8") in found and (Check.INVALID_PHONE, "C8") in found
    assert (Check.STALE_DEAL, "O8") in found
    assert (Check.NO_CONTACTS, "A8") in found
    assert (Check.ORPHAN, "I1") in found
    assert report.counts == {
        Check.MISSING_OWNER: 2,
        Check.INVALID_EMAIL: 1,
        Check.INVALID_PHONE: 1,
        Check.STALE_DEAL: 1,
        Check.NO_CONTACTS: 1,
        Check.ORPHAN: 1,
    }, report.issues
    assert baseline == {"A8", "O8", "C8"}
    stale = next(i for i in report.issues if i.check is Check.STALE_DEAL)
    assert stale.detail.endswith("close date 2026-10-01 passed 50 days ago, still proposal")
    assert report.summary() == (
        "Data quality: 2 without an owner, 1 invalid e-mail(s), 1 invalid phone(s), "
        "1 orphan(s), 1 stale deal(s), 1 account(s) without contacts (details: crmassist "
        "quality)."
    )


def test_a_rep_sees_only_their_accounts_problems(crm: sessionmaker[Session]) -> None:
    with crm() as session:
        mine = quality_report(session, TODAY, Principal("U2", Role.REP, "enterprise-east"))
        everything = quality_report(session, TODAY)
    assert {i.account_id for i in mine.issues} <= {"A2"}
    assert mine.records_checked < everything.records_checked


def test_orphans_whose_parent_is_gone(crm: sessionmaker[Session], db_url: str) -> None:
    """A record whose account vanished (SQLite written without foreign keys)."""
    if not db_url.startswith("sqlite"):
        pytest.skip("PostgreSQL enforces the foreign key; such a row cannot exist there")
    engine = sa.create_engine(db_url)
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
        conn.exec_driver_sql("UPDATE orders SET account_id = 'A404' WHERE id = 'R1'")
    engine.dispose()
    with crm() as session:
        report = quality_report(session, TODAY)
    orphan = next(i for i in report.issues if i.record_id == "R1")
    assert orphan.check is Check.ORPHAN and "'A404', which does not exist" in orphan.detail


def test_cli_quality_lists_and_filters(
    crm: sessionmaker[Session], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from crmassist.cli import app

    monkeypatch.setenv("CRMASSIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CRMASSIST_TODAY", TODAY.isoformat())
    monkeypatch.delenv("CRMASSIST_DATABASE_URL", raising=False)
    runner = CliRunner()
    assert runner.invoke(app, ["import", str(tmp_path / "crm"), "--no-index"]).exit_code == 0
    result = runner.invoke(app, ["quality", "--check", "stale_deal", "--json"])
    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert [i["record_id"] for i in body["issues"]] == ["O8"]
    bad = runner.invoke(app, ["quality", "--check", "typo"])
    assert bad.exit_code == 2 and "unknown check 'typo'" in bad.stderr
