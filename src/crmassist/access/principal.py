"""Who is asking. Every request resolves to a Principal before anything is retrieved."""

from __future__ import annotations

from dataclasses import dataclass, field

from crmassist.domain.enums import Role


@dataclass(frozen=True)
class Principal:
    user_id: str
    role: Role
    team_id: str | None = None
    external: bool = False
    """Reserved for customer-facing principals: they see public KB articles only."""
    reach: frozenset[str] = field(default_factory=frozenset)
    """Other users whose records this principal sees as if they owned them: for a manager,
    everyone in their team and the teams below it (`directory.principal_for` fills it)."""

    @property
    def owners(self) -> tuple[str, ...]:
        """The owner ids the scope matches, the principal's own first; SQL and the vector
        filter both read this one tuple, so they cannot disagree about who counts."""
        return (self.user_id, *sorted(self.reach - {self.user_id}))
