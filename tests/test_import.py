"""The import format end to end on real SQL (SQLite and PostgreSQL): validation, upserts,
pruning and derived lifecycle stages."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from crmassist.domain.enums import LifecycleStage
from crmassist.domain.models import (
    Account,
    Contact,
    Interaction,
    KnowledgeArticle,
    Opportunity,
    Task,
    Team,
    Ticket,
    User,
)
from crmassist.ingest.importer import (
    ImportValidationError,
    detect_lang,
    import_directory,
    lifecycle_stage,
    team_id,
)
from tests.conftest import DATA

MINI = DATA / "mini_crm"
AS_OF = date(2026, 11, 20)


@pytest.fixture
def export(tmp_path: Path) -> Path:
    """A writable copy of the mini CRM export."""
    return Path(shutil.copytree(MINI, tmp_path / "export"))


def load(directory: Path, sessions: sessionmaker[Session], **options: object) -> dict[str, tuple]:
    report = import_directory(directory, sessions, as_of=AS_OF, **options)  # type: ignore[arg-type]
    return dict(report.rows())


def problems_of(directory: Path, sessions: sessionmaker[Session], **options: object) -> list[str]:
    with pytest.raises(ImportValidationError) as caught:
        import_directory(directory, sessions, as_of=AS_OF, **options)  # type: ignore[arg-type]
    return [str(p) for p in caught.value.problems]


def edit_line(path: Path, line_no: int, old: str, new: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    assert old in lines[line_no - 1], lines[line_no - 1]
    lines[line_no - 1] = lines[line_no - 1].replace(old, new)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def count(sessions: sessionmaker[Session], model: type) -> int:
    with sessions() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model)) or 0


def test_first_import_inserts_everything_and_a_second_changes_nothing(
    session_factory: sessionmaker[Session],
) -> None:
    first = load(MINI, session_factory)
    assert first["users"] == (6, 0, 0, 0)
    assert first["interactions"] == (4, 0, 0, 0)
    assert first["kb articles"] == (3, 0, 0, 0)
    second = load(MINI, session_factory)
    assert all(
        inserted == updated == deleted == 0 for inserted, updated, _, deleted in second.values()
    )
    assert second["tickets"] == (0, 0, 2, 0)


def test_values_arrive_typed_and_teams_come_from_user_rows(
    session_factory: sessionmaker[Session],
) -> None:
    load(MINI, session_factory)
    with session_factory() as session:
        chen = session.get(User, "U6")
        assert chen is not None and chen.team_id == "apac" and chen.slack_user_id is None
        assert session.get(Team, "enterprise-west").name == "Enterprise West"  # type: ignore[union-attr]
        deal = session.get(Opportunity, "O1")
        assert (
            deal is not None
            and str(deal.amount) == "76000.00"
            and deal.close_date == date(2026, 12, 15)
        )
        note = session.get(Interaction, "I3")
        assert (
            note is not None and note.occurred_at.tzinfo is not None and note.occurred_at.hour == 3
        )
        article = session.get(KnowledgeArticle, "KB-T3")
        assert article is not None and article.lang == "zh"


def test_a_changed_record_is_updated_in_place(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    load(export, session_factory)
    edit_line(export / "contacts.csv", 2, "Facilities Director", "VP Operations")
    counts = load(export, session_factory)
    assert counts["contacts"] == (0, 1, 2, 0)
    with session_factory() as session:
        assert session.get(Contact, "C1").title == "VP Operations"  # type: ignore[union-attr]


def test_every_problem_is_reported_with_file_and_line_and_nothing_is_written(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    edit_line(export / "users.csv", 3, ",rep,", ",boss,")
    edit_line(export / "opportunities.csv", 3, "18750.00", "lots")
    edit_line(export / "contacts.csv", 3, "A2", "A9")
    notes = (export / "interactions.jsonl").read_text(encoding="utf-8").splitlines()
    notes[1] = notes[1][:-1]  # truncated JSON
    notes.append(notes[0])  # duplicate id
    (export / "interactions.jsonl").write_text("\n".join(notes) + "\n", encoding="utf-8")
    (export / "kb" / "KB-T9.md").write_text("no front matter here\n", encoding="utf-8")

    problems = problems_of(export, session_factory)

    assert any(p.startswith("users.csv:3: role:") for p in problems), problems
    assert any(p.startswith("opportunities.csv:3: amount:") for p in problems), problems
    assert "contacts.csv:3: account_id: no accounts with id 'A9'" in problems
    assert any(p.startswith("interactions.jsonl:2: not valid JSON") for p in problems), problems
    assert "interactions.jsonl:5: duplicate id 'I1' (also interactions.jsonl:1)" in problems
    assert any(p.startswith("kb/KB-T9.md:1: must start with YAML front matter") for p in problems)
    assert count(session_factory, User) == count(session_factory, Account) == 0


def test_references_are_checked_against_the_database_too(
    session_factory: sessionmaker[Session], export: Path, tmp_path: Path
) -> None:
    load(export, session_factory)
    later = tmp_path / "later"
    later.mkdir()
    first, *_ = (export / "interactions.jsonl").read_text(encoding="utf-8").splitlines()
    good = json.loads(first) | {"id": "I9", "body": "Follow-up call about the plant 2 visit."}
    foreign = good | {"id": "I10", "contact_id": "C2"}  # C2 works for account A2, not A1
    rows = [json.dumps(good), json.dumps(foreign)]
    (later / "interactions.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")

    assert problems_of(later, session_factory) == [
        "interactions.jsonl:2: contact_id: contact 'C2' belongs to account 'A2'"
    ]
    (later / "interactions.jsonl").write_text(rows[0] + "\n", encoding="utf-8")
    assert load(later, session_factory)["interactions"] == (1, 0, 0, 0)


def test_missing_columns_and_bad_csv_are_one_problem_each(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    (tmp_path / "users.csv").write_text("id,name,role\nU1,Dana,rep\n", encoding="utf-8")
    (tmp_path / "orders.csv").write_bytes(b"id,account_id\n\xff\xfe\n")
    problems = problems_of(tmp_path, session_factory)
    assert problems[0] == "users.csv:1: missing column(s): email"
    assert problems[1].startswith("orders.csv: not UTF-8 text")


def test_clashing_emails_are_refused(session_factory: sessionmaker[Session], export: Path) -> None:
    edit_line(export / "users.csv", 3, "omar@aquapure.example", "DANA@aquapure.example")
    assert problems_of(export, session_factory) == [
        "users.csv:3: email: 'DANA@aquapure.example' is also 'U1''s"
    ]


def test_a_directory_without_import_files_is_an_error(
    session_factory: sessionmaker[Session], tmp_path: Path
) -> None:
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    assert "no import files found" in problems_of(tmp_path, session_factory)[0]
    assert "not a directory" in problems_of(tmp_path / "missing", session_factory)[0]


def test_unknown_files_are_warned_about_not_fatal(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    (export / "deals.csv").write_text("id\n", encoding="utf-8")
    report = import_directory(export, session_factory, as_of=AS_OF)
    assert report.warnings == ["deals.csv: not part of the import format, ignored"]


def test_without_prune_missing_records_stay(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    load(export, session_factory)
    _drop_rows(export / "accounts.csv", "A2")
    assert load(export, session_factory)["accounts"] == (0, 0, 2, 0)
    assert count(session_factory, Account) == 3


def test_prune_deletes_an_account_with_everything_that_hangs_off_it(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    load(export, session_factory)
    with session_factory.begin() as session:
        session.add(_task("K1", account_id="A2", interaction_id="I2"))
    for name in ("accounts.csv", "contacts.csv", "opportunities.csv"):
        _drop_rows(export / name, "A2")
    _drop_json_rows(export / "interactions.jsonl", "A2")
    _drop_json_rows(export / "tickets.jsonl", "A2")

    counts = load(export, session_factory, prune=True, prune_local=True)  # K1 is crmassist's

    assert counts["accounts"][3] == 1
    assert counts["contacts"][3] == counts["opportunities"][3] == 1
    assert counts["interactions"][3] == counts["tickets"][3] == 1
    with session_factory() as session:
        assert session.get(Account, "A2") is None
        assert session.get(Task, "K1") is None
        assert session.scalar(sa.select(sa.func.count()).select_from(Ticket)) == 1


def test_prune_only_touches_kinds_whose_file_is_present(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    load(export, session_factory)
    (export / "tickets.jsonl").unlink()
    shutil.rmtree(export / "kb")
    counts = load(export, session_factory, prune=True)
    assert counts["tickets"] == counts["kb articles"] == (0, 0, 0, 0)
    assert count(session_factory, Ticket) == 2
    assert count(session_factory, KnowledgeArticle) == 3


def test_prune_refuses_to_orphan_notes_of_a_removed_user(
    session_factory: sessionmaker[Session], export: Path, tmp_path: Path
) -> None:
    load(export, session_factory)
    only_users = tmp_path / "users_only"
    only_users.mkdir()
    shutil.copy(export / "users.csv", only_users)
    _drop_rows(only_users / "users.csv", "U2")
    assert problems_of(only_users, session_factory, prune=True) == [
        "users.csv: user 'U2' is missing but still wrote 1 interaction(s)"
    ]
    assert count(session_factory, User) == 6


def test_prune_of_a_user_unassigns_their_accounts(
    session_factory: sessionmaker[Session], export: Path
) -> None:
    load(export, session_factory)
    _drop_rows(export / "users.csv", "U5")  # the admin owns nothing and wrote nothing
    counts = load(export, session_factory, prune=True)
    assert counts["users"] == (0, 0, 5, 1)
    with session_factory() as session:
        assert session.get(Team, "operations") is None  # no members left


def test_lifecycle_stages_are_derived_from_orders_and_deals(
    session_factory: sessionmaker[Session],
) -> None:
    load(MINI, session_factory)
    with session_factory() as session:
        stages = dict(session.execute(sa.select(Account.id, Account.lifecycle_stage)).all())
    assert stages == {
        "A1": LifecycleStage.CUSTOMER,
        "A2": LifecycleStage.OPPORTUNITY,
        "A3": LifecycleStage.CUSTOMER,
    }


@pytest.mark.parametrize(
    ("last_purchase", "ever_bought", "open_deal", "expected"),
    [
        (date(2026, 6, 1), True, False, LifecycleStage.CUSTOMER),
        (date(2024, 6, 1), True, False, LifecycleStage.CHURNED),
        (date(2024, 6, 1), True, True, LifecycleStage.OPPORTUNITY),
        (None, False, True, LifecycleStage.OPPORTUNITY),
        (None, False, False, LifecycleStage.LEAD),
        (None, True, False, LifecycleStage.CHURNED),
    ],
)
def test_lifecycle_rules(
    last_purchase: date | None, ever_bought: bool, open_deal: bool, expected: LifecycleStage
) -> None:
    stage = lifecycle_stage(
        last_purchase=last_purchase, ever_bought=ever_bought, has_open_deal=open_deal, as_of=AS_OF
    )
    assert stage is expected


def test_team_ids_and_language_detection() -> None:
    assert team_id("Enterprise West") == "enterprise-west"
    assert team_id("华东 销售") == "华东-销售"
    assert detect_lang("错误代码 E2：漏水处理") == "zh"
    assert detect_lang("Error E2: leak detected") == "en"


def _task(task_id: str, **fields: object) -> Task:
    from datetime import UTC, datetime

    return Task(
        id=task_id, owner_id="U2", title="Call back", created_at=datetime.now(UTC), **fields
    )


def _drop_rows(path: Path, needle: str) -> None:
    """Drop CSV rows that mention `needle` as a whole field."""
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [lines[0], *(ln for ln in lines[1:] if needle not in ln.split(","))]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")


def _drop_json_rows(path: Path, account_id: str) -> None:
    lines = path.read_text(encoding="utf-8").splitlines()
    kept = [ln for ln in lines if json.loads(ln)["account_id"] != account_id]
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
