"""`crmassist import DIR`: validate a whole CRM export, then upsert it in one transaction.

Validation runs to the end and reports every problem as `file:line: message`; if there
is any, nothing is written. Records are upserted by their source ids, so re-importing
the same directory changes nothing. With `prune`, records missing from a file that is
present are deleted, together with what hangs off them (an account's contacts, deals,
orders, notes, tickets and tasks). Notes and tasks created in crmassist (origin
`crmassist`) are not the export's: they are never pruned for being absent from it, and a
prune that would take them with their account or user is refused unless `prune_local`
allows it. Indexing is a separate step: the content hashes in `IndexedRecord` tell the
indexer what changed.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from crmassist.batching import batched
from crmassist.db import session_scope
from crmassist.domain.enums import LifecycleStage
from crmassist.domain.language import detect_lang
from crmassist.domain.models import (
    Account,
    AccountTeamMember,
    ApiKey,
    Base,
    CitationRecord,
    Contact,
    Conversation,
    Interaction,
    KnowledgeArticle,
    Message,
    Opportunity,
    Order,
    Origin,
    Task,
    Team,
    Ticket,
    ToolCallRecord,
    User,
)
from crmassist.errors import CrmassistError
from crmassist.ingest.rows import (
    AccountRow,
    AccountTeamRow,
    ArticleRow,
    ContactRow,
    InteractionRow,
    OpportunityRow,
    OrderRow,
    Row,
    TeamRow,
    TicketRow,
    UserRow,
    team_id,
)
from crmassist.ingest.sources import Problem, RawRecord, Reader

log = logging.getLogger(__name__)

CHURN_AFTER = timedelta(days=365)
"""A customer with no order or won deal for this long is counted as churned."""


@dataclass(frozen=True)
class Kind:
    """One record kind of the format: where it lives, how it validates, where it goes."""

    name: str
    file: str
    row: type[Row]
    model: type[Base]
    references: tuple[tuple[str, str], ...] = ()
    """(field, kind name) pairs that must name an existing record."""
    prunable: bool = True
    """False for teams: they exist through their members, so leaving one out deletes nothing."""


KINDS: tuple[Kind, ...] = (
    Kind("users", "users.csv", UserRow, User),
    Kind("teams", "teams.csv", TeamRow, Team, prunable=False),
    Kind("accounts", "accounts.csv", AccountRow, Account, (("owner_id", "users"),)),
    Kind("contacts", "contacts.csv", ContactRow, Contact, (("account_id", "accounts"),)),
    Kind(
        "opportunities",
        "opportunities.csv",
        OpportunityRow,
        Opportunity,
        (("account_id", "accounts"), ("owner_id", "users")),
    ),
    Kind("orders", "orders.csv", OrderRow, Order, (("account_id", "accounts"),)),
    Kind(
        "interactions",
        "interactions.jsonl",
        InteractionRow,
        Interaction,
        (("account_id", "accounts"), ("author_id", "users"), ("contact_id", "contacts")),
    ),
    Kind(
        "tickets",
        "tickets.jsonl",
        TicketRow,
        Ticket,
        (("account_id", "accounts"), ("contact_id", "contacts"), ("assignee_id", "users")),
    ),
    Kind(
        "account team",
        "account_team.csv",
        AccountTeamRow,
        AccountTeamMember,
        (("account_id", "accounts"), ("user_id", "users")),
    ),
    Kind("kb articles", "kb", ArticleRow, KnowledgeArticle),
)
KNOWN_FILES = {kind.file for kind in KINDS}


class ImportValidationError(CrmassistError):
    def __init__(self, problems: Sequence[Problem]) -> None:
        super().__init__(f"{len(problems)} problem(s) found; nothing was imported")
        self.problems = list(problems)


@dataclass
class Counts:
    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def as_tuple(self) -> tuple[int, int, int, int]:
        return (self.inserted, self.updated, self.unchanged, self.deleted)


@dataclass
class ImportReport:
    counts: dict[str, Counts] = field(default_factory=lambda: {k.name: Counts() for k in KINDS})
    warnings: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, tuple[int, int, int, int]]]:
        return [(name, counts.as_tuple()) for name, counts in self.counts.items()]

    @property
    def changed(self) -> bool:
        return any(c.inserted or c.updated or c.deleted for c in self.counts.values())


@dataclass
class Parsed:
    """Validated rows of the files that are present, each with the line it came from."""

    rows: dict[str, list[tuple[int, Row]]]
    labels: dict[str, str]
    """kind name -> the file name to cite in problems."""

    def present(self, kind: str) -> bool:
        return kind in self.rows

    def ids(self, kind: str) -> set[str]:
        return {row.id for _, row in self.rows.get(kind, [])}


def import_directory(
    directory: Path,
    sessions: sessionmaker[Session],
    *,
    prune: bool = False,
    prune_local: bool = False,
    as_of: date,
) -> ImportReport:
    """Validate everything in `directory`, then write it all or nothing.

    `as_of` is the day lifecycle stages are judged from: the runtime clock's today.
    `prune_local` lets a prune delete notes and tasks created in crmassist together with
    the account or user they belong to; without it such a prune is refused.
    """
    report = ImportReport()
    parsed, problems = _parse(directory, report)
    with session_scope(sessions) as session:
        if problems := problems + _check(session, parsed, prune):
            raise ImportValidationError(problems)
        if prune and not prune_local and (problems := _local_records_in_the_way(session, parsed)):
            raise ImportValidationError(problems)
        for kind in KINDS:
            if kind.model is User and parsed.present(kind.name):
                _upsert_teams(session, parsed.rows[kind.name])
            if parsed.present(kind.name):
                _upsert(session, kind, _values(kind, parsed.rows[kind.name]), report)
        if prune:
            _prune(session, parsed, report)
            report.warnings.extend(_kept_local_notes(session, parsed))
        from crmassist.crm.lifecycle import recompute  # it reads this module's stage rules

        recompute(session, as_of)
    log.info("imported %s: %s", directory, report.rows())
    return report


# --- reading and validation -------------------------------------------------------------


def _parse(directory: Path, report: ImportReport) -> tuple[Parsed, list[Problem]]:
    """What could be read and validated row by row, and what could not."""
    if not directory.is_dir():
        raise ImportValidationError([Problem(str(directory), None, "not a directory")])
    reader = Reader()
    parsed = Parsed(rows={}, labels={})
    for kind in KINDS:
        path = directory / kind.file
        if path.exists():
            parsed.labels[kind.name] = kind.file
            parsed.rows[kind.name] = _validated(reader, kind, _raw_records(reader, kind, path))
    if not parsed.rows and not reader.problems:
        expected = ", ".join(sorted(KNOWN_FILES))
        raise ImportValidationError(
            [Problem(str(directory), None, f"no import files found (expected any of {expected})")]
        )
    report.warnings.extend(
        f"{entry.name}: not part of the import format, ignored"
        for entry in sorted(directory.iterdir())
        if entry.name not in KNOWN_FILES and not entry.name.startswith(".")
    )
    return parsed, reader.problems


def _raw_records(reader: Reader, kind: Kind, path: Path) -> Iterator[tuple[str, RawRecord]]:
    """(label, record) pairs; the label is the file to name in a problem."""
    if kind.file.endswith(".csv"):
        required = {n for n, f in kind.row.model_fields.items() if f.is_required()}
        yield from ((kind.file, rec) for rec in reader.csv(path, required))
    elif kind.file.endswith(".jsonl"):
        yield from ((kind.file, rec) for rec in reader.jsonl(path))
    else:
        for md in sorted(path.glob("*.md")):
            label = f"{kind.file}/{md.name}"
            yield from ((label, rec) for rec in reader.markdown(md, label))


def _validated(
    reader: Reader, kind: Kind, records: Iterable[tuple[str, RawRecord]]
) -> list[tuple[int, Row]]:
    rows: list[tuple[int, Row]] = []
    first_seen: dict[str, tuple[str, int]] = {}
    for label, (line, fields) in records:
        try:
            row = kind.row.model_validate(fields)
        except ValidationError as exc:
            for error in exc.errors():
                where = ".".join(str(part) for part in error["loc"]) or "record"
                reader.problem(label, line, f"{where}: {error['msg']}")
            continue
        if row.id in first_seen:
            other_label, other_line = first_seen[row.id]
            reader.problem(
                label, line, f"duplicate id {row.id!r} (also {other_label}:{other_line})"
            )
            continue
        first_seen[row.id] = (label, line)
        rows.append((line, row))
    return rows


def _check(session: Session, parsed: Parsed, prune: bool) -> list[Problem]:
    """Cross-record problems: dangling references, contacts of another account, clashes."""
    known = {kind.name: _known_ids(session, parsed, kind, prune) for kind in KINDS}
    contact_accounts = _contact_accounts(session, parsed, prune)
    problems: list[Problem] = []
    for kind in KINDS:
        label = parsed.labels.get(kind.name, kind.file)
        for line, row in parsed.rows.get(kind.name, []):
            for field_name, target in kind.references:
                ref = getattr(row, field_name)
                if ref is not None and ref not in known[target]:
                    problems.append(
                        Problem(label, line, f"{field_name}: no {target} with id {ref!r}")
                    )
            contact = getattr(row, "contact_id", None)
            owner = contact_accounts.get(contact) if contact else None
            if owner is not None and owner != getattr(row, "account_id", None):
                message = f"contact_id: contact {contact!r} belongs to account {owner!r}"
                problems.append(Problem(label, line, message))
    problems += _unique_user_fields(session, parsed)
    problems += _team_parents(session, parsed)
    if prune:
        problems += _authors_left_behind(session, parsed)
    return problems


def _known_ids(session: Session, parsed: Parsed, kind: Kind, prune: bool) -> set[str]:
    """Ids a reference may name: the file's, plus the database's unless the file replaces them."""
    ids = parsed.ids(kind.name)
    if prune and parsed.present(kind.name):
        return ids
    return ids | set(session.scalars(sa.select(kind.model.id)))  # type: ignore[attr-defined]


def _contact_accounts(session: Session, parsed: Parsed, prune: bool) -> dict[str, str]:
    stored: dict[str, str] = {}
    if not (prune and parsed.present("contacts")):
        stored = _pairs(session, sa.select(Contact.id, Contact.account_id))
    for _, row in parsed.rows.get("contacts", []):
        assert isinstance(row, ContactRow)
        stored[row.id] = row.account_id
    return stored


def _unique_user_fields(session: Session, parsed: Parsed) -> list[Problem]:
    """Emails and Slack ids identify people: two users may not share one."""
    problems: list[Problem] = []
    file_ids = parsed.ids("users")
    for attr in ("email", "slack_user_id"):
        column = getattr(User, attr)
        owners = {
            value.lower(): uid
            for uid, value in session.execute(sa.select(User.id, column).where(column.is_not(None)))
            if uid not in file_ids
        }
        for line, row in parsed.rows.get("users", []):
            value = getattr(row, attr)
            if value is None:
                continue
            if (other := owners.setdefault(value.lower(), row.id)) != row.id:
                problems.append(
                    Problem("users.csv", line, f"{attr}: {value!r} is also {other!r}'s")
                )
    return problems


def _team_parents(session: Session, parsed: Parsed) -> list[Problem]:
    """A parent must be a team (in teams.csv, users.csv or the database), and following
    parents upwards must end: a loop would make a team its own manager's subordinate."""
    rows = [(line, r) for line, r in parsed.rows.get("teams", []) if isinstance(r, TeamRow)]
    if not rows:
        return []
    parents = _pairs(session, sa.select(Team.id, Team.parent_id))
    parents.update({r.id: team_id(r.parent) if r.parent else None for _, r in rows})
    users = [r for _, r in parsed.rows.get("users", []) if isinstance(r, UserRow)]
    known = set(parents) | {team_id(r.team) for r in users if r.team}
    problems: list[Problem] = []
    for line, row in rows:
        parent = parents[row.id]
        if parent is not None and parent not in known:
            problems.append(Problem("teams.csv", line, f"parent: no team named {row.parent!r}"))
            continue
        seen = {row.id}
        while parent is not None and parent not in seen:
            seen.add(parent)
            parent = parents.get(parent)
        if parent is not None:
            problems.append(Problem("teams.csv", line, f"parent: {row.name!r} is in a loop"))
    return problems


