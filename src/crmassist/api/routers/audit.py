"""Admin-only: read the audit log (every tool call, search, record read, import, export,
erasure and key change), filtered and paged newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from crmassist.access.audit import AuditQuery
from crmassist.api.deps import AdminDep, RuntimeDep
from crmassist.api.inputs import ID, NO_CONTROL, UtcDateTime
from crmassist.privacy.disclosure import Disclosure

router = APIRouter(prefix="/v1", tags=["admin"])


class AuditEventOut(BaseModel):
    id: int
    at: datetime
    actor_id: str | None = Field(description="The user who acted; null for the CLI and jobs.")
    action: str = Field(examples=["tool:search_notes", "api:record", "privacy:erase"])
    target: str | None
    details: dict[str, Any] = Field(
        description="What the action recorded: role, records touched, arguments, counts."
    )


class AuditPage(BaseModel):
    items: list[AuditEventOut]
    next_before: int | None = Field(
        description="Pass as `before` for the next (older) page; null on the last page."
    )


def _filter(description: str, pattern: str = ID) -> Any:
    return Query(max_length=200, pattern=pattern, description=description)


@router.get("/audit", response_model=AuditPage)
def audit(
    rt: RuntimeDep,
    admin: AdminDep,
    user: Annotated[str | None, _filter("The actor's user id.")] = None,
    tool: Annotated[str | None, _filter("A tool's name: its `tool:<name>` calls.")] = None,
    action: Annotated[
        str | None,
        _filter("An action (`search`), or a prefix ending in `:` (`privacy:`).", NO_CONTROL),
    ] = None,
    record: Annotated[
        str | None, _filter("A record, `kind/id` or a bare id: targeted or touched.")
    ] = None,
    since: Annotated[UtcDateTime | None, Query(description="From this time (inclusive).")] = None,
    until: Annotated[UtcDateTime | None, Query(description="Before this time.")] = None,
    before: Annotated[int | None, Query(ge=1, le=2**62, description="Page cursor.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> AuditPage:
    """Audit events newest first. Filters combine with AND; page with `before`."""
    query = AuditQuery(user, tool, action, record, since, until, before, limit)
    events, cursor = rt.audit.events(query)
    page = AuditPage(
        items=[
            AuditEventOut(
                id=e.id,
                at=e.at,
                actor_id=e.actor_id,
                action=e.action,
                target=e.target,
                details=e.details or {},
            )
            for e in events
        ],
        next_before=cursor,
    )
    return Disclosure(admin, rt.redactor).model(page)  # pseudonyms in targets, revealed
