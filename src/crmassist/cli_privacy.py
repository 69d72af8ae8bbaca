"""`crmassist privacy …`: data rights (export, erase with proof, retention purge).

Registered by `crmassist.cli`; shares its runtime, error handling and consoles. Beside a
running service that holds the embedded index, use the API's `/v1/privacy/...` instead.
"""

from __future__ import annotations

import getpass
import json
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from crmassist.cli import err, fail, not_beside_service, out, runtime, state

if TYPE_CHECKING:
    from crmassist.privacy.rights import Erasure

privacy_app = typer.Typer(
    help="Data rights: export or erase everything held about a person; enforce retention.",
    no_args_is_help=True,
)

ContactOpt = Annotated[str | None, typer.Option("--contact", help="The contact's id.")]
EmailOpt = Annotated[
    str | None, typer.Option("--email", help="Or the contact's e-mail address (any case).")
]


def _who(contact: str | None, email: str | None) -> dict[str, str | None]:
    if (contact is None) == (email is None):
        fail("give exactly one of --contact ID or --email ADDRESS", 2)
    return {"contact_id": contact, "email": email}


def _via() -> str:
    """Who ran it, for the audit log: the CLI has no API key, so the OS account."""
    return f"cli:{getpass.getuser()}"


@privacy_app.command("export")
def export(
    contact: ContactOpt = None,
    email: EmailOpt = None,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the JSON here (default: stdout).")
    ] = None,
) -> None:
    """Everything held about one person, as JSON with values revealed.

    The contact, notes, tickets and tasks about them, conversations and audit events
    that name them, their pseudonyms and which indexed records hold them. Audited (never
    the values)."""
    from crmassist import governance

    who = _who(contact, email)
    with runtime(index=True) as rt:
        data = governance.export_person(rt, None, via=_via(), **who)
    text = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    if output is None:
        print(text)
        return
    output.write_text(text + "\n", encoding="utf-8")
    err.print(f"wrote {output} (personal data: keep it safe, delete it when handed over)")


