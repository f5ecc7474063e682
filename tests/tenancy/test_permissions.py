"""Who may do what in the tenancy API: 404 for what a caller cannot see, 403 for what they see
but may not change, and roles read afresh on every request."""

from __future__ import annotations

import httpx
import pytest

from tests.tenancy.conftest import AuditLog, Org


async def ids(client: httpx.AsyncClient, path: str, headers: dict[str, str]) -> list[int]:
    response = await client.get(path, headers=headers)
    assert response.status_code == 200, response.text
    return [item["id"] for item in response.json()["items"]]


async def test_anyone_signed_in_reads_plans_but_only_system_admins_change_them(
    client: httpx.AsyncClient, admin_headers: dict[str, str], org: Org, audit_log: AuditLog
) -> None:
    assert await ids(client, "/api/v1/plans", org.as_member) == [org.plan.id]
    one = await client.get(f"/api/v1/plans/{org.plan.id}", headers=org.as_member)
    assert one.json()["name"] == org.plan.name
    body = {"name": "Gold", "monthly_token_limit": 1, "max_users": 1}
    for headers in (org.as_admin, org.as_leader, org.as_member):
        assert (await client.post("/api/v1/plans", json=body, headers=headers)).status_code == 403
        patch = await client.patch(
            f"/api/v1/plans/{org.plan.id}", json={"max_users": 99}, headers=headers
        )
        assert patch.status_code == 403
        delete = await client.delete(f"/api/v1/plans/{org.plan.id}", headers=headers)
        assert delete.status_code == 403
    assert await audit_log() == []
    assert (await client.get("/api/v1/plans")).status_code == 401


async def test_tenants_are_listed_and_read_within_reach(
    client: httpx.AsyncClient, admin_headers: dict[str, str], org: Org
) -> None:
    everyone = await ids(client, "/api/v1/tenants", admin_headers)
    assert everyone == [org.tenant.id, org.rival_tenant.id]
    for headers in (org.as_admin, org.as_leader, org.as_member):
        assert await ids(client, "/api/v1/tenants", headers) == [org.tenant.id]
        own = await client.get(f"/api/v1/tenants/{org.tenant.id}", headers=headers)
        assert own.status_code == 200
        rival = await client.get(f"/api/v1/tenants/{org.rival_tenant.id}", headers=headers)
        assert rival.status_code == 404 and rival.json()["error"]["code"] == "not_found"
    asked = await client.get(
        "/api/v1/tenants", params={"tenant_id": org.rival_tenant.id}, headers=org.as_admin
    )
    assert asked.status_code == 404


async def test_tenant_admins_change_their_settings_but_not_name_plan_or_currency(
    client: httpx.AsyncClient, org: Org, audit_log: AuditLog
) -> None:
    path = f"/api/v1/tenants/{org.tenant.id}"
    for change in ({"name": "x"}, {"plan": org.plan.name}, {"currency": "KRW", "locale": "en"}):
        refused = await client.patch(path, json=change, headers=org.as_admin)
        assert refused.status_code == 403, change
        assert "only system administrators" in refused.json()["error"]["message"]
    assert (await client.get(path, headers=org.as_admin)).json() == org.tenant.model_dump(
        mode="json"
    )
    assert await audit_log() == []

    settings = {"locale": "en", "timezone": "Europe/Paris", "local_login": False}
    changed = await client.patch(path, json=settings, headers=org.as_admin)
    assert changed.status_code == 200
    assert {k: changed.json()[k] for k in settings} == settings
    [event] = await audit_log()
    assert (event["action"], event["actor"], event["tenant_id"]) == (
        "tenant.update",
        org.admin.email,
        org.tenant.id,
    )
    assert event["before"]["locale"] == "ko" and event["after"]["locale"] == "en"

    for headers in (org.as_leader, org.as_member):
        assert (await client.patch(path, json={"locale": "ko"}, headers=headers)).status_code == 403
    rival = f"/api/v1/tenants/{org.rival_tenant.id}"
    assert (
        await client.patch(rival, json={"locale": "en"}, headers=org.as_admin)
    ).status_code == 404
    for method in ("POST", "DELETE"):
        url = "/api/v1/tenants" if method == "POST" else path
        body = {"name": "새 신문사", "plan": org.plan.name} if method == "POST" else None
        response = await client.request(method, url, json=body, headers=org.as_admin)
        assert response.status_code == 403


