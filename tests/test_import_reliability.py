"""Imports never lose or corrupt what users wrote (issue 11).

`--prune` leaves notes written in crmassist alone and refuses to take them with their
account or user unless told to; malformed CSV (an unbalanced quote, a huge value, NUL
characters) is a `file:line` problem, never swallowed rows or a crash.
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from crmassist.access.directory import principal_for
from crmassist.crm.activity import NewInteraction, log_interaction
from crmassist.domain.models import Account, Interaction, Origin, Task
from crmassist.ingest.importer import ImportValidationError, import_directory
from tests.conftest import DATA

AS_OF = date(2026, 11, 20)
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return Path(shutil.copytree(DATA / "mini_crm", tmp_path / "export"))


def load(directory: Path, sessions: sessionmaker[Session], **options: bool) -> dict[str, tuple]:
    report = import_directory(directory, sessions, as_of=AS_OF, **options)
    return dict(report.rows())


def problems_of(directory: Path, sessions: sessionmaker[Session], **options: bool) -> list[str]:
    with pytest.raises(ImportValidationError) as caught:
        import_directory(directory, sessions, as_of=AS_OF, **options)
    return [str(p) for p in caught.value.problems]


def log_note(sessions: sessionmaker[Session], author: str, account: str, follow_up: bool) -> str:
    """A note logged the way chat, Slack and the API log one."""
    with sessions.begin() as session:
        new = NewInteraction(
            account_id=account,
            summary="Called about the filter recall; customer happy with the swap.",
            follow_up_on=date(2026, 11, 27) if follow_up else None,
        )
        return log_interaction(session, principal_for(session, author), new, NOW).interaction_id


def drop_account(export: Path, account: str) -> None:
    for name in ("accounts.csv", "contacts.csv", "opportunities.csv", "orders.csv"):
        path = export / name
        lines = path.read_text(encoding="utf-8").splitlines()
        kept = [lines[0], *(ln for ln in lines[1:] if account not in ln.split(","))]
        path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    for name in ("interactions.jsonl", "tickets.jsonl"):
        path = export / name
        rows = [ln for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        kept = [ln for ln in rows if json.loads(ln)["account_id"] != account]
        path.write_text("\n".join(kept) + "\n", encoding="utf-8")


# --- prune keeps what crmassist wrote -------------------------------------------------------


def test_prune_keeps_notes_logged_in_crmassist(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    load(export, session_factory)
    note = log_note(session_factory, "U1", "A1", follow_up=True)

    report = import_directory(export, session_factory, prune=True, as_of=AS_OF)

    assert report.counts["interactions"].deleted == 0
    assert any("kept 1 note(s) created in crmassist" in w for w in report.warnings)
    with session_factory() as session:
        kept = session.get(Interaction, note)
        assert kept is not None and kept.origin is Origin.CRMASSIST
        assert session.get(Interaction, "I1").origin is Origin.IMPORT  # type: ignore[union-attr]
        assert session.scalar(sa.select(Task.interaction_id)) == note


def test_prune_still_deletes_imported_notes_the_export_dropped(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    load(export, session_factory)
    log_note(session_factory, "U1", "A1", follow_up=False)
    lines = (export / "interactions.jsonl").read_text(encoding="utf-8").splitlines()
    (export / "interactions.jsonl").write_text(
        "\n".join(ln for ln in lines if '"I4"' not in ln) + "\n", encoding="utf-8"
    )

    counts = load(export, session_factory, prune=True)

    assert counts["interactions"][3] == 1
    with session_factory() as session:
        assert session.get(Interaction, "I4") is None
        assert session.scalar(sa.select(sa.func.count()).select_from(Interaction)) == 4


def test_prune_refuses_to_take_crmassist_notes_with_their_account(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    load(export, session_factory)
    note = log_note(session_factory, "U2", "A2", follow_up=True)
    drop_account(export, "A2")

    assert problems_of(export, session_factory, prune=True) == [
        "accounts.csv: 1 accounts missing from the file ('A2') hold 1 note(s) and 1 task(s) "
        "created in crmassist, which the export does not have; keep those accounts in the "
        "file, or prune with --prune-local to delete them too"
    ]
    with session_factory() as session:
        assert session.get(Account, "A2") is not None
        assert session.get(Interaction, note) is not None

    counts = load(export, session_factory, prune=True, prune_local=True)

    assert counts["accounts"][3] == 1
    with session_factory() as session:
        assert session.get(Interaction, note) is None
        assert session.scalar(sa.select(sa.func.count()).select_from(Task)) == 0


def test_prune_refuses_to_take_crmassist_notes_with_their_author(
    session_factory: sessionmaker[Session], export: Path, tmp_path: Path
) -> None:
    load(export, session_factory)
    note = log_note(session_factory, "U2", "A2", follow_up=False)
    users_only = tmp_path / "users_only"
    users_only.mkdir()
    lines = (export / "users.csv").read_text(encoding="utf-8").splitlines()
    (users_only / "users.csv").write_text(
        "\n".join(ln for ln in lines if not ln.startswith("U2,")) + "\n", encoding="utf-8"
    )
    (users_only / "interactions.jsonl").write_text(
        "".join(
            ln + "\n"
            for ln in (export / "interactions.jsonl").read_text(encoding="utf-8").splitlines()
            if json.loads(ln)["author_id"] != "U2"
        ),
        encoding="utf-8",
    )

    problems = problems_of(users_only, session_factory, prune=True)

    assert problems == [
        "users.csv: 1 users missing from the file ('U2') hold 1 note(s) and 0 task(s) created "
        "in crmassist, which the export does not have; keep those users in the file, or "
        "prune with --prune-local to delete them too"
    ]
    load(users_only, session_factory, prune=True, prune_local=True)
    with session_factory() as session:
        assert session.get(Interaction, note) is None


def test_a_note_the_export_takes_over_becomes_the_exports(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    """Once the source CRM exports a note crmassist logged, the export owns (and prunes) it."""
    load(export, session_factory)
    note = log_note(session_factory, "U1", "A1", follow_up=False)
    line = {
        "id": note,
        "account_id": "A1",
        "author_id": "U1",
        "channel": "call",
        "occurred_at": "2026-11-20T09:00:00Z",
        "body": "Called about the filter recall; customer happy with the swap.",
    }
    with (export / "interactions.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
    load(export, session_factory, prune=True)
    with session_factory() as session:
        assert session.get(Interaction, note).origin is Origin.IMPORT  # type: ignore[union-attr]


# --- malformed CSV is a file:line problem ---------------------------------------------------


def test_an_unbalanced_quote_does_not_swallow_the_rows_after_it(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    (export / "accounts.csv").write_text(
        "id,name,industry,region,size,owner_id,created_at\n"
        'A1,"Acme Corporation,Manufacturing,North America,Enterprise,U1,\n'
        "A2,Harbor Lights Hotel,Hospitality,North America,Mid-Market,U99,\n"
        'A3,"West Lake Hotel",Hospitality,APAC,Enterprise,U6,\n'
        "A4,Delta Dairy,Food,EMEA,SMB,U1,\n",
        encoding="utf-8",
    )
    problems = problems_of(export, session_factory)
    assert problems[0] == (
        "accounts.csv:2: text follows a closing quote (lines 2-4): unbalanced quote? "
        "(a value in a CSV file is one line; a quote inside one is doubled)"
    )
    assert len([p for p in problems if p.startswith("accounts.csv")]) == 1


def test_a_quoted_value_spanning_lines_is_reported_where_it_starts(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    """The quote closes much later, legally: the rows in between (and the unknown owner
    U99 among them) would silently become part of one account name."""
    (export / "accounts.csv").write_text(
        "id,name,industry,region,size,owner_id,created_at\n"
        'A1,"Acme Corporation,Manufacturing,North America,Enterprise,U1,\n'
        "A2,Harbor Lights Hotel,Hospitality,North America,Mid-Market,U99,\n"
        'A3,West Lake Hotel",Hospitality,APAC,Enterprise,U6,\n'
        "A4,Delta Dairy,Food,EMEA,SMB,U1,\n",
        encoding="utf-8",
    )
    problems = problems_of(export, session_factory)
    assert problems[0] == (
        "accounts.csv:2: a quoted value runs from line 2 to line 4: unbalanced quote? "
        "(a value in a CSV file is one line; a quote inside one is doubled)"
    )


def test_a_quote_left_open_at_the_end_of_the_file(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    with (export / "accounts.csv").open("a", encoding="utf-8") as out:
        out.write('A4,"Delta Dairy,Food,EMEA,SMB,U1,\n')
    assert problems_of(export, session_factory) == [
        "accounts.csv:5: a quoted value is never closed (it runs to the end of the file): "
        "unbalanced quote? (a value in a CSV file is one line; a quote inside one is doubled)"
    ]


def test_a_huge_csv_value_is_a_problem_not_a_crash(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    with (export / "accounts.csv").open("a", encoding="utf-8") as out:
        out.write('A4,"' + "x" * 60_000_000 + '",Food,EMEA,SMB,U1,\n')
    assert problems_of(export, session_factory) == [
        "accounts.csv:5: a value longer than 131072 characters (line 5): an unclosed quote?"
    ]


def test_a_value_just_over_the_row_limit_is_named_by_field(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    with (export / "accounts.csv").open("a", encoding="utf-8") as out:
        out.write("A4," + "x" * 100_001 + ",Food,EMEA,SMB,U1,\n")
    assert problems_of(export, session_factory) == [
        "accounts.csv:5: name: String should have at most 100000 characters"
    ]


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ('"\x00,Evil Corp', "a quoted value is never closed"),
        ('"\x00,Evil Corp,Food,EMEA,SMB,U1,\n', "a quoted value is never closed"),
        (
            "\x00,Evil Corp,Food,EMEA,SMB,U1,\n",
            "id: Value error, contains the control character U+0000",
        ),
        (
            "A4,Evil\x07Corp,Food,EMEA,SMB,U1,\n",
            "name: Value error, contains the control character U+0007",
        ),
    ],
)
def test_nul_and_control_characters_are_rejected(
    session_factory: sessionmaker[Session], export: Path, line: str, problem: str
) -> None:
    with (export / "accounts.csv").open("a", encoding="utf-8") as out:
        out.write(line)
    problems = problems_of(export, session_factory)
    assert len(problems) == 1
    assert problems[0].startswith("accounts.csv:5: " + problem)
    with session_factory() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Account)) == 0


def test_a_nul_in_a_note_is_rejected_on_every_backend(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    """PostgreSQL cannot store NUL: it must be a problem before anything is written."""
    note = {
        "id": "I9",
        "account_id": "A1",
        "author_id": "U1",
        "channel": "note",
        "occurred_at": "2026-11-19T10:00:00Z",
        "body": "pasted from a binary\x00blob",
    }
    with (export / "interactions.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps(note) + "\n")
    assert problems_of(export, session_factory) == [
        "interactions.jsonl:5: body: Value error, contains the control character U+0000"
    ]


def test_line_separators_inside_values_survive(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    """JSON strings may hold U+2028 and U+0085 raw; they are text, not line breaks."""
    body = "First point\u2028second point\x85third"
    note = {
        "id": "I9",
        "account_id": "A1",
        "author_id": "U1",
        "channel": "note",
        "occurred_at": "2026-11-19T10:00:00Z",
        "body": body,
    }
    with (export / "interactions.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps(note, ensure_ascii=False) + "\n")
    with (export / "accounts.csv").open("a", encoding="utf-8") as out:
        out.write("A4,Delta\u2028Dairy,Food,EMEA,SMB,U1,\n")
    load(export, session_factory)
    with session_factory() as session:
        assert session.get(Interaction, "I9").body == body  # type: ignore[union-attr]
        assert session.get(Account, "A4").name == "Delta\u2028Dairy"  # type: ignore[union-attr]
