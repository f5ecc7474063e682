from __future__ import annotations

import httpx
import pytest

from tests.factories import Member, bearer, make_plan, make_tenant
from tests.proxy.test_chat import MESSAGES
from tests.tenancy.conftest import AuditLog, Org
from tokengate.auth.passwords import verify_password
from tokengate.auth.sessions import COOKIE_NAME, load_session, open_session
from tokengate.db import transaction, utcnow
from tokengate.runtime import Runtime
from tokengate.tenancy.models import TeamMembership, User

CHAT = {"model": "C1", "messages": MESSAGES}


async def test_tenant_admins_create_people_of_their_tenant(
    client: httpx.AsyncClient, org: Org, audit_log: AuditLog
) -> None:
    body = {"tenant_id": org.tenant.id, "email": "Choi@SE.kr", "name": "최기자"}
    created = await client.post("/api/v1/users", json=body, headers=org.as_admin)
    assert created.status_code == 201
    assert (created.json()["email"], created.json()["roles"]) == ("choi@se.kr", ["member"])
    [event] = await audit_log()
    assert (event["action"], event["tenant_id"], event["after"]) == (
        "user.create",
        org.tenant.id,
        created.json(),
    )
    other = {**body, "email": "x@se.kr"}
    assert (
        await client.post("/api/v1/users", json=other, headers=org.as_leader)
    ).status_code == 403
    assert (await client.post("/api/v1/users", json=other, headers=org.as_rival)).status_code == 404
    assert len(await audit_log()) == 1


@pytest.mark.parametrize(
    ("change", "status", "words"),
    [
        ({"email": "not-an-email"}, 422, "email"),
        ({"roles": ["editor"]}, 422, "roles"),
        ({"email": "MEMBER@example.com"}, 409, "already exists"),
        ({"password": "short"}, 400, "12 characters"),
        ({"plan": "Gold"}, 400, "no plan named"),
        ({"tenant_id": 9999}, 404, "does not exist"),
    ],
)
async def test_bad_users_are_refused_clearly_and_nothing_is_created(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    org: Org,
    audit_log: AuditLog,
    change: dict[str, object],
    status: int,
    words: str,
) -> None:
    await client.patch(
        f"/api/v1/users/{org.member.id}", json={"email": "member@example.com"}, headers=org.as_admin
    )
    body = {"tenant_id": org.tenant.id, "email": "new@se.kr", "name": "신입", **change}
    headers = org.as_admin if "plan" not in change else admin_headers
    response = await client.post("/api/v1/users", json=body, headers=headers)
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert words in error["message"] or words in str(error.get("details")), error
    listed = await client.get("/api/v1/users", headers=admin_headers)
    assert len(listed.json()["items"]) == 6
    assert [e["action"] for e in await audit_log()] == ["user.update"]


async def test_a_password_only_where_the_tenant_signs_in_locally(
    client: httpx.AsyncClient, runtime: Runtime, org: Org, audit_log: AuditLog
) -> None:
    body = {"tenant_id": org.tenant.id, "email": "pw@se.kr", "name": "비번", "password": "x" * 16}
    created = await client.post("/api/v1/users", json=body, headers=org.as_admin)
    assert created.status_code == 201 and "password" not in created.json()
    async with runtime.sessions() as session:
        user = await session.get(User, created.json()["id"])
        assert user is not None and verify_password(user.password_hash, "x" * 16)
    [event] = await audit_log()
    assert "x" * 16 not in str(event)

    await client.patch(
        f"/api/v1/tenants/{org.tenant.id}", json={"local_login": False}, headers=org.as_admin
    )
    refused = await client.post(
        "/api/v1/users", json={**body, "email": "sso@se.kr"}, headers=org.as_admin
    )
    assert refused.status_code == 400
    assert "local_login is off" in refused.json()["error"]["message"]
    without = {k: v for k, v in body.items() if k != "password"}
    sso = await client.post(
        "/api/v1/users", json={**without, "email": "sso@se.kr"}, headers=org.as_admin
    )
    assert sso.status_code == 201


async def test_the_plan_caps_people_who_are_not_archived(
    client: httpx.AsyncClient, runtime: Runtime, admin_headers: dict[str, str], audit_log: AuditLog
) -> None:
    plan = await make_plan(runtime, name="Free", max_users=2)
    tenant = await make_tenant(runtime, plan=plan.name)

    async def add(n: int) -> httpx.Response:
        body = {"tenant_id": tenant.id, "email": f"u{n}@free.kr", "name": f"u{n}"}
        return await client.post("/api/v1/users", json=body, headers=admin_headers)

    first, _ = await add(1), await add(2)
    over = await add(3)
    assert over.status_code == 409
    assert "the Free plan allows at most 2 users" in over.json()["error"]["message"]
    assert len(await audit_log(action="user.create")) == 2
    await client.delete(f"/api/v1/users/{first.json()['id']}", headers=admin_headers)
    assert (await add(3)).status_code == 201


