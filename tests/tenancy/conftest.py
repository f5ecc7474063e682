"""A small organisation to act in: a tenant with an admin, a team with a leader and a member,
a second team, and a rival tenant whose ids must look like missing ones."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.factories import bearer, make_plan, make_team, make_tenant, make_user
from tokengate.runtime import Runtime
from tokengate.tenancy.schemas import PlanPublic, TeamPublic, TenantPublic, UserPublic

AuditLog = Callable[..., Awaitable[list[dict[str, Any]]]]


@dataclass(frozen=True)
class Org:
    """Who is who in the test organisation, and their request headers."""

    plan: PlanPublic
    tenant: TenantPublic
    admin: UserPublic
    leader: UserPublic
    member: UserPublic
    loner: UserPublic
    team: TeamPublic
    other_team: TeamPublic
    rival_tenant: TenantPublic
    rival_admin: UserPublic
    rival_user: UserPublic
    rival_team: TeamPublic
    as_admin: dict[str, str]
    as_leader: dict[str, str]
    as_member: dict[str, str]
    as_rival: dict[str, str]


@pytest.fixture
async def org(runtime: Runtime) -> Org:
    plan = await make_plan(runtime, max_users=10)
    tenant = await make_tenant(runtime, plan=plan.name, name="서울경제신문")
    admin = await make_user(runtime, tenant_id=tenant.id, name="Admin Kang", roles=["tenant_admin"])
    leader = await make_user(runtime, tenant_id=tenant.id, name="Leader Lee")
    member = await make_user(runtime, tenant_id=tenant.id, name="Member Min")
    loner = await make_user(runtime, tenant_id=tenant.id, name="Loner Park")
    team = await make_team(runtime, tenant_id=tenant.id, leaders=[leader.id], members=[member.id])
    other_team = await make_team(runtime, tenant_id=tenant.id, members=[loner.id])
    rival_tenant = await make_tenant(runtime, plan=plan.name, name="조선일보")
    rival_admin = await make_user(runtime, tenant_id=rival_tenant.id, roles=["tenant_admin"])
    rival_user = await make_user(runtime, tenant_id=rival_tenant.id)
    rival_team = await make_team(runtime, tenant_id=rival_tenant.id, members=[rival_user.id])
    return Org(
        plan=plan,
        tenant=tenant,
        admin=admin,
        leader=leader,
        member=member,
        loner=loner,
        team=team,
        other_team=other_team,
        rival_tenant=rival_tenant,
        rival_admin=rival_admin,
        rival_user=rival_user,
        rival_team=rival_team,
        as_admin=bearer(runtime, admin),
        as_leader=bearer(runtime, leader),
        as_member=bearer(runtime, member),
        as_rival=bearer(runtime, rival_admin),
    )


@pytest.fixture
def audit_log(client: httpx.AsyncClient, admin_headers: dict[str, str]) -> AuditLog:
    """Read the audit log (newest first) through its API, as a system administrator."""

    async def read(**filters: str | int) -> list[dict[str, Any]]:
        response = await client.get(
            "/api/v1/audit", params={"limit": 500, **filters}, headers=admin_headers
        )
        assert response.status_code == 200, response.text
        items: list[dict[str, Any]] = response.json()["items"]
        return items

    return read
