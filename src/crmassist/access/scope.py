"""The role matrix for SQL: which accounts and records a principal reaches.

Visibility follows owners, as in Salesforce and HubSpot. An account is reached in full by
its owner and its account team; every record with an owner (deal, note, ticket, task) is
also reached by that owner wherever it lives, and owning a deal or a ticket opens its
account's profile for reading. A manager reaches whatever anyone in their teams reaches
(`Principal.owners`). `policy.retrieval_filter` is the same matrix for the vector index;
`docs/access.md` states both as one table, and tests prove they select the same records.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

import sqlalchemy as sa

from crmassist.access.principal import Principal
from crmassist.domain.enums import Role
from crmassist.domain.models import (
    Account,
    AccountTeamMember,
    Interaction,
    Opportunity,
    Task,
    Ticket,
)


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

OWNER_COLUMNS: dict[type[Any], Any] = {
    Opportunity: Opportunity.owner_id,
    Interaction: Interaction.author_id,
    Ticket: Ticket.assignee_id,
    Task: Task.owner_id,
}
"""Who owns each kind of record. Orders have no owner: they follow their account."""

PROFILE_GRANTS: tuple[type[Any], ...] = (Opportunity, Ticket)
"""Owning one of these opens its account's profile for reading (Salesforce's implicit
parent sharing); notes and tasks do not."""


def may_see(principal: Principal, section: Section) -> bool:
    if principal.external:
        return False
    return section in _SECTIONS[principal.role]


def _everything(principal: Principal) -> bool | None:
    """True for roles that see every account, False for none, None for owner-scoped ones."""
    if principal.external:
        return False
    if principal.role in (Role.ADMIN, Role.SUPPORT):
        return True
    return None


def account_scope(principal: Principal) -> sa.ColumnElement[bool]:
    """A WHERE clause on `Account`: the accounts reached in full (owner or account team)."""
    if (every := _everything(principal)) is not None:
        return sa.true() if every else sa.false()
    owners = principal.owners
    on_team = sa.select(AccountTeamMember.account_id).where(AccountTeamMember.user_id.in_(owners))
    return sa.or_(Account.owner_id.in_(owners), Account.id.in_(on_team.correlate(None)))


def profile_scope(principal: Principal) -> sa.ColumnElement[bool]:
    """A WHERE clause on `Account`: the accounts whose profile (name, facts, contacts) the
    principal may read: those reached in full, plus the accounts of deals and tickets
    they own."""
    if _everything(principal) is not None:
        return account_scope(principal)
    granted = [
        Account.id.in_(
            sa.select(model.account_id)
            .where(OWNER_COLUMNS[model].in_(principal.owners))
            .correlate(None)
        )
        for model in PROFILE_GRANTS
    ]
    return sa.or_(account_scope(principal), *granted)


def visible_account_ids(principal: Principal) -> sa.Select[str]:
    """A subquery of the accounts reached in full, for records that hang off accounts."""
    return sa.select(Account.id).where(account_scope(principal)).correlate(None)


def record_scope(principal: Principal, model: type[Any]) -> sa.ColumnElement[bool]:
    """A WHERE clause on a deal, note, ticket, task or order: on an account reached in
    full, or owned by one of the principal's owners (orders: the account only). Roles
    that may not see a section at all are stopped by `may_see`, not here."""
    if (every := _everything(principal)) is not None:
        return sa.true() if every else sa.false()
    on_account = model.account_id.in_(visible_account_ids(principal))
    owner = OWNER_COLUMNS.get(model)
    return on_account if owner is None else sa.or_(on_account, owner.in_(principal.owners))
