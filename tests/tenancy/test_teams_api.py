from __future__ import annotations

import httpx

from tests.factories import make_tenant, make_user
from tests.tenancy.conftest import AuditLog, Org
from tokengate.runtime import Runtime


async def test_a_team_without_a_named_owner_is_owned_by_the_first_tenant_admin(
    client: httpx.AsyncClient,
    runtime: Runtime,
    admin_headers: dict[str, str],
    org: Org,
    audit_log: AuditLog,
) -> None:
    await make_user(runtime, tenant_id=org.tenant.id, roles=["tenant_admin"])
    created = await client.post(
        "/api/v1/teams",
        json={"tenant_id": org.tenant.id, "name": "사회부", "description": "사회 뉴스"},
        headers=admin_headers,
    )
    assert created.status_code == 201
    team = created.json()
    assert (team["owner_user_id"], team["member_count"], team["archived"]) == (
        org.admin.id,
        0,
        False,
    )
    named = await client.post(
        "/api/v1/teams",
        json={"tenant_id": org.tenant.id, "name": "문화부", "owner_user_id": org.leader.id},
        headers=org.as_admin,
    )
    assert named.json()["owner_user_id"] == org.leader.id
    [second, first] = await audit_log(action="team.create")
    assert first["after"] == team and first["actor"] == "master-key"
    assert second["actor"] == org.admin.email and second["tenant_id"] == org.tenant.id

    bare = await make_tenant(runtime, plan=org.plan.name)
    nobody = await client.post(
        "/api/v1/teams", json={"tenant_id": bare.id, "name": "x"}, headers=admin_headers
    )
    assert nobody.json()["owner_user_id"] is None


async def test_the_owner_must_be_a_person_of_the_tenant(
    client: httpx.AsyncClient, admin_headers: dict[str, str], org: Org, audit_log: AuditLog
) -> None:
    body = {"tenant_id": org.tenant.id, "name": "사회부", "owner_user_id": org.rival_user.id}
    hidden = await client.post("/api/v1/teams", json=body, headers=org.as_admin)
    assert hidden.status_code == 404
    explained = await client.post("/api/v1/teams", json=body, headers=admin_headers)
    assert explained.status_code == 400 and explained.json()["error"]["param"] == "owner_user_id"
    await client.delete(f"/api/v1/users/{org.loner.id}", headers=org.as_admin)
    gone = {**body, "owner_user_id": org.loner.id}
    archived = await client.post("/api/v1/teams", json=gone, headers=org.as_admin)
    assert archived.status_code == 400 and "archived" in archived.json()["error"]["message"]
    rename_owner = await client.patch(
        f"/api/v1/teams/{org.team.id}",
        json={"owner_user_id": org.rival_user.id},
        headers=org.as_admin,
    )
    assert rename_owner.status_code == 404
    names = [
        t["name"] for t in (await client.get("/api/v1/teams", headers=org.as_admin)).json()["items"]
    ]
    assert names == [org.team.name, org.other_team.name]
    assert [e["action"] for e in await audit_log()] == ["user.archive"]


async def test_team_names_are_unique_per_tenant_on_create_and_rename(
    client: httpx.AsyncClient, org: Org, audit_log: AuditLog
) -> None:
    taken = org.team.name.upper()
    create = await client.post(
        "/api/v1/teams",
        json={"tenant_id": org.tenant.id, "name": f" {taken} "},
        headers=org.as_admin,
    )
    assert create.status_code == 409 and create.json()["error"]["param"] == "name"
    path = f"/api/v1/teams/{org.other_team.id}"
    rename = await client.patch(path, json={"name": taken}, headers=org.as_admin)
    assert rename.status_code == 409
    assert (await client.get(path, headers=org.as_admin)).json()["name"] == org.other_team.name
    assert await audit_log() == []

    same_elsewhere = await client.post(
        "/api/v1/teams",
        json={"tenant_id": org.rival_tenant.id, "name": org.team.name},
        headers=org.as_rival,
    )
    assert same_elsewhere.status_code == 201
    recased = await client.patch(
        f"/api/v1/teams/{org.team.id}", json={"name": taken}, headers=org.as_admin
    )
    assert recased.status_code == 200 and recased.json()["name"] == taken
    [event] = await audit_log(action="team.update")
    assert (event["before"]["name"], event["after"]["name"]) == (org.team.name, taken)


async def test_bad_team_input_is_refused_clearly(
    client: httpx.AsyncClient, org: Org, audit_log: AuditLog
) -> None:
    path = f"/api/v1/teams/{org.team.id}"
    for body in ({}, {"name": "  "}, {"name": None}, {"colour": "red"}):
        response = await client.patch(path, json=body, headers=org.as_admin)
        assert response.status_code == 422, body
        assert response.json()["error"]["code"] == "validation_error"
    missing = await client.patch("/api/v1/teams/9999", json={"name": "x"}, headers=org.as_admin)
    assert missing.status_code == 404
    assert await audit_log() == []


async def test_archiving_a_team_keeps_it_but_hides_it(
    client: httpx.AsyncClient, org: Org, audit_log: AuditLog
) -> None:
    path = f"/api/v1/teams/{org.team.id}"
    archived = await client.delete(path, headers=org.as_admin)
    assert archived.status_code == 200
    assert (archived.json()["archived"], archived.json()["member_count"]) == (True, 2)
    [event] = await audit_log()
    assert event["action"] == "team.archive" and event["before"]["archived"] is False

    listed = await client.get("/api/v1/teams", headers=org.as_admin)
    assert [t["id"] for t in listed.json()["items"]] == [org.other_team.id]
    everything = await client.get(
        "/api/v1/teams", params={"include_archived": "true"}, headers=org.as_admin
    )
    assert [t["id"] for t in everything.json()["items"]] == [org.team.id, org.other_team.id]
    assert (await client.get(path, headers=org.as_admin)).json()["archived"] is True

    again = await client.delete(path, headers=org.as_admin)
    assert again.status_code == 409 and "already archived" in again.json()["error"]["message"]
    join = await client.post(
        f"{path}/members", json={"user_id": org.loner.id}, headers=org.as_admin
    )
    assert join.status_code == 409 and "archived" in join.json()["error"]["message"]
    reuse = await client.post(
        "/api/v1/teams",
        json={"tenant_id": org.tenant.id, "name": org.team.name},
        headers=org.as_admin,
    )
    assert reuse.status_code == 409 and "rename it first" in reuse.json()["error"]["message"]
    # its people no longer see it as theirs
    assert (await client.get(path, headers=org.as_leader)).status_code == 404
    assert len(await audit_log()) == 1
