"""The role matrix, as code. `docs/access.md` is its prose twin; keep them together.

| role    | KB                 | accounts, interactions, tickets      |
|---------|--------------------|--------------------------------------|
| rep     | all internal + pub | accounts they own                    |
| manager | all internal + pub | accounts owned by their team         |
| support | all internal + pub | tickets and account profiles, all    |
| admin   | everything         | everything                           |

Opportunities and orders are never indexed; they are reached through SQL tools that
apply the same account scope.
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
    TEAM_ID = "team_id"
    AUDIENCE = "audience"
    LANG = "lang"
    OCCURRED_AT = "occurred_at"

    FILTERABLE_KEYWORDS = (SOURCE_TYPE, RECORD_ID, ACCOUNT_ID, OWNER_ID, TEAM_ID, AUDIENCE, LANG)
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
    if principal.role is Role.REP:
        return all_of(
            match(PayloadKey.SOURCE_TYPE, *CRM_SOURCES),
            match(PayloadKey.OWNER_ID, principal.user_id),
        )
    if principal.role is Role.MANAGER:
        if principal.team_id is None:
            return DENY_ALL
        return all_of(
            match(PayloadKey.SOURCE_TYPE, *CRM_SOURCES),
            match(PayloadKey.TEAM_ID, principal.team_id),
        )
    return DENY_ALL
