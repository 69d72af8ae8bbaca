"""The running service's discovery file: how a CLI command finds the service that owns a
data directory, and talks to it instead of dying on the embedded index's lock.

`crmassist serve` writes `<data_dir>/service.json` once it listens: its URL, its pid and a
local credential (random, held only in the service's memory and this file, mode 0600).
Whoever can read the file can read the database beside it, so the credential grants no
more than the directory already does: it lets the CLI act as any user, as `--as` does
locally. The file is removed on shutdown; one left by a killed service is stale (its pid
is gone) and is removed by the next reader.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

log = logging.getLogger(__name__)

FILE_NAME = "service.json"


@dataclass(frozen=True)
class ServiceInfo:
    url: str
    pid: int
    token: str
    started_at: str

    def describe(self) -> str:
        return f"the service at {self.url} (process {self.pid})"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def path_for(data_dir: Path) -> Path:
    return data_dir / FILE_NAME


def publish(data_dir: Path, url: str, token: str) -> ServiceInfo:
    """Write the discovery file, readable by its owner only, atomically (never half-read)."""
    info = ServiceInfo(url, os.getpid(), token, datetime.now(UTC).isoformat())
    target = path_for(data_dir)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = target.with_name(f".{FILE_NAME}.{os.getpid()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        json.dump(asdict(info), handle)
    os.chmod(temp, 0o600)  # an existing temp file keeps its mode through O_CREAT
    os.replace(temp, target)
    log.info("service discovery file %s", target)
    return info


def withdraw(data_dir: Path, token: str) -> None:
    """Remove the discovery file if it is still this service's (a newer one may own it)."""
    found = _read(path_for(data_dir))
    if found is not None and secrets.compare_digest(found.token, token):
        path_for(data_dir).unlink(missing_ok=True)


def discover(data_dir: Path) -> ServiceInfo | None:
    """The live service owning `data_dir`, if any; a stale file is removed."""
    path = path_for(data_dir)
    info = _read(path)
    if info is None:
        return None
    if not _alive(info.pid):
        log.info("removing stale %s (process %d is gone)", path, info.pid)
        path.unlink(missing_ok=True)
        return None
    return info


def _read(path: Path) -> ServiceInfo | None:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return ServiceInfo(str(raw["url"]), int(raw["pid"]), str(raw["token"]), raw["started_at"])
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError) as exc:  # unreadable or not ours
        log.warning("ignoring %s: %s", path, exc)
        return None


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, another user's
        return True
    return True
