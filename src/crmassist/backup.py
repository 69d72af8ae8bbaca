"""Backup and restore of the embedded default: the SQLite database, the embedded index and
the secret files beside them (the vault's key), as one directory or one `.tar.gz`.

Consistent while the service runs: in the process that owns the index, index writes are
held (`Runtime.index_writes_held`) while the shard is flushed and copied and the database
is copied with SQLite's online backup API, so the copy's index and SQL's record of it
agree. Searches go on; notes logged meanwhile are in the copy's index outbox and are
indexed after a restore. The manifest names the versions, the schema revision, row and
point counts and every file's SHA-256; `restore` checks all of it before it touches the
data directory. PostgreSQL and a Qdrant server have their own tools (docs/operations.md).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from crmassist.errors import CrmassistError
from crmassist.settings import Settings

if TYPE_CHECKING:
    from crmassist.runtime import Runtime

FORMAT = 1
MANIFEST = "manifest.json"
DATABASE = "database/crmassist.db"
INDEX = "index"
SECRETS = "secrets"
SECRET_PATTERNS = ("*.key", "*secret*")
"""Files in the data directory's top level that a backup carries as secrets (the vault key
file that encryption at rest keeps beside the data, and any other such file)."""

Manifest = dict[str, Any]
Progress = Callable[[str], None]


class BackupError(CrmassistError):
    """A backup that cannot be made, read or restored: one line that says why."""


def _quiet(_: str) -> None:
    pass


def unsupported(settings: Settings) -> str | None:
    """Why `settings` is not the embedded default these commands copy, and what to use."""
    url = sa.make_url(settings.resolved_database_url)
    if url.get_backend_name() != "sqlite":
        return (
            f"the database is {url.get_backend_name()}, not SQLite: back it up with pg_dump "
            "and restore with pg_restore, the index with the Qdrant snapshots API "
            "(docs/operations.md, Backup and restore)"
        )
    if settings.qdrant_url:
        return (
            f"the index is on the Qdrant server at {settings.qdrant_url}: back it up with its "
            "snapshots API, the SQLite file with `sqlite3 DB .backup` (docs/operations.md)"
        )
    return None


def is_archive(path: Path) -> bool:
    return path.name.endswith((".tar.gz", ".tgz"))


def create(
    rt: Runtime, target: Path, *, with_secrets: bool = True, progress: Progress = _quiet
) -> Manifest:
    """Back up what `rt` serves into `target` (a new directory, or a `.tar.gz`)."""
    if reason := unsupported(rt.settings):
        raise BackupError(reason)
    check_target(target)
    with staging(target) as stage:
        manifest = snapshot(rt, stage, progress)
        if with_secrets:
            add_secrets(manifest, stage, rt.settings.data_dir, progress)
        finish(manifest, stage, target, progress)
    return manifest


def complete(received: Path, data_dir: Path, target: Path, progress: Progress = _quiet) -> Manifest:
    """A backup the service made (`POST /v1/admin/backup`; secrets never travel over
    HTTP): checked, given the data directory's secrets, and written to `target`."""
    check_target(target)
    with opened(received) as root, staging(target) as stage:
        manifest = verify(root, received)
        shutil.copytree(root, stage, dirs_exist_ok=True)
        add_secrets(manifest, stage, data_dir, progress)
        finish(manifest, stage, target, progress)
    return manifest


def check_target(target: Path) -> None:
    if target.exists() and not (target.is_dir() and not any(target.iterdir())):
        raise BackupError(f"{target} exists: a backup never overwrites; name a new path")
    if is_archive(target) and not target.parent.is_dir():
        raise BackupError(f"no directory {target.parent} to write {target.name} into")


@contextmanager
def staging(target: Path) -> Iterator[Path]:
    """A private directory beside `target` (same file system: moved into place at the end)."""
    parent = target.parent
    parent.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=f".{target.name}.", dir=parent))  # mode 0700
    try:
        yield stage
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def snapshot(rt: Runtime, stage: Path, progress: Progress = _quiet) -> Manifest:
    """Copy the index and the database into `stage` as of one moment; the manifest so far."""
    from crmassist.retrieval.edge_store import EdgeStore

    store = rt.store
    if not isinstance(store, EdgeStore):  # `unsupported` names the alternatives
        raise BackupError(unsupported(rt.settings) or "only the embedded index can be copied")
    points = None
    with rt.index_writes_held():
        if store.exists():
            points = store.copy_to(stage / INDEX)
            progress(f"index: {points} points copied from {store.path}")
        copy_database(rt.engine, stage / DATABASE)
    counts, revision = describe_database(stage / DATABASE)
    progress(f"database: {sum(counts.values())} rows in {len(counts)} tables (schema {revision})")
    return {
        "format": FORMAT,
        "created_at": datetime.now(UTC).isoformat(),
        "versions": {
            "crmassist": version("crmassist"),
            "sqlite": sqlite3.sqlite_version,
            "qdrant-edge-py": version("qdrant-edge-py"),
        },
        "schema_revision": revision,
        "embedding_model": rt.settings.embedding_model,
        "collection": rt.settings.collection,
        "counts": {"rows": counts, "index_points": points},
        "secrets": [],
    }