def _authors_left_behind(session: Session, parsed: Parsed) -> list[Problem]:
    """Pruning a user must not orphan notes that stay: notes need their author."""
    if not parsed.present("users") or parsed.present("interactions"):
        return []
    gone = _stored_ids(session, User) - parsed.ids("users")
    kept_accounts = parsed.ids("accounts") if parsed.present("accounts") else None
    query = sa.select(Interaction.author_id, sa.func.count()).where(
        Interaction.author_id.in_(gone), Interaction.origin == Origin.IMPORT
    )
    if kept_accounts is not None:
        query = query.where(Interaction.account_id.in_(kept_accounts))
    return [
        Problem("users.csv", None, f"user {uid!r} is missing but still wrote {n} interaction(s)")
        for uid, n in session.execute(query.group_by(Interaction.author_id))
    ]


# --- writing ----------------------------------------------------------------------------


def _values(kind: Kind, rows: list[tuple[int, Row]]) -> list[dict[str, Any]]:
    """Column values of each row; lifecycle stages are derived later, never imported."""
    values = []
    for _, row in rows:
        data = row.model_dump()
        if isinstance(row, UserRow):
            team = data.pop("team")
            data["team_id"] = team_id(team) if team else None
        elif isinstance(row, ArticleRow):
            data["lang"] = row.lang or detect_lang(f"{row.title}\n{row.body}")
        elif isinstance(row, InteractionRow):
            data["origin"] = Origin.IMPORT  # a note the export holds is the export's from now on
        elif isinstance(row, TeamRow):
            parent = data.pop("parent")
            data["parent_id"] = team_id(parent) if parent else None
        values.append(data)
    return values


