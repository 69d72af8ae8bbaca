"""The audit trail: every data access and tool call, with who, what and which records."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crmassist.access.principal import Principal
from crmassist.db import session_scope
from crmassist.domain.models import AuditEvent


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