def copy_database(engine: sa.Engine, path: Path) -> None:
    """SQLite's online backup: one step, so the copy is one consistent moment even while
    others write (WAL lets them); stored in rollback-journal mode, a file complete alone."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = engine.raw_connection()
    try:
        with closing(sqlite3.connect(path)) as copy:
            raw.driver_connection.backup(copy)  # type: ignore[union-attr]
            copy.execute("PRAGMA journal_mode=DELETE")
    finally:
        raw.close()


def describe_database(path: Path) -> tuple[dict[str, int], str | None]:
    """Rows per table and the schema revision of a copied database."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        tables = [
            name
            for (name,) in db.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        counts = {t: int(db.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]) for t in tables}
        row = db.execute("SELECT version_num FROM alembic_version").fetchone() if tables else None
    return counts, (str(row[0]) if row else None)


def add_secrets(manifest: Manifest, stage: Path, data_dir: Path, progress: Progress) -> None:
    """The data directory's secret files (`SECRET_PATTERNS`), readable by the owner only."""
    found = sorted(
        {p for pattern in SECRET_PATTERNS for p in data_dir.glob(pattern) if p.is_file()}
    )
    if not found:
        return
    (stage / SECRETS).mkdir(mode=0o700, exist_ok=True)
    for path in found:
        shutil.copyfile(path, stage / SECRETS / path.name)
        os.chmod(stage / SECRETS / path.name, 0o600)
    manifest["secrets"] = [p.name for p in found]
    progress(f"secrets: {', '.join(manifest['secrets'])} (keep this backup as safe as the key)")


