"""The role matrix for the vector index. `docs/access.md` is its prose twin, and
`scope.py` the same matrix for SQL; keep the three together.

| role    | KB                 | account profiles, notes, tickets                          |
|---------|--------------------|-----------------------------------------------------------|
| rep     | internal + public  | accounts they own or are on the team of; their own notes  |
|         |                    | and tickets anywhere; profiles of their deals' accounts   |
| manager | internal + public  | what anyone in their teams (and the teams below) sees     |
| support | internal + public  | tickets and account profiles, all                         |
| admin   | internal + public  | everything                                                |

Opportunities, orders and tasks are never indexed; SQL tools apply `scope.record_scope`.
"""

from __future__ import annotations

from crmassist.access.filters import DENY_ALL, Condition, all_of, any_of, match
from crmassist.access.principal import Principal
from crmassist.domain.enums import Audience, Role, SourceType


class PayloadKey:
    """Payload fields every chunk carries; the policy filters on them, the indexer fills them."""

    SOURCE_TYPE = "source_type"
    RECORD_ID = "record_id"
    ACCOUNT_ID = "account_id"
    OWNER_ID = "owner_id"
    """The record's own owner: a note's author, a ticket's assignee, an account's owner."""
    ACCOUNT_OWNER_ID = "account_owner_id"
    ACCOUNT_TEAM = "account_team"
    """A list: the users on the account's team."""
    DEAL_OWNERS = "deal_owners"
    TICKET_ASSIGNEES = "ticket_assignees"
    """Account profiles only, lists: owning a deal or a ticket opens the profile."""
    AUDIENCE = "audience"
    LANG = "lang"
    OCCURRED_AT = "occurred_at"

    OWNER_KEYS = (OWNER_ID, ACCOUNT_OWNER_ID, ACCOUNT_TEAM, DEAL_OWNERS, TICKET_ASSIGNEES)
    FILTERABLE_KEYWORDS = (SOURCE_TYPE, RECORD_ID, ACCOUNT_ID, *OWNER_KEYS, AUDIENCE, LANG)
    FILTERABLE_NUMBERS = (OCCURRED_AT,)


CRM_SOURCES = (SourceType.INTERACTION, SourceType.TICKET, SourceType.ACCOUNT)


def visible_audiences(principal: Principal) -> tuple[Audience, ...]:
    if principal.external:
        return (Audience.PUBLIC,)
    return (Audience.PUBLIC, Audience.INTERNAL)


def visible_sources(principal: Principal) -> tuple[SourceType, ...]:
    """Source types the principal may search at all; narrows `--source` choices."""
    if principal.external:
        return (SourceType.KB,)
    if principal.role is Role.SUPPORT:
        return (SourceType.KB, SourceType.TICKET, SourceType.ACCOUNT)
    return (SourceType.KB, *CRM_SOURCES)


def retrieval_filter(principal: Principal) -> Condition:
    """What the principal may retrieve, to be placed inside every vector query."""
    kb = all_of(
        match(PayloadKey.SOURCE_TYPE, SourceType.KB),
        match(PayloadKey.AUDIENCE, *visible_audiences(principal)),
    )
    crm = _crm_scope(principal)
    return kb if crm is None else any_of(kb, crm)


def _crm_scope(principal: Principal) -> Condition | None:
    if principal.external:
        return None
    if principal.role is Role.ADMIN:
        return match(PayloadKey.SOURCE_TYPE, *CRM_SOURCES)
    if principal.role is Role.SUPPORT:
        return match(PayloadKey.SOURCE_TYPE, SourceType.TICKET, SourceType.ACCOUNT)
    if principal.role in (Role.REP, Role.MANAGER):
        return all_of(match(PayloadKey.SOURCE_TYPE, *CRM_SOURCES), _owned(principal.owners))
    return DENY_ALL


def _owned(owners: tuple[str, ...]) -> Condition:
    """`scope.account_scope`, `record_scope` and `profile_scope`, over payload keys."""
    return any_of(
        match(PayloadKey.ACCOUNT_OWNER_ID, *owners),
        match(PayloadKey.ACCOUNT_TEAM, *owners),
        match(PayloadKey.OWNER_ID, *owners),
        all_of(
            match(PayloadKey.SOURCE_TYPE, SourceType.ACCOUNT),
            any_of(
                match(PayloadKey.DEAL_OWNERS, *owners),
                match(PayloadKey.TICKET_ASSIGNEES, *owners),
            ),
        ),
    )