async def test_teams_are_seen_by_their_people_and_changed_by_tenant_admins(
    client: httpx.AsyncClient, admin_headers: dict[str, str], org: Org, audit_log: AuditLog
) -> None:
    assert await ids(client, "/api/v1/teams", org.as_admin) == [org.team.id, org.other_team.id]
    assert await ids(client, "/api/v1/teams", org.as_leader) == [org.team.id]
    assert await ids(client, "/api/v1/teams", org.as_member) == [org.team.id]
    other = f"/api/v1/teams/{org.other_team.id}"
    assert (await client.get(other, headers=org.as_member)).status_code == 404
    assert (await client.get(other, headers=org.as_admin)).status_code == 200
    rival = f"/api/v1/teams/{org.rival_team.id}"
    assert (await client.get(rival, headers=org.as_admin)).status_code == 404

    own = f"/api/v1/teams/{org.team.id}"
    create = {"tenant_id": org.tenant.id, "name": "사회부"}
    for headers in (org.as_leader, org.as_member):
        assert (await client.post("/api/v1/teams", json=create, headers=headers)).status_code == 403
        assert (await client.patch(own, json={"name": "x"}, headers=headers)).status_code == 403
        assert (await client.delete(own, headers=headers)).status_code == 403
    foreign = {"tenant_id": org.rival_tenant.id, "name": "사회부"}
    response = await client.post("/api/v1/teams", json=foreign, headers=org.as_admin)
    assert response.status_code == 404
    assert (await client.patch(rival, json={"name": "x"}, headers=org.as_admin)).status_code == 404
    assert (await client.delete(rival, headers=org.as_admin)).status_code == 404
    assert await ids(client, "/api/v1/teams", org.as_rival) == [org.rival_team.id]
    assert await audit_log() == []


async def test_users_are_listed_within_reach(
    client: httpx.AsyncClient, admin_headers: dict[str, str], org: Org
) -> None:
    tenant_people = [org.admin.id, org.leader.id, org.member.id, org.loner.id]
    assert await ids(client, "/api/v1/users", org.as_admin) == tenant_people
    assert await ids(client, "/api/v1/users", org.as_leader) == [org.leader.id, org.member.id]
    assert await ids(client, "/api/v1/users", org.as_member) == [org.member.id]
    everyone = await ids(client, "/api/v1/users", admin_headers)
    assert everyone == [*tenant_people, org.rival_admin.id, org.rival_user.id]

    cases = [
        (org.as_member, org.member.id, 200),
        (org.as_member, org.leader.id, 404),
        (org.as_leader, org.member.id, 200),
        (org.as_leader, org.loner.id, 404),
        (org.as_admin, org.loner.id, 200),
        (org.as_admin, org.rival_user.id, 404),
    ]
    for headers, user_id, expected in cases:
        response = await client.get(f"/api/v1/users/{user_id}", headers=headers)
        assert response.status_code == expected, (user_id, response.text)


async def test_leaders_block_their_members_only(
    client: httpx.AsyncClient, org: Org, audit_log: AuditLog
) -> None:
    blocked = await client.post(
        f"/api/v1/users/{org.member.id}/block", json={"reason": "과다 사용"}, headers=org.as_leader
    )
    assert blocked.status_code == 200 and blocked.json()["status"] == "blocked"
    unblocked = await client.post(f"/api/v1/users/{org.member.id}/unblock", headers=org.as_leader)
    assert unblocked.json()["status"] == "active"
    assert [e["action"] for e in await audit_log()] == ["user.unblock", "user.block"]

    outside = await client.post(
        f"/api/v1/users/{org.loner.id}/block", json={}, headers=org.as_leader
    )
    assert outside.status_code == 404
    upward = await client.post(
        f"/api/v1/users/{org.leader.id}/block", json={}, headers=org.as_member
    )
    assert upward.status_code == 404
    edit = await client.patch(
        f"/api/v1/users/{org.member.id}", json={"name": "x"}, headers=org.as_leader
    )
    assert edit.status_code == 403
    archive = await client.delete(f"/api/v1/users/{org.member.id}", headers=org.as_leader)
    assert archive.status_code == 403
    assert len(await audit_log()) == 2


async def test_a_leader_may_not_block_an_administrator_in_their_team(
    client: httpx.AsyncClient, org: Org, audit_log: AuditLog
) -> None:
    added = await client.post(
        f"/api/v1/teams/{org.team.id}/members", json={"user_id": org.admin.id}, headers=org.as_admin
    )
    assert added.status_code == 201
    response = await client.post(
        f"/api/v1/users/{org.admin.id}/block", json={}, headers=org.as_leader
    )
    assert response.status_code == 403
    assert "administrators" in response.json()["error"]["message"]
    admin = await client.get(f"/api/v1/users/{org.admin.id}", headers=org.as_admin)
    assert admin.json()["status"] == "active"
    assert [e["action"] for e in await audit_log()] == ["team.member.add"]


