"""The role matrix as filters. Integration tests prove the same through the real index."""

from __future__ import annotations

import pytest

from crmassist.access import AllOf, AnyOf, Match, PayloadKey, Principal
from crmassist.access.policy import retrieval_filter, visible_sources
from crmassist.domain.enums import Role, SourceType


def _branches(principal: Principal) -> tuple[AllOf | Match | AnyOf, ...]:
    condition = retrieval_filter(principal)
    assert isinstance(condition, AnyOf)
    return condition.conditions


def _owner_values(condition: object) -> set[tuple[str, tuple[str, ...]]]:
    """Every (owner key, values) the condition matches on, however deep."""
    if isinstance(condition, Match):
        return (
            {(condition.key, condition.values)} if condition.key in PayloadKey.OWNER_KEYS else set()
        )
    if isinstance(condition, AllOf | AnyOf):
        return set().union(*(_owner_values(c) for c in condition.conditions))
    return set()


def test_rep_is_matched_on_every_owner_key_with_their_id_alone() -> None:
    kb, crm = _branches(Principal("U1", Role.REP, "west"))
    assert Match(PayloadKey.SOURCE_TYPE, (SourceType.KB,)) in kb.conditions
    assert _owner_values(crm) == {(key, ("U1",)) for key in PayloadKey.OWNER_KEYS}


def test_manager_is_matched_on_everyone_in_reach_not_on_a_team_id() -> None:
    manager = Principal("M1", Role.MANAGER, "west", reach=frozenset({"U2", "U1", "M1"}))
    _, crm = _branches(manager)
    assert manager.owners == ("M1", "U1", "U2")
    assert _owner_values(crm) == {(key, ("M1", "U1", "U2")) for key in PayloadKey.OWNER_KEYS}
    assert "west" not in repr(crm)


def test_manager_without_team_sees_what_they_own() -> None:
    _, crm = _branches(Principal("M2", Role.MANAGER, None))
    assert _owner_values(crm) == {(key, ("M2",)) for key in PayloadKey.OWNER_KEYS}


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
