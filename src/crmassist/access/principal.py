"""Who is asking. Every request resolves to a Principal before anything is retrieved."""

from __future__ import annotations

from dataclasses import dataclass

from crmassist.domain.enums import Role


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: Role
    team_id: str | None = None
    external: bool = False
    """Reserved for customer-facing principals: they see public KB articles only."""
