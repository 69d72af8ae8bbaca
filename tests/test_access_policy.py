"""The role matrix as filters. Integration tests prove the same through the real index."""

from __future__ import annotations

import pytest

from crmassist.access import DENY_ALL, AllOf, AnyOf, Match, PayloadKey, Principal
from crmassist.access.policy import retrieval_filter, visible_sources
from crmassist.domain.enums import Role, SourceType


def _branches(principal: Principal) -> tuple[AllOf | Match | AnyOf, ...]:
    condition = retrieval_filter(principal)
    assert isinstance(condition, AnyOf)
    return condition.conditions


def test_rep_sees_kb_and_only_accounts_they_own() -> None:
    kb, crm = _branches(Principal("U1", Role.REP, "west"))
    assert Match(PayloadKey.SOURCE_TYPE, (SourceType.KB,)) in kb.conditions
    assert Match(PayloadKey.OWNER_ID, ("U1",)) in crm.conditions
    assert all(c.key != PayloadKey.TEAM_ID for c in crm.conditions)


def test_manager_is_scoped_by_team_not_owner() -> None:
    _, crm = _branches(Principal("M1", Role.MANAGER, "west"))
    assert Match(PayloadKey.TEAM_ID, ("west",)) in crm.conditions


def test_manager_without_team_gets_kb_only() -> None:
    _, crm = _branches(Principal("M2", Role.MANAGER, None))
    assert crm == DENY_ALL


def test_support_sees_tickets_and_accounts_never_notes() -> None:
    _, crm = _branches(Principal("S1", Role.SUPPORT, "support"))
    assert crm == Match(PayloadKey.SOURCE_TYPE, (SourceType.TICKET, SourceType.ACCOUNT))
    assert SourceType.INTERACTION not in visible_sources(Principal("S1", Role.SUPPORT))


def test_admin_sees_every_crm_source_unscoped() -> None:
    _, crm = _branches(Principal("A1", Role.ADMIN))
    assert isinstance(crm, Match)
    assert set(crm.values) == {SourceType.INTERACTION, SourceType.TICKET, SourceType.ACCOUNT}


@pytest.mark.parametrize("role", list(Role))
def test_internal_principals_see_internal_articles_external_do_not(role: Role) -> None:
    internal = retrieval_filter(Principal("X", role, "t"))
    external = retrieval_filter(Principal("X", role, "t", external=True))
    assert "internal" in repr(internal)
    assert external == AllOf(
        (
            Match(PayloadKey.SOURCE_TYPE, (SourceType.KB,)),
            Match(PayloadKey.AUDIENCE, ("public",)),
        )
    )
    assert visible_sources(Principal("X", role, external=True)) == (SourceType.KB,)