async def test_archiving_someone_ends_their_access_and_keeps_their_record(
    client: httpx.AsyncClient,
    runtime: Runtime,
    admin_headers: dict[str, str],
    member: Member,
    audit_log: AuditLog,
) -> None:
    key = {"Authorization": f"Bearer {member.key}"}
    assert (await client.post("/v1/chat/completions", json=CHAT, headers=key)).status_code == 200
    async with transaction(runtime.sessions) as session:
        cookie, _ = await open_session(
            session,
            user_id=member.user.id,
            stage="active",
            method="password",
            ip=None,
            user_agent=None,
            settings=runtime.settings,
            now=utcnow(),
        )
    token = bearer(runtime, member.user)
    path = f"/api/v1/users/{member.user.id}"
    assert (await client.get(path, headers=token)).status_code == 200
    assert (
        await client.get(path, headers={"Cookie": f"{COOKIE_NAME}={cookie}"})
    ).status_code == 200

    archived = await client.delete(path, headers=admin_headers)
    assert archived.status_code == 200 and archived.json()["status"] == "archived"
    [event] = await audit_log()
    assert (event["action"], event["before"]["status"], event["after"]["status"]) == (
        "user.archive",
        "active",
        "archived",
    )
    gateway = await client.post("/v1/chat/completions", json=CHAT, headers=key)
    assert gateway.status_code == 401 and gateway.json()["error"]["code"] == "invalid_api_key"
    assert (await client.get(path, headers=token)).status_code == 401
    async with transaction(runtime.sessions) as session:
        assert await load_session(session, cookie, settings=runtime.settings, now=utcnow()) is None
        user = await session.get(User, member.user.id)
        assert user is not None and user.auth_version == 1

    assert (await client.get("/api/v1/users", headers=admin_headers)).json()["items"] == []
    shown = await client.get("/api/v1/users", params={"status": "archived"}, headers=admin_headers)
    assert [u["id"] for u in shown.json()["items"]] == [member.user.id]
    for method, url, body in (
        ("DELETE", path, None),
        ("PATCH", path, {"name": "x"}),
        ("POST", f"{path}/block", {}),
    ):
        response = await client.request(method, url, json=body, headers=admin_headers)
        assert response.status_code == 409, (method, url)
        assert "archived" in response.json()["error"]["message"]
    assert len(await audit_log()) == 1


async def test_archiving_takes_someone_out_of_their_teams_and_hands_over_what_they_owned(
    client: httpx.AsyncClient, runtime: Runtime, org: Org
) -> None:
    second = await client.patch(
        f"/api/v1/users/{org.leader.id}",
        json={"roles": ["member", "tenant_admin"]},
        headers=org.as_admin,
    )
    assert second.status_code == 200
    team = await client.post(
        "/api/v1/teams", json={"tenant_id": org.tenant.id, "name": "사회부"}, headers=org.as_admin
    )
    assert team.json()["owner_user_id"] == org.admin.id
    assert (
        await client.delete(f"/api/v1/users/{org.admin.id}", headers=org.as_leader)
    ).status_code == 200
    after = await client.get(f"/api/v1/teams/{team.json()['id']}", headers=org.as_leader)
    assert after.json()["owner_user_id"] == org.leader.id
    await client.delete(
        f"/api/v1/teams/{org.team.id}/members/{org.member.id}", headers=org.as_leader
    )
    await client.delete(f"/api/v1/users/{org.member.id}", headers=org.as_leader)
    async with runtime.sessions() as session:
        assert await session.get(TeamMembership, (org.team.id, org.member.id)) is None


async def test_updating_a_user(client: httpx.AsyncClient, org: Org, audit_log: AuditLog) -> None:
    path = f"/api/v1/users/{org.member.id}"
    taken = await client.patch(path, json={"email": org.leader.email.upper()}, headers=org.as_admin)
    assert taken.status_code == 409
    nulls = await client.patch(path, json={"name": None}, headers=org.as_admin)
    assert nulls.status_code == 422 and "name cannot be null" in str(nulls.json())
    assert await audit_log() == []
    changed = await client.patch(
        path, json={"name": "민기자", "locale": "en", "email": "Min@SE.kr"}, headers=org.as_admin
    )
    assert changed.status_code == 200
    assert (changed.json()["name"], changed.json()["locale"], changed.json()["email"]) == (
        "민기자",
        "en",
        "min@se.kr",
    )
    cleared = await client.patch(path, json={"locale": None}, headers=org.as_admin)
    assert cleared.json()["locale"] is None
    assert [e["action"] for e in await audit_log()] == ["user.update", "user.update"]


async def test_unblocking_someone_who_is_not_blocked_is_a_conflict(
    client: httpx.AsyncClient, org: Org, audit_log: AuditLog
) -> None:
    response = await client.post(f"/api/v1/users/{org.member.id}/unblock", headers=org.as_admin)
    assert response.status_code == 409 and "not blocked" in response.json()["error"]["message"]
    assert await audit_log() == []