def finish(manifest: Manifest, stage: Path, target: Path, progress: Progress = _quiet) -> None:
    """Checksum every staged file into the manifest, then move or pack `stage` to `target`."""
    manifest["files"] = {
        rel: {"bytes": (stage / rel).stat().st_size, "sha256": _sha256(stage / rel)}
        for rel in _files(stage)
        if rel != MANIFEST
    }
    (stage / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    size = sum(f["bytes"] for f in manifest["files"].values())
    if is_archive(target):
        packed = stage.with_name(stage.name + ".tar.gz")
        fd = os.open(packed, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for rel in [MANIFEST, *manifest["files"]]:
                tar.add(stage / rel, arcname=rel, recursive=False)
        os.replace(packed, target)
    else:
        if target.is_dir():
            target.rmdir()  # the empty directory `check_target` allowed
        os.replace(stage, target)
    progress(f"wrote {target} ({len(manifest['files'])} files, {size / 1e6:.1f} MB, checksummed)")


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


# -- reading and restoring ----------------------------------------------------------------


@contextmanager
def opened(backup: Path) -> Iterator[Path]:
    """A backup as a directory: itself, or a `.tar.gz` unpacked beside it (removed after)."""
    if backup.is_dir():
        yield backup
        return
    if not backup.is_file():
        raise BackupError(f"no backup at {backup}")
    with tempfile.TemporaryDirectory(prefix=".crmassist-restore.", dir=backup.parent) as tmp:
        try:
            with tarfile.open(backup, mode="r:*") as tar:
                tar.extractall(tmp, filter="data")  # no absolute paths, links out or devices
        except (tarfile.TarError, OSError, EOFError) as exc:
            raise BackupError(f"the backup {backup} cannot be read ({exc}); it is damaged") from exc
        yield Path(tmp)


def verify(root: Path, label: Path | None = None) -> Manifest:
    """The manifest of the backup in `root`, once every file matches it; else one line."""
    name = label or root
    try:
        manifest: Manifest = json.loads((root / MANIFEST).read_text(encoding="utf-8"))
        files: dict[str, dict[str, Any]] = manifest["files"]
        fmt = int(manifest["format"])
    except FileNotFoundError:
        raise BackupError(f"{name} is not a crmassist backup (no {MANIFEST})") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BackupError(f"the backup {name} is damaged: its {MANIFEST} is unreadable") from exc
    if fmt > FORMAT:
        raise BackupError(f"{name} was written by a newer crmassist (backup format {fmt})")
    present = set(_files(root)) - {MANIFEST}
    if missing := sorted(set(files) - present):
        raise BackupError(f"the backup {name} is damaged: {missing[0]} is missing")
    if extra := sorted(present - set(files)):
        raise BackupError(f"the backup {name} holds files its manifest does not list: {extra[0]}")
    for rel, meta in files.items():
        path = root / rel
        if path.stat().st_size != meta["bytes"] or _sha256(path) != meta["sha256"]:
            raise BackupError(f"the backup {name} is damaged: {rel} does not match its checksum")
    _check_revision(manifest, name)
    with closing(sqlite3.connect(f"file:{root / DATABASE}?mode=ro", uri=True)) as db:
        if db.execute("PRAGMA quick_check").fetchone() != ("ok",):
            raise BackupError(f"the backup {name} is damaged: its database fails SQLite's check")
    return manifest


def _check_revision(manifest: Manifest, name: Path) -> None:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from crmassist.db.migrate import MIGRATIONS_DIR

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    known = {s.revision for s in ScriptDirectory.from_config(config).walk_revisions()}
    revision = manifest.get("schema_revision")
    if revision is not None and revision not in known:
        raise BackupError(
            f"{name} holds schema revision {revision}, newer than this crmassist knows "
            f"(up to {max(known)}): restore it with the crmassist that made it "
            f"({manifest.get('versions', {}).get('crmassist', 'unknown')})"
        )


def occupied(settings: Settings) -> list[Path]:
    """What a restore would replace or mix with: a non-empty data directory, the database
    file and the index (either may live outside it)."""
    places = (settings.data_dir, database_path(settings), index_path(settings))
    return [p for p in places if p.is_file() or (p.is_dir() and any(p.iterdir()))]


def database_path(settings: Settings) -> Path:
    return Path(str(sa.make_url(settings.resolved_database_url).database))


def index_path(settings: Settings) -> Path:
    return settings.resolved_qdrant_path / settings.collection


def restore(
    backup: Path, settings: Settings, *, force: bool = False, progress: Progress = _quiet
) -> Manifest:
    """Verify `backup`, then put its database, index and secrets where `settings` says."""
    from crmassist.retrieval.edge_store import OwnerLock

    if reason := unsupported(settings):
        raise BackupError(reason)
    if (held := occupied(settings)) and not force:
        raise BackupError(
            f"{held[0]} exists: restoring replaces the data there; pass --force to do that, "
            "or restore into a new --data-dir"
        )
    with opened(backup) as root:
        manifest = verify(root, backup)
        made, revision = manifest["created_at"][:19], manifest["schema_revision"]
        progress(f"verified {len(manifest['files'])} files, made {made} (schema {revision})")
        lock = OwnerLock(index_path(settings))
        lock.acquire()  # no crmassist process opens the index meanwhile (one line if one has)
        try:
            _install(root, manifest, settings, progress)
        finally:
            lock.release()
    return manifest


def _install(root: Path, manifest: Manifest, settings: Settings, progress: Progress) -> None:
    database = database_path(settings)
    database.parent.mkdir(parents=True, exist_ok=True)
    incoming = database.with_name(f".{database.name}.restoring")
    shutil.copyfile(root / DATABASE, incoming)
    for leftover in ("-wal", "-shm", "-journal"):  # an old log must never meet the new file
        database.with_name(database.name + leftover).unlink(missing_ok=True)
    os.replace(incoming, database)
    progress(f"database: {database}")
    index = index_path(settings)
    old = index.with_name(f".{index.name}.replaced")
    shutil.rmtree(old, ignore_errors=True)
    if index.exists():
        index.rename(old)
    if (root / INDEX).is_dir():
        shutil.copytree(root / INDEX, index)
        progress(f"index: {manifest['counts']['index_points']} points at {index}")
    shutil.rmtree(old, ignore_errors=True)
    for name in manifest.get("secrets", []):
        target = settings.data_dir / name
        shutil.copyfile(root / SECRETS / name, target)
        os.chmod(target, 0o600)
        progress(f"secret: {target}")
