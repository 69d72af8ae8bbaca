"""Resolves identities to principals. Unknown identities get nothing, loudly."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Session

from crmassist.access.principal import Principal
from crmassist.domain.enums import Role
from crmassist.domain.models import Team, User


class UnknownUser(LookupError):
    def __init__(self, user_id: str) -> None:
        super().__init__(f"unknown user {user_id!r} (see `crmassist users list`)")
        self.user_id = user_id


def principal_for(session: Session, user_id: str) -> Principal:
    user = session.get(User, user_id)
    if user is None:
        raise UnknownUser(user_id)
    reach: frozenset[str] = frozenset()
    if user.role is Role.MANAGER and user.team_id is not None:
        reach = team_members(session, teams_below(session, user.team_id))
    return Principal(user_id=user.id, role=user.role, team_id=user.team_id, reach=reach)


def teams_below(session: Session, team_id: str) -> set[str]:
    """The team and every team under it, however deep (a loop, which the importer refuses,
    would only end the walk)."""
    children: dict[str, list[str]] = {}
    for child, parent in session.execute(sa.select(Team.id, Team.parent_id)):
        if parent is not None:
            children.setdefault(parent, []).append(child)
    found, todo = {team_id}, [team_id]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def team_members(session: Session, team_ids: set[str]) -> frozenset[str]:
    return frozenset(session.scalars(sa.select(User.id).where(User.team_id.in_(sorted(team_ids)))))
