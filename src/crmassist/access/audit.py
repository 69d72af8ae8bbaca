"""The audit trail: every data access and tool call, with who, what and which records."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session, sessionmaker

from crmassist.access.principal import Principal
from crmassist.db import session_scope
from crmassist.domain.models import AuditEvent


@dataclass(frozen=True)
class AuditQuery:
    """Which events to read; every filter is optional and they combine with AND."""

    user: str | None = None
    """The actor's user id."""
    tool: str | None = None
    """A tool's name: the `tool:<name>` events of the agent's tool calls."""
    action: str | None = None
    """An action exactly (`search`, `api:record`, `privacy:erase`), or a prefix ending in
    `:` (`privacy:`, `tool:`)."""
    record: str | None = None
    """A record, as `kind/id` (`interactions/I001`) or a bare id: the event's target or one
    of the records it touched."""
    since: datetime | None = None
    until: datetime | None = None
    """Half-open: `since <= at < until`."""
    before: int | None = None
    """Keyset cursor: only events older than this id (the previous page's `next_before`)."""
    limit: int = 50


class AuditLog:
    def __init__(self, session_factory: sessionmaker[Session]) -> None:
        self._sessions = session_factory

    def record(
        self,
        principal: Principal | None,
        action: str,
        target: str | None = None,
        records: Sequence[str] = (),
        **details: Any,
    ) -> None:
        """Write one event in its own transaction, so it survives a failing caller."""
        with session_scope(self._sessions) as session:
            session.add(
                AuditEvent(
                    at=datetime.now(UTC),
                    actor_id=principal.user_id if principal else None,
                    action=action,
                    target=target,
                    details={
                        "role": principal.role.value if principal else None,
                        "records": list(records),
                        **details,
                    },
                )
            )

    def events(self, query: AuditQuery) -> tuple[list[AuditEvent], int | None]:
        """One page of events, newest first, and the cursor for the next page (None at
        the end). Keyset paging: events written meanwhile never shift a later page."""
        rows = sa.select(AuditEvent).where(*_conditions(query))
        rows = rows.order_by(AuditEvent.id.desc()).limit(query.limit + 1)
        with self._sessions() as session:
            found = list(session.scalars(rows))
        more = len(found) > query.limit
        page = found[: query.limit]
        return page, (page[-1].id if more and page else None)


def _conditions(q: AuditQuery) -> list[sa.ColumnElement[bool]]:
    where: list[sa.ColumnElement[bool]] = []
    if q.user:
        where.append(AuditEvent.actor_id == q.user)
    if q.tool:
        where.append(AuditEvent.action == f"tool:{q.tool}")
    if q.action:
        exact = AuditEvent.action == q.action
        prefix = AuditEvent.action.startswith(q.action, autoescape=True)
        where.append(prefix if q.action.endswith(":") else exact)
    if q.record:
        where.append(_touches(q.record))
    if q.since:
        where.append(AuditEvent.at >= q.since)
    if q.until:
        where.append(AuditEvent.at < q.until)
    if q.before is not None:
        where.append(AuditEvent.id < q.before)
    return where


def _touches(record: str) -> sa.ColumnElement[bool]:
    """The event names the record: as its target, or among the records it touched (JSON,
    matched as the quoted string it is stored as, with or without its kind)."""
    details = sa.cast(AuditEvent.details, sa.Text)
    quoted = f'"{record}"'
    return sa.or_(
        AuditEvent.target == record,
        AuditEvent.target.endswith(f"/{record}", autoescape=True),
        details.contains(quoted, autoescape=True),
        details.contains(f'/{record}"', autoescape=True),
    )
