"""Resolves identities to principals. Unknown identities get nothing, loudly."""

from __future__ import annotations

from sqlalchemy.orm import Session

from crmassist.access.principal import Principal
from crmassist.domain.models import User


class UnknownUser(LookupError):
    def __init__(self, user_id: str) -> None:
        super().__init__(f"unknown user {user_id!r} (see `crmassist users list`)")
        self.user_id = user_id


def principal_for(session: Session, user_id: str) -> Principal:
    user = session.get(User, user_id)
    if user is None:
        raise UnknownUser(user_id)
    return Principal(user_id=user.id, role=user.role, team_id=user.team_id)
