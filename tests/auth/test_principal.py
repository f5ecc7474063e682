"""The one permission rule, on its own: who sees and who may act on what."""

from __future__ import annotations

import pytest

from tokengate.auth.principal import (
    Level,
    Owner,
    Principal,
    admin_tenant_filter,
    allows,
    can_see,
    require,
    tenant_filter,
)
from tokengate.errors import NotFound, PermissionDenied

A, B = 1, 2
TEAM, OTHER_TEAM = 10, 11
ME, TEAMMATE, STRANGER = 100, 101, 102


def person(
    *roles: str,
    led: frozenset[int] = frozenset(),
    teams: frozenset[int] = frozenset(),
    led_users: frozenset[int] = frozenset(),
) -> Principal:
    return Principal(
        user_id=ME,
        label="me@a.example",
        tenant_id=A,
        roles=frozenset(roles),
        led_team_ids=frozenset(led),
        member_team_ids=frozenset(teams | led),
        led_user_ids=frozenset(led_users),
    )


MASTER = Principal.master()
TENANT_ADMIN = person("tenant_admin", "member")
LEADER = person("member", "team_leader", led=frozenset({TEAM}), led_users=frozenset({TEAMMATE}))
MEMBER = person("member", teams=frozenset({TEAM}))

TEAM_OF_A = Owner(tenant_id=A, team_ids=frozenset({TEAM}), shared="team")
TEAMMATE_OF_A = Owner(tenant_id=A, user_id=TEAMMATE)
ME_OWNER = Owner(tenant_id=A, user_id=ME)
STRANGER_OF_A = Owner(tenant_id=A, user_id=STRANGER)
TENANT_A = Owner(tenant_id=A, shared="tenant")
TENANT_B = Owner(tenant_id=B, shared="tenant")
USER_OF_B = Owner(tenant_id=B, user_id=200)
CATALOGUE = Owner(tenant_id=None, shared="all")


@pytest.mark.parametrize("actor", [TENANT_ADMIN, LEADER, MEMBER])
@pytest.mark.parametrize(
    "owner", [TENANT_B, USER_OF_B, Owner(tenant_id=B, team_ids=frozenset({TEAM}))]
)
def test_nobody_of_tenant_a_sees_anything_of_tenant_b(actor: Principal, owner: Owner) -> None:
    assert not can_see(actor, owner)
    with pytest.raises(NotFound):
        require(actor, owner, Level.READ, "it")


def test_the_master_key_and_system_admins_see_and_do_everything() -> None:
    for owner in (TENANT_B, USER_OF_B, TEAM_OF_A, CATALOGUE):
        assert all(allows(MASTER, owner, level) for level in Level)


@pytest.mark.parametrize(
    ("actor", "owner", "level", "allowed"),
    [
        # a tenant admin: anything in their tenant, nothing system-wide
        (TENANT_ADMIN, STRANGER_OF_A, Level.ADMIN, True),
        (TENANT_ADMIN, TEAM_OF_A, Level.ADMIN, True),
        (TENANT_ADMIN, CATALOGUE, Level.READ, True),
        (TENANT_ADMIN, CATALOGUE, Level.SYSTEM, False),
        (TENANT_ADMIN, TENANT_A, Level.SYSTEM, False),
        # a team leader: their teams and members, not themself, not other people
        (LEADER, TEAMMATE_OF_A, Level.LEAD, True),
        (LEADER, TEAM_OF_A, Level.LEAD, True),
        (LEADER, TEAM_OF_A, Level.ADMIN, False),
        (LEADER, ME_OWNER, Level.SELF, True),
        (LEADER, ME_OWNER, Level.LEAD, False),
        (LEADER, STRANGER_OF_A, Level.READ, False),
        (LEADER, TENANT_A, Level.READ, True),
        (LEADER, TENANT_A, Level.ADMIN, False),
        # a member: themself only; their team and tenant readable
        (MEMBER, ME_OWNER, Level.SELF, True),
        (MEMBER, ME_OWNER, Level.LEAD, False),
        (MEMBER, TEAMMATE_OF_A, Level.READ, False),
        (MEMBER, TEAM_OF_A, Level.READ, True),
        (MEMBER, TEAM_OF_A, Level.LEAD, False),
        (MEMBER, CATALOGUE, Level.READ, True),
    ],
)
def test_each_role_reaches_what_the_permission_table_says(
    actor: Principal, owner: Owner, level: Level, allowed: bool
) -> None:
    assert allows(actor, owner, level) is allowed


def test_seen_but_not_allowed_is_403_not_404() -> None:
    with pytest.raises(PermissionDenied) as raised:
        require(MEMBER, TEAM_OF_A, Level.ADMIN, "team 10")
    assert "team 10" in raised.value.message("en")
    assert "권한" in raised.value.message("ko")


def test_several_roles_are_united() -> None:
    both = person("tenant_admin", "member", led=frozenset({TEAM}), led_users=frozenset({TEAMMATE}))
    assert allows(both, STRANGER_OF_A, Level.ADMIN)  # as tenant admin
    assert allows(both, TEAMMATE_OF_A, Level.LEAD)  # as leader


def test_lists_are_restricted_to_the_callers_reach() -> None:
    assert MASTER.reach().everything
    assert TENANT_ADMIN.reach().tenant_id == A and TENANT_ADMIN.reach().user_ids is None
    assert LEADER.reach().user_ids == frozenset({ME, TEAMMATE})
    assert MEMBER.reach().user_ids == frozenset({ME})
    assert MEMBER.reach().team_ids == frozenset({TEAM})
    assert tenant_filter(MEMBER, None) == A and tenant_filter(MASTER, None) is None
    with pytest.raises(NotFound):
        tenant_filter(TENANT_ADMIN, B)
    with pytest.raises(PermissionDenied):
        admin_tenant_filter(MEMBER, None, "the audit log")
    assert admin_tenant_filter(TENANT_ADMIN, A, "the audit log") == A
