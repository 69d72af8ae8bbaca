"""The role matrix for SQL: which accounts a principal reaches and what they may see there.

`policy.retrieval_filter` is the same matrix for the vector index; the two are kept side
by side in `docs/access.md`. Every SQL-backed tool starts from `account_scope`.
"""

from __future__ import annotations

from enum import StrEnum

import sqlalchemy as sa

from crmassist.access.principal import Principal
from crmassist.domain.enums import Role
from crmassist.domain.models import Account, User


class Section(StrEnum):
    """Parts of a customer record that roles see or do not see."""

    PROFILE = "profile"
    CONTACT_DETAILS = "contact_details"
    DEALS = "deals"
    ORDERS = "orders"
    NOTES = "notes"
    TICKETS = "tickets"
    TASKS = "tasks"


_SECTIONS: dict[Role, frozenset[Section]] = {
    Role.ADMIN: frozenset(Section),
    Role.MANAGER: frozenset(Section),
    Role.REP: frozenset(Section),
    # Support works tickets: names and titles of contacts, never deals, orders or notes;
    # contact details are shown masked (see `privacy.Disclosure`).
    Role.SUPPORT: frozenset({Section.PROFILE, Section.TICKETS, Section.TASKS}),
}


def may_see(principal: Principal, section: Section) -> bool:
    if principal.external:
        return False
    return section in _SECTIONS[principal.role]


def account_scope(principal: Principal) -> sa.ColumnElement[bool]:
    """A WHERE clause on `Account` selecting the accounts the principal may reach."""
    if principal.external:
        return sa.false()
    if principal.role in (Role.ADMIN, Role.SUPPORT):
        return sa.true()
    if principal.role is Role.REP:
        return Account.owner_id == principal.user_id
    if principal.role is Role.MANAGER and principal.team_id is not None:
        team = sa.select(User.id).where(User.team_id == principal.team_id)
        return Account.owner_id.in_(team.scalar_subquery())
    return sa.false()


def visible_account_ids(principal: Principal) -> sa.Select[str]:
    """A subquery of reachable account ids, for filtering records that hang off accounts."""
    return sa.select(Account.id).where(account_scope(principal))
