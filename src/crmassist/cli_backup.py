"""`crmassist backup` and `crmassist restore` for the embedded default (crmassist.backup).

Registered by `crmassist.cli`; shares its runtime, the running-service discovery, error
handling and consoles.
"""

from __future__ import annotations

import getpass
import tempfile
from pathlib import Path
from typing import Annotated

import typer

from crmassist.cli import err, fail, not_beside_service, out, runtime, service, state
from crmassist.errors import CrmassistError


def _progress(line: str) -> None:
    err.print(f"[dim]{line}[/]", highlight=False)


def backup_command(
    path: Annotated[
        Path,
        typer.Argument(help="Where to write it: a new directory, or a file ending in .tar.gz."),
    ],
    as_user: Annotated[
        str | None,
        typer.Option(
            "--as", help="Beside a running service: the admin it makes the backup as (audited)."
        ),
    ] = None,
) -> None:
    """Back up the embedded default: the SQLite database, the search index and the data
    directory's secret files (*.key, *secret*: the vault key), with a manifest of
    versions, schema revision, row and point counts and SHA-256 checksums.

    Consistent while crmassist runs. Beside a running `crmassist serve`, the service makes
    the copy (POST /v1/admin/backup, as the --as admin) and this command adds the secret
    files, which never travel over HTTP. The backup holds personal data and the key to
    it: keep it as safe as the data directory.

    PostgreSQL or a Qdrant server: use pg_dump and Qdrant's snapshots (docs/operations.md).

    Example:  crmassist backup backups/crm-$(date +%F).tar.gz
    """
    from crmassist import backup as backups

    try:
        if reason := backups.unsupported(state.settings):
            fail(reason)
        backups.check_target(path)
        with service() as remote:
            if remote is not None:
                if as_user is None:
                    fail(f"{remote.info.describe()} owns {state.settings.data_dir} and makes "
                         "the backup itself, as an admin: add --as ADMIN_ID", 2)  # fmt: skip
                with tempfile.TemporaryDirectory(prefix=".crmassist-backup.") as tmp:
                    received = Path(tmp) / "service.tar.gz"
                    remote.backup(as_user, received)
                    _progress(f"received {received.stat().st_size / 1e6:.1f} MB from "
                              f"{remote.info.describe()}")  # fmt: skip
                    backups.complete(received, state.settings.data_dir, path, _progress)
                return
    except CrmassistError as exc:
        fail(str(exc))
    with runtime(index=True) as rt:
        manifest = backups.create(rt, path, progress=_progress)
        rt.audit.record(None, "backup", target=str(path), via=f"cli:{getpass.getuser()}",
                        files=len(manifest["files"]))  # fmt: skip
    out.print(f"Backed up to {path}; restore with `crmassist restore {path}`.", highlight=False)


def restore_command(
    path: Annotated[Path, typer.Argument(help="A backup: its directory or its .tar.gz.")],
    force: Annotated[
        bool, typer.Option("--force", help="Replace the data already in the data directory.")
    ] = False,
) -> None:
    """Restore a backup into the data directory (--data-dir or CRMASSIST_DATA_DIR).

    Checked before anything is written: the manifest, every file's checksum, SQLite's own
    check of the database, and a schema this crmassist knows (a newer one is refused, an
    older one is migrated on first start). Existing data is replaced only with --force;
    stop the service first. Afterwards the index is verified against SQL, as
    `crmassist index` does.

    Example:  crmassist --data-dir data-restored restore backups/crm-2026-11-20.tar.gz
    """
    from crmassist import backup as backups

    not_beside_service("restore")
    try:
        manifest = backups.restore(path, state.settings, force=force, progress=_progress)
    except CrmassistError as exc:
        fail(str(exc))
    with runtime(index=True) as rt:
        plan = rt.indexer().plan()
        rt.audit.record(None, "restore", target=str(path), via=f"cli:{getpass.getuser()}",
                        created_at=manifest["created_at"])  # fmt: skip
    owed = len(plan.stale) + len(plan.deleted)
    out.print(f"Restored {path} into {state.settings.data_dir}; the index verified "
              f"against SQL: {plan.unchanged} records whole, {owed} to index.",
              highlight=False)  # fmt: skip
    if owed:
        out.print("Those were logged while the backup was made: run `crmassist index`, or "
                  "start the service (it indexes them).")  # fmt: skip