@privacy_app.command("erase")
def erase(
    contact: ContactOpt = None,
    email: EmailOpt = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask for confirmation.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Erase one person everywhere, then prove it.

    Deletes the contact row and their pseudonyms; in notes, tickets, tasks, conversations
    and the audit log their values become a tombstone (the business content stays), and
    those records are indexed again. Then every text column and every index chunk is
    searched for each value and pseudonym, and the proof printed: exit 1 if anything was
    still found. Cannot be undone (restore a backup to go back)."""
    from crmassist import governance

    who = _who(contact, email)
    if not yes and not typer.confirm(f"Erase {contact or email} everywhere? This cannot be undone"):
        fail("nothing erased", 1)
    with runtime(index=True) as rt:
        erasure = governance.erase_person(rt, None, via=_via(), **who)
    if as_json:
        print(json.dumps(erasure.as_dict(), ensure_ascii=False, indent=2))
    else:
        print_erasure(erasure)
    if not erasure.clean:
        fail("some values were still found (see above); run `crmassist index` and erase again")


def print_erasure(erasure: Erasure) -> None:
    changed = ", ".join(f"{n} {kind}" for kind, n in erasure.changed.items() if n)
    out.print(f"Erased contact {erasure.contact_id}: {changed or 'nothing else held'}; "
              f"{erasure.reindexed} chunks re-indexed.", highlight=False)  # fmt: skip
    chunks = "no index" if erasure.chunks_searched is None else f"{erasure.chunks_searched} chunks"
    table = Table("searched for", "SQL", "index", "found", title="Proof")
    for line in erasure.proof:
        table.add_row(
            line.term,
            "; ".join(line.sql) or "0 rows",
            ", ".join(line.index) or "0 chunks",
            "[red]yes[/]" if not line.clean else "[green]nothing[/]",
        )
    out.print(table)
    out.print(f"[dim]searched {erasure.columns_searched} text columns of every table and "
              f"{chunks}, each value and pseudonym by substring[/]")  # fmt: skip


@privacy_app.command("purge")
def purge(
    days: Annotated[
        int | None,
        typer.Option(
            min=1,
            max=36_500,
            help="Keep this many days (default: CRMASSIST_CONVERSATION_RETENTION_DAYS).",
        ),
    ] = None,
) -> None:
    """Delete conversations idle longer than the retention period.

    With their messages,
    tool calls and citations, and the questions the audit log copied from them. Run it
    daily (cron, a Kubernetes CronJob)."""
    from crmassist import governance

    with runtime() as rt:
        done = governance.purge(rt, None, via=_via(), days=days)
    out.print(f"Purged {done.conversations} conversation(s) idle since before "
              f"{done.before:%Y-%m-%d %H:%M} UTC ({done.messages} messages; "
              f"{done.audit_questions} audited questions dropped).")  # fmt: skip


@privacy_app.command("rotate-key")
def rotate_key() -> None:
    """Re-encrypt all personal data at rest under a new key.

    Stop the services on this database, then run it with CRMASSIST_SECRET_KEY set to the
    new key and CRMASSIST_SECRET_KEY_PREVIOUS to the one in use; start the services with
    the new key. Every encrypted value (contacts' names, e-mails and phones, the
    pseudonym vault) is re-encrypted and every blind index computed again, in one
    transaction: afterwards the previous key opens nothing. Audited (key ids, never keys)."""
    from crmassist.db import make_engine, make_session_factory, upgrade_schema
    from crmassist.db.migrate import check_current
    from crmassist.errors import CrmassistError
    from crmassist.privacy import crypto

    not_beside_service("privacy rotate-key")  # it would go on writing under the old key
    settings = state.settings
    if settings.secret_key is None or settings.secret_key_previous is None:
        fail("set CRMASSIST_SECRET_KEY to the new key and CRMASSIST_SECRET_KEY_PREVIOUS to "
             "the key in use, then run it again", 2)  # fmt: skip
    engine = make_engine(settings.resolved_database_url)
    try:
        crypto.bind(engine, settings)
        if settings.migrate_on_start:
            upgrade_schema(engine)
        else:
            check_current(engine)
        done = crypto.rotate(make_session_factory(engine), via=_via())
    except CrmassistError as exc:
        fail(str(exc))
    finally:
        engine.dispose()
    out.print(f"Re-encrypted {done.values} values and {done.indexes} blind indexes: key "
              f"{done.from_key or '(nothing stored yet)'} -> {done.to_key}. Start the "
              "services with the new CRMASSIST_SECRET_KEY; the previous key may go.",
              highlight=False)  # fmt: skip


def audit_command(
    user: Annotated[str | None, typer.Option(help="The actor's user id.")] = None,
    tool: Annotated[str | None, typer.Option(help="A tool's name: its calls.")] = None,
    action: Annotated[
        str | None,
        typer.Option(help="An action (`search`), or a prefix ending in `:` (`privacy:`)."),
    ] = None,
    record: Annotated[
        str | None, typer.Option(help="A record, kind/id or a bare id: targeted or touched.")
    ] = None,
    since: Annotated[
        datetime | None, typer.Option(help="From this time (UTC unless it has an offset).")
    ] = None,
    until: Annotated[datetime | None, typer.Option(help="Before this time.")] = None,
    before: Annotated[
        int | None, typer.Option(min=1, help="Page cursor: older than this id.")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10_000, help="How many events.")] = 50,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON (one page).")] = False,
) -> None:
    """Read the audit log, newest first: tool calls, searches, record reads, imports,
    exports, erasures, key changes. Filters combine; page with --before."""
    from crmassist.access.audit import AuditQuery

    query = AuditQuery(user, tool, action, record, _utc(since), _utc(until), before, limit)
    with runtime() as rt:
        events, cursor = rt.audit.events(query)
    rows: list[dict[str, Any]] = [
        {
            "id": e.id,
            "at": e.at.isoformat(),
            "actor_id": e.actor_id,
            "action": e.action,
            "target": e.target,
            "details": e.details,
        }
        for e in events
    ]
    if as_json:
        print(json.dumps({"items": rows, "next_before": cursor}, ensure_ascii=False, indent=2))
        return
    table = Table("id", "at (UTC)", "actor", "action", "target", "details")
    for row in rows:
        details = json.dumps(row["details"], ensure_ascii=False)
        table.add_row(str(row["id"]), row["at"][:19], row["actor_id"] or "-", row["action"],
                      row["target"] or "", details[:120])  # fmt: skip
    out.print(table)
    if cursor:
        err.print(f"[dim]older events: --before {cursor}[/]")


def _utc(value: datetime | None) -> datetime | None:
    """Times without an offset are UTC, as everywhere in crmassist."""
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