def _upsert(session: Session, kind: Kind, rows: list[dict[str, Any]], report: ImportReport) -> None:
    counts = report.counts[kind.name]
    model: Any = kind.model
    for batch in batched(rows, 500):
        stored = {
            obj.id: obj
            for obj in session.scalars(
                sa.select(model).where(model.id.in_([r["id"] for r in batch]))
            )
        }
        for values in batch:
            obj = stored.get(values["id"])
            if obj is None:
                session.add(model(**values))
                counts.inserted += 1
            elif changes := {k: v for k, v in values.items() if getattr(obj, k) != v}:
                for key, value in changes.items():
                    setattr(obj, key, value)
                counts.updated += 1
            else:
                counts.unchanged += 1
        session.flush()


def _upsert_teams(session: Session, users: list[tuple[int, Row]]) -> None:
    """Teams exist through their members: users.csv names them, the slug is their id."""
    names = {team_id(r.team): r.team for _, r in users if isinstance(r, UserRow) and r.team}
    for team in session.scalars(sa.select(Team).where(Team.id.in_(names))):
        team.name = names.pop(team.id)
    session.add_all(Team(id=tid, name=name) for tid, name in names.items())
    session.flush()


def _pairs(session: Session, query: sa.Executable) -> dict[str, Any]:
    return {key: value for key, value in session.execute(query)}


