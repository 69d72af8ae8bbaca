"""Admin-only: import a CRM export (a zip of the import format) and index what changed;
download a consistent backup of the embedded database and index."""

from __future__ import annotations

import io
import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Body, Query
from fastapi.responses import FileResponse
from pydantic import BaseModel
from starlette.background import BackgroundTask

from crmassist import backup as backups
from crmassist.api.deps import AdminDep, RuntimeDep
from crmassist.errors import CrmassistError
from crmassist.ingest.importer import KNOWN_FILES, import_directory
from crmassist.privacy.disclosure import Disclosure

router = APIRouter(prefix="/v1", tags=["admin"])


class ImportOut(BaseModel):
    counts: dict[str, dict[str, int]]
    warnings: list[str]
    records_indexed: int
    records_deleted_from_index: int


@router.post("/import", response_model=ImportOut)
def import_export(
    rt: RuntimeDep,
    admin: AdminDep,
    archive: Annotated[
        bytes,
        Body(media_type="application/zip", min_length=1, description="A zip of the import format."),
    ],
    prune: Annotated[bool, Query(description="Delete what the files no longer hold.")] = False,
) -> ImportOut:
    """Validate everything first (problems come back as `file:line: message`, nothing is
    written), then upsert, then index only what changed."""
    with tempfile.TemporaryDirectory() as tmp:
        root = _unzip(archive, Path(tmp))
        report = import_directory(root, rt.sessions, prune=prune, as_of=rt.clock.today())
    rt.refresh_known_names()
    indexed = rt.indexer().sync()
    rt.audit.record(admin, "api:import", prune=prune, counts=dict(report.rows()))
    names = ("inserted", "updated", "unchanged", "deleted")
    out = ImportOut(
        counts={kind: dict(zip(names, counts, strict=True)) for kind, counts in report.rows()},
        warnings=report.warnings,
        records_indexed=indexed.records_indexed,
        records_deleted_from_index=indexed.records_deleted,
    )
    return Disclosure(admin, rt.redactor).model(out)  # warnings may quote a row


@router.post(
    "/admin/backup",
    response_class=FileResponse,
    responses={
        200: {
            "content": {"application/gzip": {"schema": {"type": "string", "format": "binary"}}},
            "description": "A backup archive.",
        }
    },
)
def backup(rt: RuntimeDep, admin: AdminDep) -> FileResponse:
    """A consistent backup of the embedded database and index, as a `.tar.gz` whose
    `manifest.json` holds versions, the schema revision, counts and checksums; made while
    the service serves on. Secret files (the vault key) never travel over HTTP:
    `crmassist backup` adds them from the data directory."""
    tmp = Path(tempfile.mkdtemp(prefix="crmassist-backup-"))
    target = tmp / f"crmassist-{datetime.now(UTC):%Y%m%dT%H%M%SZ}.tar.gz"
    try:
        manifest = backups.create(rt, target, with_secrets=False)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    rt.audit.record(
        admin,
        "api:backup",
        files=len(manifest["files"]),
        schema_revision=manifest["schema_revision"],
        index_points=manifest["counts"]["index_points"],
    )
    cleanup = BackgroundTask(shutil.rmtree, tmp, ignore_errors=True)
    return FileResponse(
        target, media_type="application/gzip", filename=target.name, background=cleanup
    )


def _unzip(archive: bytes, target: Path) -> Path:
    """Extract safely (no absolute paths, no `..`); a single top folder is stepped into."""
    try:
        with zipfile.ZipFile(io.BytesIO(archive)) as zipped:
            for member in zipped.namelist():
                if member.startswith("/") or ".." in Path(member).parts:
                    raise CrmassistError(f"unsafe path in archive: {member}")
            zipped.extractall(target)
    except zipfile.BadZipFile as exc:
        raise CrmassistError("the body is not a zip archive") from exc
    entries = [p for p in target.iterdir() if not p.name.startswith(("__MACOSX", "."))]
    if len(entries) == 1 and entries[0].is_dir() and entries[0].name not in KNOWN_FILES:
        return entries[0]  # zipped as "export/users.csv, export/kb/...": step into "export"
    return target