async def test_roles_add_up(client: httpx.AsyncClient, org: Org) -> None:
    # the member also leads the other team: they act on its people, not on their teammates'
    lead = await client.patch(
        f"/api/v1/teams/{org.other_team.id}/members/{org.loner.id}",
        json={"role": "leader"},
        headers=org.as_admin,
    )
    assert lead.status_code == 200
    joined = await client.post(
        f"/api/v1/teams/{org.other_team.id}/members",
        json={"user_id": org.member.id, "role": "leader"},
        headers=org.as_admin,
    )
    assert joined.status_code == 201
    assert sorted(await ids(client, "/api/v1/teams", org.as_member)) == sorted(
        [org.team.id, org.other_team.id]
    )
    assert await ids(client, "/api/v1/users", org.as_member) == [org.member.id, org.loner.id]
    block = await client.post(f"/api/v1/users/{org.loner.id}/block", json={}, headers=org.as_member)
    assert block.status_code == 200
    teammate = await client.post(
        f"/api/v1/users/{org.leader.id}/block", json={}, headers=org.as_member
    )
    assert teammate.status_code == 404
    in_team = await client.post(
        f"/api/v1/teams/{org.team.id}/members",
        json={"user_id": org.loner.id},
        headers=org.as_member,
    )
    assert in_team.status_code == 403


async def test_a_role_change_applies_to_the_next_request_with_the_same_token(
    client: httpx.AsyncClient, org: Org
) -> None:
    assert await ids(client, "/api/v1/users", org.as_member) == [org.member.id]
    new_team = {"tenant_id": org.tenant.id, "name": "사회부"}
    assert (
        await client.post("/api/v1/teams", json=new_team, headers=org.as_member)
    ).status_code == 403

    promoted = await client.patch(
        f"/api/v1/users/{org.member.id}",
        json={"roles": ["member", "tenant_admin"]},
        headers=org.as_admin,
    )
    assert promoted.json()["roles"] == ["member", "tenant_admin"]
    assert len(await ids(client, "/api/v1/users", org.as_member)) == 4
    assert (
        await client.post("/api/v1/teams", json=new_team, headers=org.as_member)
    ).status_code == 201

    await client.patch(
        f"/api/v1/users/{org.member.id}", json={"roles": ["member"]}, headers=org.as_admin
    )
    again = {"tenant_id": org.tenant.id, "name": "문화부"}
    assert (
        await client.post("/api/v1/teams", json=again, headers=org.as_member)
    ).status_code == 403


async def test_only_system_admins_grant_system_admin(
    client: httpx.AsyncClient, admin_headers: dict[str, str], org: Org, audit_log: AuditLog
) -> None:
    grant = await client.patch(
        f"/api/v1/users/{org.member.id}",
        json={"roles": ["member", "system_admin"]},
        headers=org.as_admin,
    )
    assert grant.status_code == 403 and "system_admin" in grant.json()["error"]["message"]
    create = await client.post(
        "/api/v1/users",
        json={
            "tenant_id": org.tenant.id,
            "email": "root@se.kr",
            "name": "x",
            "roles": ["system_admin"],
        },
        headers=org.as_admin,
    )
    assert create.status_code == 403
    plan = await client.patch(
        f"/api/v1/users/{org.member.id}", json={"plan": org.plan.name}, headers=org.as_admin
    )
    assert plan.status_code == 403
    member = await client.get(f"/api/v1/users/{org.member.id}", headers=org.as_admin)
    assert member.json() == org.member.model_dump(mode="json")
    assert await audit_log() == []

    by_system = await client.patch(
        f"/api/v1/users/{org.member.id}",
        json={"roles": ["member", "system_admin"]},
        headers=admin_headers,
    )
    assert by_system.status_code == 200
    # a tenant admin can no longer change someone who became a system administrator
    rename = await client.patch(
        f"/api/v1/users/{org.member.id}", json={"name": "x"}, headers=org.as_admin
    )
    assert rename.status_code == 403


@pytest.mark.parametrize("how", ["demote", "archive"])
async def test_the_last_tenant_admin_stays(
    client: httpx.AsyncClient, org: Org, audit_log: AuditLog, how: str
) -> None:
    path = f"/api/v1/users/{org.admin.id}"
    if how == "demote":
        response = await client.patch(path, json={"roles": ["member"]}, headers=org.as_admin)
    else:
        response = await client.delete(path, headers=org.as_admin)
    assert response.status_code == 409
    assert "last tenant administrator" in response.json()["error"]["message"]
    assert (await client.get(path, headers=org.as_admin)).json() == org.admin.model_dump(
        mode="json"
    )
    assert await audit_log() == []

    await client.patch(
        f"/api/v1/users/{org.leader.id}",
        json={"roles": ["member", "tenant_admin"]},
        headers=org.as_admin,
    )
    demoted = await client.patch(path, json={"roles": ["member"]}, headers=org.as_admin)
    assert demoted.status_code == 200 and demoted.json()["roles"] == ["member"]
    # and at once they are no longer an administrator
    assert (
        await client.get(f"/api/v1/users/{org.loner.id}", headers=org.as_admin)
    ).status_code == 404
