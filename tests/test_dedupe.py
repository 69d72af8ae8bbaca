"""Duplicate detection, merging and undo on real SQL (SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from crmassist.cli import app
from crmassist.crm.dedupe import (
    DedupeError,
    apply_plan,
    company_key,
    email_key,
    person_key,
    phone_keys,
    plan_merges,
    undo_merge,
)
from crmassist.db import make_session_factory, session_scope, upgrade_schema
from crmassist.domain.enums import SourceType
from crmassist.domain.models import (
    Account,
    AccountTeamMember,
    AuditEvent,
    Contact,
    Interaction,
    Opportunity,
    Order,
    Task,
    Ticket,
)
from crmassist.ingest.importer import import_directory
from tests.conftest import DATA, keyed_engine
from tests.planted_duplicates import generate, precision_recall

TODAY = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)


@pytest.mark.parametrize(
    ("name", "key"),
    [
        ("ACME Corp.", "acme"),
        ("Acme Corporation", "acme"),
        ("Müller GmbH & Co. KG", "muller"),
        ("The Harbor Lights Hotel Ltd", "harbor lights hotel"),
        ("杭州西湖国际酒店有限公司", "西湖国际酒店"),
        ("西湖国际酒店（中国）集团有限公司", "西湖国际酒店"),
        ("北京精芯网络股份有限公司", "精芯网络"),
        ("集团", "集团"),  # nothing left to strip to: keep what there is
    ],
)
def test_company_names_normalise_to_one_key(name: str, key: str) -> None:
    assert company_key(name) == key


def test_people_emails_and_phones_normalise() -> None:
    assert person_key("Gonzalez, María") == person_key("maria gonzalez") == "gonzalez maria"
    assert person_key("王 芳") == "王芳"
    assert email_key(" Maria.Gonzalez+crm@Acme-Corp.example") == "maria.gonzalez@acme-corp.example"
    assert email_key("not an address") is None
    assert phone_keys("+1 (415) 555-0134") == phone_keys("+14155550134") == {"+14155550134"}
    assert "+8657159434351" in phone_keys("(0571) 5943 4351")  # Hangzhou, among others
    assert phone_keys("12-34") == frozenset()


def _write_crm(root: Path) -> Path:
    """mini_crm plus a second account for Acme (another legal form), a second entry for
    its contact, and records on both, so a merge has something of everything to move."""
    crm = root / "crm"
    shutil.copytree(DATA / "mini_crm", crm)

    def add(name: str, text: str) -> None:
        with (crm / name).open("a", encoding="utf-8") as f:
            f.write(text)

    add("accounts.csv", "A9,ACME Corp.,,North America,,U1,2025-01-01T00:00:00Z\n")
    add("contacts.csv", "C9,A9,maria gonzalez,,Maria.Gonzalez@acme-corp.example,\n")
    add("contacts.csv", "C8,A1,María González,Buyer,,+1 (415) 555-0134\n")
    add("opportunities.csv", "O9,A9,Acme spare parts,closed_won,5000.00,USD,2026-06-01,100,U1\n")
    add("orders.csv", "R9,A9,2026-06-10,5000.00,USD,Spare parts\n")
    note = {"id": "I9", "account_id": "A9", "contact_id": "C9", "author_id": "U1",
            "channel": "email", "occurred_at": "2026-10-01T10:00:00Z", "subject": "Parts",
            "body": "Sent the spare parts quote."}  # fmt: skip
    ticket = {"id": "T9", "account_id": "A9", "contact_id": "C9", "subject": "Leak",
              "body": "Small leak.", "status": "open", "priority": "low",
              "created_at": "2026-11-01T08:00:00Z"}  # fmt: skip
    add("interactions.jsonl", json.dumps(note) + "\n")
    add("tickets.jsonl", json.dumps(ticket) + "\n")
    return crm


@pytest.fixture
def crm(session_factory: sessionmaker[Session], tmp_path: Path) -> sessionmaker[Session]:
    import_directory(_write_crm(tmp_path), session_factory, as_of=TODAY)
    with session_scope(session_factory) as session:
        session.add(Task(id="K9", owner_id="U1", account_id="A9", title="Call about parts",
                         created_at=NOW))  # fmt: skip
        for account, user in (("A1", "U3"), ("A9", "U3"), ("A9", "U2")):  # account teams
            session.add(AccountTeamMember(id=f"{account}\t{user}", account_id=account,
                                          user_id=user, role="member"))  # fmt: skip
    return session_factory


def _snapshot(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    tables: dict[str, Any] = {"accounts": Account, "contacts": Contact, "deals": Opportunity,
                              "orders": Order, "notes": Interaction, "tickets": Ticket,
                              "tasks": Task, "teams": AccountTeamMember}  # fmt: skip
    return {
        name: sorted(
            tuple(getattr(row, c.key) for c in sa.inspect(model).columns)
            for row in session.scalars(sa.select(model))
        )
        for name, model in tables.items()
    }


def test_plan_finds_the_account_and_both_contact_entries(crm: sessionmaker[Session]) -> None:
    with crm() as session:
        plan = plan_merges(session)
    [account] = plan.of("account")
    assert account.survivor_id == "A1"  # more records than A9
    assert [d.id for d in account.duplicates] == ["A9"]
    assert any("the same name" in r for r in account.duplicates[0].reasons)
    [contact] = plan.of("contact")
    assert contact.survivor_id == "C1"
    assert sorted(d.id for d in contact.duplicates) == ["C8", "C9"]
    reasons = {d.id: " ".join(d.reasons) for d in contact.duplicates}
    assert "the same e-mail" in reasons["C9"] and "the same phone" in reasons["C8"]
    assert plan.of("account")[0].survivor_name == "Acme Corporation"


def test_apply_keeps_everything_and_undo_restores_every_row(crm: sessionmaker[Session]) -> None:
    with crm() as session:
        before = _snapshot(session)
        plan = plan_merges(session)
    with session_scope(crm) as session:
        result = apply_plan(session, plan, "U5", NOW)
    assert (result.accounts_merged, result.contacts_merged) == (1, 2)
    assert result.affected[SourceType.ACCOUNT] == {"A1", "A9"}
    assert result.affected[SourceType.INTERACTION] == {"I1", "I4", "I9"}  # A1: its team grew
    assert result.affected[SourceType.TICKET] == {"T2", "T9"}
    with crm() as session:
        assert session.get(Account, "A9") is None
        assert session.get(Contact, "C9") is None and session.get(Contact, "C8") is None
        for model, rid in ((Opportunity, "O9"), (Order, "R9"), (Interaction, "I9"),
                           (Ticket, "T9"), (Task, "K9")):  # fmt: skip
            assert session.get(model, rid).account_id == "A1"  # type: ignore[union-attr]
        assert session.get(Interaction, "I9").contact_id == "C1"  # type: ignore[union-attr]
        assert session.get(Ticket, "T9").contact_id == "C1"  # type: ignore[union-attr]
        team = session.scalars(sa.select(AccountTeamMember.user_id).where(
            AccountTeamMember.account_id == "A1")).all()  # fmt: skip
        assert sorted(team) == ["U2", "U3"]
        survivor = session.get(Contact, "C1")
        assert survivor is not None and survivor.email == "maria.gonzalez@acme-corp.example"
        event = session.get(AuditEvent, result.audit_id)
        assert event is not None and event.action == "dedupe.apply" and event.actor_id == "U5"
        assert len(_snapshot(session)["deals"]) == len(before["deals"])
    with session_scope(crm) as session:
        undone = undo_merge(session, result.audit_id, "U5", NOW)
    assert undone.affected[SourceType.ACCOUNT] == {"A1", "A9"}
    with crm() as session:
        assert _snapshot(session) == before
    with session_scope(crm) as session, pytest.raises(DedupeError, match="already undone"):
        undo_merge(session, result.audit_id, "U5", NOW)


def test_survivor_gets_the_fields_it_lacked_and_gives_them_back(
    crm: sessionmaker[Session],
) -> None:
    with session_scope(crm) as session:
        a1 = session.get(Account, "A1")
        assert a1 is not None
        a1.size = None
        a9 = session.get(Account, "A9")
        assert a9 is not None
        a9.size = "Enterprise"
    with crm() as session:
        plan = plan_merges(session, ["account"])
    assert plan.of("contact") == []
    with session_scope(crm) as session:
        result = apply_plan(session, plan, None, NOW)
    with crm() as session:
        assert session.get(Account, "A1").size == "Enterprise"  # type: ignore[union-attr]
    with session_scope(crm) as session:
        undo_merge(session, result.audit_id, None, NOW)
    with crm() as session:
        assert session.get(Account, "A1").size is None  # type: ignore[union-attr]
        assert session.get(Account, "A9").size == "Enterprise"  # type: ignore[union-attr]


def test_undo_refuses_when_a_merged_record_is_back(crm: sessionmaker[Session]) -> None:
    with crm() as session:
        plan = plan_merges(session, ["account"])
    with session_scope(crm) as session:
        result = apply_plan(session, plan, None, NOW)
    with session_scope(crm) as session:
        session.add(Account(id="A9", name="ACME Corp. (re-imported)"))
    with crm() as session:
        count = len(_snapshot(session)["deals"])
    with session_scope(crm) as session, pytest.raises(DedupeError, match="exists again"):
        undo_merge(session, result.audit_id, None, NOW)
    with crm() as session:
        assert len(_snapshot(session)["deals"]) == count


def test_a_stale_plan_changes_nothing(crm: sessionmaker[Session]) -> None:
    with crm() as session:
        plan = plan_merges(session)
        before = _snapshot(session)
    plan.groups[-1].duplicates[0].id = "C404"
    with (
        pytest.raises(DedupeError, match="C404 no longer exists"),
        session_scope(crm) as session,
    ):
        apply_plan(session, plan, None, NOW)
    with crm() as session:
        assert _snapshot(session) == before


def test_no_duplicates_in_the_mini_crm(session_factory: sessionmaker[Session]) -> None:
    import_directory(DATA / "mini_crm", session_factory, as_of=TODAY)
    with session_factory() as session:
        assert plan_merges(session).groups == []


@pytest.mark.parametrize("seed", [3, 4])
def test_planted_duplicates_are_found(tmp_path: Path, seed: int) -> None:
    """Precision and recall on a Faker-made CRM (1,000 companies in five locales, ~15% of
    them entered twice, ~6% of contacts entered twice); seeds 1-2 were looked at while
    the rules were written, these were not. Figures: docs/insights.md."""
    planted = generate(tmp_path / "crm", seed, accounts=1000)
    engine = keyed_engine(f"sqlite:///{tmp_path / 'crm.db'}")
    upgrade_schema(engine)
    sessions = make_session_factory(engine)
    import_directory(planted.directory, sessions, as_of=TODAY)
    with sessions() as session:
        plan = plan_merges(session)
    engine.dispose()
    accounts = precision_recall(plan.pairs("account"), planted.account_pairs)
    contacts = precision_recall(plan.pairs("contact"), planted.contact_pairs)
    print(f"seed {seed}: accounts P/R {accounts}, contacts P/R {contacts}")
    assert accounts[0] >= 0.93 and accounts[1] >= 0.97
    assert contacts[0] >= 0.97 and contacts[1] >= 0.97


@pytest.fixture
def cli_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CRMASSIST_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.setenv("CRMASSIST_TODAY", TODAY.isoformat())
    monkeypatch.delenv("CRMASSIST_DATABASE_URL", raising=False)
    monkeypatch.delenv("CRMASSIST_QDRANT_URL", raising=False)
    return _write_crm(tmp_path)


def test_cli_plan_review_apply_and_undo(cli_env: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    imported = runner.invoke(app, ["import", str(cli_env), "--no-index"])
    assert imported.exit_code == 0, imported.output
    assert "Data quality:" in imported.output
    shown = runner.invoke(app, ["dedupe", "--out", str(tmp_path / "plan.json")])
    assert shown.exit_code == 0, shown.output
    assert "A9 ACME Corp." in shown.output and "would be merged" in shown.output
    reviewed = json.loads((tmp_path / "plan.json").read_text())
    reviewed["groups"] = [g for g in reviewed["groups"] if g["kind"] == "account"]
    (tmp_path / "plan.json").write_text(json.dumps(reviewed))
    applied = runner.invoke(app, ["dedupe", "--apply", "--plan", str(tmp_path / "plan.json")])
    assert applied.exit_code == 0, applied.output
    assert "Merged 1 account(s) and 0 contact(s)" in applied.output
    assert "no index yet" in applied.output
    audit_id = applied.output.split("--undo ")[1].split()[0]
    again = json.loads(runner.invoke(app, ["dedupe", "--json"]).stdout)
    assert [g["kind"] for g in again["groups"]] == ["contact"]  # the contacts, now in A1
    undone = runner.invoke(app, ["dedupe", "--undo", audit_id])
    assert undone.exit_code == 0, undone.output
    assert "restored 1 account(s)" in undone.output
    twice = runner.invoke(app, ["dedupe", "--undo", audit_id])
    assert twice.exit_code == 1 and "already undone" in twice.stderr
    assert "Traceback" not in twice.stderr
    misuse = runner.invoke(app, ["dedupe", "--plan", str(tmp_path / "plan.json")])
    assert misuse.exit_code == 2 and "--apply" in misuse.stderr
