"""The import format's owner files (teams.csv, account_team.csv, tickets' assignee_id) on
real SQL: validation, upserts, prune, and the principals they make."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from crmassist.access.directory import principal_for
from crmassist.domain.models import AccountTeamMember, Team, Ticket
from crmassist.ingest.importer import ImportValidationError, import_directory
from tests.conftest import DATA

AS_OF = date(2026, 11, 20)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DATA / "mini_crm", tmp_path / "export"))


def _write(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")


def _problems(directory: Path, sessions: sessionmaker[Session], **options: bool) -> list[str]:
    with pytest.raises(ImportValidationError) as caught:
        import_directory(directory, sessions, as_of=AS_OF, **options)
    return [str(p) for p in caught.value.problems]


def _assign(export: Path, ticket: str, user: str | None) -> None:
    path = export / "tickets.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        if row["id"] == ticket:
            row["assignee_id"] = user
    _write(path, "".join(json.dumps(r) + "\n" for r in rows))


def test_bad_parents_and_memberships_are_reported_by_line(
    export: Path, session_factory: sessionmaker[Session]
) -> None:
    _write(
        export / "teams.csv",
        "name,parent\nSales,\nEnterprise West,Sales\nNowhere,Atlantis\nLoop A,Loop B\n"
        "Loop B,Loop A\n",
    )
    _write(
        export / "account_team.csv",
        "account_id,user_id,role\nA1,U2,Sales engineer\nA9,U2,\nA1,U99,\nA1,U2,again\n",
    )
    _assign(export, "T1", "U42")
    problems = _problems(export, session_factory)
    assert "teams.csv:4: parent: no team named 'Atlantis'" in problems
    assert "teams.csv:5: parent: 'Loop A' is in a loop" in problems
    assert "teams.csv:6: parent: 'Loop B' is in a loop" in problems
    assert "account_team.csv:3: account_id: no accounts with id 'A9'" in problems
    assert "account_team.csv:4: user_id: no users with id 'U99'" in problems
    assert any(p.startswith("account_team.csv:5: duplicate id") for p in problems)
    assert "tickets.jsonl:1: assignee_id: no users with id 'U42'" in problems
    assert len(problems) == 7


def test_owner_files_import_reimport_unchanged_and_prune(
    export: Path, session_factory: sessionmaker[Session]
) -> None:
    _write(
        export / "teams.csv", "name,parent\nSales,\nEnterprise West,Sales\nEnterprise East,Sales\n"
    )
    _write(export / "account_team.csv", "account_id,user_id,role\nA1,U2,Sales engineer\nA2,U1,\n")
    _assign(export, "T1", "U1")
    first = import_directory(export, session_factory, as_of=AS_OF)
    assert first.counts["teams"].as_tuple() == (
        1,
        2,
        0,
        0,
    )  # Sales is new; the others gain a parent
    assert first.counts["account team"].as_tuple() == (2, 0, 0, 0)
    again = import_directory(export, session_factory, as_of=AS_OF)
    assert again.counts["account team"].as_tuple() == (0, 0, 2, 0)
    assert again.counts["teams"].as_tuple() == (0, 0, 3, 0)
    with session_factory() as session:
        assert session.get(Team, "enterprise-west").parent_id == "sales"  # type: ignore[union-attr]
        assert session.get(Ticket, "T1").assignee_id == "U1"  # type: ignore[union-attr]
        role = session.get(AccountTeamMember, "A1\tU2").role  # type: ignore[union-attr]
        assert role == "Sales engineer"

    _write(export / "account_team.csv", "account_id,user_id,role\nA2,U1,Installer\n")
    _write(export / "teams.csv", "name,parent\n")  # teams are not pruned for being left out
    pruned = import_directory(export, session_factory, as_of=AS_OF, prune=True)
    assert pruned.counts["account team"].as_tuple() == (0, 1, 0, 1)
    with session_factory() as session:
        assert session.get(Team, "sales") is not None  # it still has child teams
        assert set(session.scalars(sa.select(AccountTeamMember.id))) == {"A2\tU1"}


def test_a_pruned_user_leaves_tickets_unassigned_and_account_teams(
    export: Path, session_factory: sessionmaker[Session]
) -> None:
    _write(export / "account_team.csv", "account_id,user_id\nA1,U2\nA2,U1\n")
    _assign(export, "T2", "U2")
    import_directory(export, session_factory, as_of=AS_OF)
    users = (export / "users.csv").read_text(encoding="utf-8").splitlines()
    _write(export / "users.csv", "\n".join(u for u in users if not u.startswith("U2,")) + "\n")
    notes = (export / "interactions.jsonl").read_text(encoding="utf-8").splitlines()
    _write(export / "interactions.jsonl", "".join(n + "\n" for n in notes if '"U2"' not in n))
    for name in ("account_team.csv", "tickets.jsonl", "accounts.csv", "opportunities.csv"):
        (export / name).unlink()  # left as they are; only the user goes
    report = import_directory(export, session_factory, as_of=AS_OF, prune=True)
    assert report.counts["account team"].deleted == 1
    with session_factory() as session:
        assert session.get(Ticket, "T2").assignee_id is None  # type: ignore[union-attr]
        assert set(session.scalars(sa.select(AccountTeamMember.id))) == {"A2\tU1"}


def test_a_manager_reaches_the_teams_below_theirs(
    export: Path, session_factory: sessionmaker[Session]
) -> None:
    _write(export / "teams.csv", "name,parent\nEnterprise,\nEnterprise West,Enterprise\n")
    users = (export / "users.csv").read_text(encoding="utf-8")
    _write(
        export / "users.csv",
        users + "U7,Vera Lang,vera@aquapure.example,manager,Enterprise,\n",
    )
    import_directory(export, session_factory, as_of=AS_OF)
    with session_factory() as session:
        assert principal_for(session, "U7").owners == ("U7", "U1", "U3")
        assert principal_for(session, "U3").owners == ("U3", "U1")
        assert principal_for(session, "U1").owners == ("U1",)