def _stored_ids(session: Session, model: Any) -> set[str]:
    return set(session.scalars(sa.select(model.id)))


def _prunable_ids(session: Session, model: Any) -> set[str]:
    """What an export may delete by leaving it out: never what was created in crmassist."""
    query = sa.select(model.id)
    if "origin" in model.__table__.c:
        query = query.where(model.origin == Origin.IMPORT)
    return set(session.scalars(query))


def _local_records_in_the_way(session: Session, parsed: Parsed) -> list[Problem]:
    """A prune may not silently take notes and tasks written in crmassist with their
    account or user: the export never had them, so it cannot be their source of truth."""
    problems: list[Problem] = []
    for kind, model, note_parent, task_parent in (
        ("accounts", Account, Interaction.account_id, Task.account_id),
        ("users", User, Interaction.author_id, Task.owner_id),
    ):
        if not parsed.present(kind):
            continue
        gone = _stored_ids(session, model) - parsed.ids(kind)
        notes = _local_children(session, Interaction, note_parent, gone)
        tasks = _local_children(session, Task, task_parent, gone)
        if parents := sorted(set(notes) | set(tasks)):
            shown = ", ".join(repr(p) for p in parents[:5]) + (", ..." if len(parents) > 5 else "")
            problems.append(
                Problem(
                    parsed.labels[kind],
                    None,
                    f"{len(parents)} {kind} missing from the file ({shown}) hold "
                    f"{sum(notes.values())} note(s) and {sum(tasks.values())} task(s) created "
                    "in crmassist, which the export does not have; keep those "
                    f"{kind} in the file, or prune with --prune-local to delete them too",
                )
            )
    return problems


def _local_children(session: Session, model: Any, parent: Any, parents: set[str]) -> dict[str, int]:
    """Per parent id, how many of its `model` rows were created in crmassist."""
    counts: dict[str, int] = {}
    for batch in batched(sorted(parents), 500):
        query = (
            sa.select(parent, sa.func.count())
            .where(parent.in_(batch), model.origin == Origin.CRMASSIST)
            .group_by(parent)
        )
        counts.update({key: count for key, count in session.execute(query)})
    return counts


def _kept_local_notes(session: Session, parsed: Parsed) -> list[str]:
    if not parsed.present("interactions"):
        return []
    local = sa.select(Interaction.id).where(Interaction.origin == Origin.CRMASSIST)
    if not (kept := len(set(session.scalars(local)) - parsed.ids("interactions"))):
        return []
    return [
        f"{parsed.labels['interactions']}: kept {kept} note(s) created in crmassist "
        "(chat, Slack, API) that the export does not hold; --prune leaves them"
    ]


