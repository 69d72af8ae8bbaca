"""Data-rights operations on a Runtime, shared by the CLI and the API: each one does its
work, keeps the runtime's caches in step and writes its audit event (never the values)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from crmassist.errors import CrmassistError
from crmassist.privacy import rights

if TYPE_CHECKING:
    from crmassist.access.principal import Principal
    from crmassist.runtime import Runtime


def export_person(
    rt: Runtime, actor: Principal | None, *, via: str, **who: str | None
) -> dict[str, Any]:
    """Everything held about one contact, values revealed; audited as `privacy:export`."""
    data = rights.export_person(rt.sessions, rt.redactor, _store(rt), **who)
    rt.audit.record(
        actor,
        "privacy:export",
        target=f"contact/{data['contact']['id']}",
        via=via,
        counts={k: len(v) for k, v in data.items() if isinstance(v, list)},
    )
    return data


def erase_person(
    rt: Runtime, actor: Principal | None, *, via: str, **who: str | None
) -> rights.Erasure:
    """Erase one contact everywhere and prove it; audited as `privacy:erase` with what
    changed and whether the proof came out clean."""
    store = _store(rt)
    index = rt.indexer().sync_records if store is not None else None
    erasure = rights.erase_person(rt.sessions, rt.redactor, store, index, **who)
    rt.refresh_known_names()  # the erased name is no longer a known name to redact
    rt.audit.record(
        actor,
        "privacy:erase",
        target=f"contact/{erasure.contact_id}",
        via=via,
        changed=erasure.changed,
        reindexed=erasure.reindexed,
        clean=erasure.clean,
    )
    return erasure


def purge(
    rt: Runtime, actor: Principal | None, *, via: str, days: int | None = None
) -> rights.Purge:
    """Enforce `CRMASSIST_CONVERSATION_RETENTION_DAYS` (or `days`); audited as `privacy:purge`."""
    keep = days or rt.settings.conversation_retention_days
    if keep is None:
        raise CrmassistError(
            "no retention period: set CRMASSIST_CONVERSATION_RETENTION_DAYS or pass --days"
        )
    done = rights.purge_conversations(rt.sessions, keep)
    rt.audit.record(
        actor,
        "privacy:purge",
        via=via,
        days=keep,
        conversations=done.conversations,
        messages=done.messages,
    )
    return done


def _store(rt: Runtime) -> Any:
    """The index when there is one: without it, nothing of a person can be indexed."""
    return rt.store if rt.store.exists() else None
