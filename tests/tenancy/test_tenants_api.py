from __future__ import annotations

import httpx

from tests.factories import Member, bearer, make_plan, make_user
from tests.proxy.test_chat import MESSAGES
from tests.tenancy.conftest import AuditLog, Org
from tokengate.runtime import Runtime

CHAT = {"model": "C1", "messages": MESSAGES}
FREE = {"name": "Free", "monthly_token_limit": 100_000, "allowed_models": ["C1"], "max_users": 5}


async def test_system_admins_manage_plans(
    client: httpx.AsyncClient, admin_headers: dict[str, str], audit_log: AuditLog
) -> None:
    created = await client.post("/api/v1/plans", json=FREE, headers=admin_headers)
    assert created.status_code == 201 and created.json()["archived"] is False
    plan_id = created.json()["id"]
    basic = await client.post(
        "/api/v1/plans", json={**FREE, "name": "Basic", "max_users": 20}, headers=admin_headers
    )
    path = f"/api/v1/plans/{plan_id}"
    taken = await client.patch(path, json={"name": "Basic"}, headers=admin_headers)
    assert taken.status_code == 409
    negative = await client.patch(path, json={"max_users": -1}, headers=admin_headers)
    assert negative.status_code == 422
    changed = await client.patch(
        path, json={"max_users": 6, "allowed_models": ["C1", "C7"]}, headers=admin_headers
    )
    assert (changed.json()["max_users"], changed.json()["allowed_models"]) == (6, ["C1", "C7"])
    [update, *_] = await audit_log()
    assert (update["action"], update["before"]["max_users"], update["after"]["max_users"]) == (
        "plan.update",
        5,
        6,
    )

    archived = await client.delete(path, headers=admin_headers)
    assert archived.status_code == 200 and archived.json()["archived"] is True
    assert (await client.delete(path, headers=admin_headers)).status_code == 409
    listed = await client.get("/api/v1/plans", headers=admin_headers)
    assert [p["name"] for p in listed.json()["items"]] == ["Basic"]
    every = await client.get("/api/v1/plans?include_archived=true", headers=admin_headers)
    assert [p["name"] for p in every.json()["items"]] == ["Free", "Basic"]
    refused = await client.post(
        "/api/v1/tenants", json={"name": "새 신문사", "plan": "Free"}, headers=admin_headers
    )
    assert refused.status_code == 400 and "archived" in refused.json()["error"]["message"]
    assert (await client.get("/api/v1/plans/9999", headers=admin_headers)).status_code == 404
    actions = [e["action"] for e in await audit_log()]
    assert actions == ["plan.archive", "plan.update", "plan.create", "plan.create"]
    assert basic.status_code == 201


async def test_a_plan_change_applies_from_the_next_gateway_request(
    client: httpx.AsyncClient,
    runtime: Runtime,
    admin_headers: dict[str, str],
    member: Member,
    audit_log: AuditLog,
) -> None:
    key = {"Authorization": f"Bearer {member.key}"}
    assert (await client.post("/v1/chat/completions", json=CHAT, headers=key)).status_code == 200
    long_form = await make_plan(runtime, name="Columns", allowed_models=["C7"])
    path = f"/api/v1/tenants/{member.tenant.id}"
    moved = await client.patch(path, json={"plan": long_form.name}, headers=admin_headers)
    assert moved.status_code == 200 and moved.json()["plan"] == "Columns"
    refused = await client.post("/v1/chat/completions", json=CHAT, headers=key)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "model_not_allowed"
    await client.patch(path, json={"plan": member.plan.name}, headers=admin_headers)
    assert (await client.post("/v1/chat/completions", json=CHAT, headers=key)).status_code == 200
    [back, there] = await audit_log(action="tenant.update")
    assert (there["before"]["plan"], there["after"]["plan"]) == (member.plan.name, "Columns")
    assert back["after"]["plan"] == member.plan.name


async def test_a_downgrade_below_the_number_of_people_is_refused(
    client: httpx.AsyncClient,
    runtime: Runtime,
    admin_headers: dict[str, str],
    org: Org,
    audit_log: AuditLog,
) -> None:
    tiny = await make_plan(runtime, name="Tiny", max_users=3)
    path = f"/api/v1/tenants/{org.tenant.id}"
    response = await client.patch(path, json={"plan": tiny.name}, headers=admin_headers)
    assert response.status_code == 409
    assert "allows at most 3 users and this tenant has 4" in response.json()["error"]["message"]
    assert (await client.get(path, headers=admin_headers)).json()["plan"] == org.plan.name
    await client.delete(f"/api/v1/users/{org.loner.id}", headers=admin_headers)
    assert (
        await client.patch(path, json={"plan": tiny.name}, headers=admin_headers)
    ).status_code == 200
    assert [e["action"] for e in await audit_log()] == ["tenant.update", "user.archive"]


async def test_bad_tenant_changes_change_nothing(
    client: httpx.AsyncClient, admin_headers: dict[str, str], org: Org, audit_log: AuditLog
) -> None:
    path = f"/api/v1/tenants/{org.tenant.id}"
    cases = [
        ({"timezone": "Mars/Olympus"}, 422),
        ({"plan": "Gold"}, 400),
        ({"name": org.rival_tenant.name}, 409),
        ({"currency": "won"}, 422),
        ({}, 422),
    ]
    for body, expected in cases:
        response = await client.patch(path, json=body, headers=admin_headers)
        assert response.status_code == expected, (body, response.text)
    assert (await client.get(path, headers=admin_headers)).json() == org.tenant.model_dump(
        mode="json"
    )
    assert (
        await client.patch("/api/v1/tenants/9999", json={"locale": "en"}, headers=admin_headers)
    ).status_code == 404
    assert await audit_log() == []
    # the MFA policy has its own route
    mfa = await client.patch(path, json={"mfa_required_for": ["all"]}, headers=org.as_admin)
    assert mfa.status_code == 422


async def test_archiving_a_tenant_closes_it(
    client: httpx.AsyncClient,
    runtime: Runtime,
    admin_headers: dict[str, str],
    member: Member,
    audit_log: AuditLog,
) -> None:
    admin = await make_user(runtime, tenant_id=member.tenant.id, roles=["tenant_admin"])
    token = bearer(runtime, admin)
    key = {"Authorization": f"Bearer {member.key}"}
    assert (await client.post("/v1/chat/completions", json=CHAT, headers=key)).status_code == 200
    path = f"/api/v1/tenants/{member.tenant.id}"
    assert (await client.delete(path, headers=token)).status_code == 403
    archived = await client.delete(path, headers=admin_headers)
    assert archived.status_code == 200 and archived.json()["archived"] is True
    [event] = await audit_log()
    assert (event["action"], event["tenant_id"]) == ("tenant.archive", member.tenant.id)

    assert (await client.post("/v1/chat/completions", json=CHAT, headers=key)).status_code == 401
    assert (await client.get(path, headers=token)).status_code == 401
    assert (await client.get("/api/v1/tenants", headers=admin_headers)).json()["items"] == []
    newcomer = {"tenant_id": member.tenant.id, "email": "late@x.kr", "name": "x"}
    late = await client.post("/api/v1/users", json=newcomer, headers=admin_headers)
    assert late.status_code == 409 and "archived" in late.json()["error"]["message"]
    assert (await client.delete(path, headers=admin_headers)).status_code == 409
    assert len(await audit_log()) == 1