def _prune(session: Session, parsed: Parsed, report: ImportReport) -> None:
    """Delete what present files no longer hold, children before parents."""
    gone = {
        kind.name: _prunable_ids(session, kind.model) - parsed.ids(kind.name)
        for kind in KINDS
        if parsed.present(kind.name) and kind.prunable
    }
    if accounts := gone.get("accounts"):
        _delete_account_records(session, accounts, report)
    if contacts := gone.get("contacts"):
        for model in (Interaction, Ticket):
            session.execute(
                sa.update(model).where(model.contact_id.in_(contacts)).values(contact_id=None)
            )
    if notes := gone.get("interactions"):
        session.execute(
            sa.update(Task).where(Task.interaction_id.in_(notes)).values(interaction_id=None)
        )
    if users := gone.get("users"):
        _delete_user_records(session, users, report)
        for owned in (Account, Opportunity):
            session.execute(sa.update(owned).where(owned.owner_id.in_(users)).values(owner_id=None))
        session.execute(
            sa.update(Ticket).where(Ticket.assignee_id.in_(users)).values(assignee_id=None)
        )
    for kind in reversed(KINDS):
        if ids := gone.get(kind.name):
            report.counts[kind.name].deleted += _delete(session, kind.model, ids)
    if "users" in gone:
        used = sa.select(User.team_id).where(User.team_id.is_not(None))
        above = sa.select(Team.parent_id).where(Team.parent_id.is_not(None)).scalar_subquery()
        kept = sa.or_(Team.id.in_(used), Team.id.in_(above), Team.id.in_(parsed.ids("teams")))
        session.execute(sa.delete(Team).where(sa.not_(kept)))


def _delete_user_records(session: Session, users: set[str], report: ImportReport) -> None:
    """A removed user's tasks, API keys and conversations go with them, and so do notes
    they wrote in crmassist (only ever here with `prune_local`; checks stop the rest)."""
    notes = sa.select(Interaction.id).where(Interaction.author_id.in_(users))
    session.execute(
        sa.update(Task).where(Task.interaction_id.in_(notes)).values(interaction_id=None)
    )
    deleted = session.execute(sa.delete(Interaction).where(Interaction.author_id.in_(users)))
    report.counts["interactions"].deleted += deleted.rowcount  # type: ignore[attr-defined]
    session.execute(sa.delete(Task).where(Task.owner_id.in_(users)))
    memberships = sa.delete(AccountTeamMember).where(AccountTeamMember.user_id.in_(users))
    report.counts["account team"].deleted += session.execute(memberships).rowcount  # type: ignore[attr-defined]
    session.execute(sa.delete(ApiKey).where(ApiKey.user_id.in_(users)))
    conversations = sa.select(Conversation.id).where(Conversation.user_id.in_(users))
    messages = sa.select(Message.id).where(Message.conversation_id.in_(conversations))
    for model in (ToolCallRecord, CitationRecord):
        session.execute(sa.delete(model).where(model.message_id.in_(messages)))
    session.execute(sa.delete(Message).where(Message.conversation_id.in_(conversations)))
    session.execute(sa.delete(Conversation).where(Conversation.user_id.in_(users)))


def _delete_account_records(session: Session, accounts: set[str], report: ImportReport) -> None:
    """An account takes its records with it; they count as deleted of their own kind."""
    notes = sa.select(Interaction.id).where(Interaction.account_id.in_(accounts))
    session.execute(
        sa.update(Task).where(Task.interaction_id.in_(notes)).values(interaction_id=None)
    )
    session.execute(sa.delete(Task).where(Task.account_id.in_(accounts)))
    for name, model in (
        ("interactions", Interaction),
        ("tickets", Ticket),
        ("orders", Order),
        ("opportunities", Opportunity),
        ("contacts", Contact),
        ("account team", AccountTeamMember),
    ):
        ids = set(session.scalars(sa.select(model.id).where(model.account_id.in_(accounts))))
        report.counts[name].deleted += _delete(session, model, ids)


def _delete(session: Session, model: Any, ids: set[str]) -> int:
    """Rows actually deleted: an account's cascade may have taken some already."""
    deleted = 0
    for batch in batched(sorted(ids), 500):
        result = session.execute(sa.delete(model).where(model.id.in_(batch)))
        deleted += result.rowcount  # type: ignore[attr-defined]
    return deleted


def lifecycle_stage(
    *, last_purchase: date | None, ever_bought: bool, has_open_deal: bool, as_of: date
) -> LifecycleStage:
    if last_purchase is not None and as_of - last_purchase <= CHURN_AFTER:
        return LifecycleStage.CUSTOMER
    if has_open_deal:
        return LifecycleStage.OPPORTUNITY
    return LifecycleStage.CHURNED if ever_bought else LifecycleStage.LEAD
