"""Invitations: an admin invites, the invitee sets a password and is signed in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests.auth.factories import (
    Account,
    audit_actions,
    count_rows,
    make_account,
    make_team_account,
    make_tenant_with_plan,
    set_tenant,
    sign_in,
    token_headers,
)
from tests.factories import make_team
from tokengate.auth import invitations
from tokengate.auth.models import Invitation
from tokengate.auth.schemas import InvitationCreate
from tokengate.db import transaction, utcnow
from tokengate.runtime import Runtime
from tokengate.tenancy.models import User

NEW_PASSWORD = "my own long passphrase"


async def invite(client: httpx.AsyncClient, headers: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post("/api/v1/invitations", json=body, headers=headers)


async def accept(client: httpx.AsyncClient, token: str, **body: Any) -> httpx.Response:
    payload = {"token": token, "password": NEW_PASSWORD, **body}
    return await client.post("/api/v1/auth/invitations/accept", json=payload)


@pytest.fixture
async def admin(runtime: Runtime) -> Account:
    return await make_account(runtime, roles=["tenant_admin"])


async def test_an_invitee_joins_with_a_password(
    client: httpx.AsyncClient, runtime: Runtime, admin: Account
) -> None:
    headers = await token_headers(client, admin)
    team = await make_team(runtime, tenant_id=admin.tenant.id)
    response = await invite(
        client,
        headers,
        tenant_id=admin.tenant.id,
        email="New.Person@Example.com",
        name="New Person",
        roles=["member", "team_leader"],
        team_id=team.id,
    )
    assert response.status_code == 201, response.text
    issued = response.json()
    assert issued["email"] == "new.person@example.com"
    assert issued["status"] == "pending" and issued["created_by"] == admin.user.id
    assert issued["accept_url"] == f"/invitations/accept?token={issued['token']}"
    async with transaction(runtime.sessions) as session:
        found = await invitations.pending_invitation(
            session, email="new.person@example.com", now=utcnow()
        )
        assert found is not None and found.id == issued["id"]
        assert issued["token"] not in found.token_hash

    joined = await accept(client, issued["token"])
    assert joined.status_code == 201, joined.text
    me_headers = {"Authorization": f"Bearer {joined.json()['access_token']}"}
    me = (await client.get("/api/v1/me", headers=me_headers)).json()
    assert me["email"] == "new.person@example.com" and me["name"] == "New Person"
    assert me["tenant_id"] == admin.tenant.id
    assert me["roles"] == ["member", "team_leader"] and me["led_team_ids"] == [team.id]
    signed_in = await client.post(
        "/api/v1/auth/token", json={"email": "new.person@example.com", "password": NEW_PASSWORD}
    )
    assert signed_in.status_code == 200

    used = await accept(client, issued["token"])
    assert used.status_code == 400
    assert "already used" in used.json()["error"]["message"]
    listed = (await client.get("/api/v1/invitations", headers=headers)).json()["items"]
    assert [i["status"] for i in listed] == ["accepted"]
    assert "token" not in listed[0]
    assert await audit_actions(runtime) == ["invitation.create", "invitation.accept"]


async def test_bad_invitations_are_refused_and_change_nothing(
    client: httpx.AsyncClient, runtime: Runtime, admin: Account
) -> None:
    headers = await token_headers(client, admin)
    other_team = await make_team(runtime, tenant_id=(await make_account(runtime)).tenant.id)
    tenant = admin.tenant.id
    cases: list[tuple[dict[str, Any], int, str]] = [
        ({"tenant_id": tenant, "email": "not-an-address"}, 400, "invalid e-mail address"),
        ({"tenant_id": tenant, "email": admin.email}, 409, "already exists"),
        ({"tenant_id": tenant, "email": "x@example.com", "team_id": other_team.id}, 400, "team"),
        ({"tenant_id": tenant, "email": "x@example.com", "roles": ["system_admin"]}, 422, "roles"),
        ({"tenant_id": 999_999, "email": "x@example.com"}, 404, "does not exist"),
    ]
    for body, status, words in cases:
        response = await invite(client, headers, **body)
        assert response.status_code == status, (body, response.text)
        assert words in response.json()["error"]["message"]
    assert await count_rows(runtime, Invitation) == 0
    assert await audit_actions(runtime) == []


async def test_only_admins_of_the_tenant_invite(
    client: httpx.AsyncClient, runtime: Runtime, admin: Account, admin_headers: dict[str, str]
) -> None:
    member = await make_account(runtime, tenant=admin.tenant)
    outsider = await make_account(runtime, roles=["tenant_admin"])
    body = {"tenant_id": admin.tenant.id, "email": "x@example.com"}
    assert (await invite(client, await token_headers(client, member), **body)).status_code == 403
    assert (await invite(client, await token_headers(client, outsider), **body)).status_code == 404
    assert (await invite(client, admin_headers, **body)).status_code == 201
    twice = await invite(client, admin_headers, **body)
    assert twice.status_code == 409 and "pending invitation" in twice.json()["error"]["message"]


async def test_pending_invitations_take_seats_of_the_plan(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    tenant = await make_tenant_with_plan(runtime, max_users=2)
    admin = await make_account(runtime, tenant=tenant, roles=["tenant_admin"])
    headers = await token_headers(client, admin)
    assert (await invite(client, headers, tenant_id=tenant.id, email="a@example.com")).is_success
    full = await invite(client, headers, tenant_id=tenant.id, email="b@example.com")
    assert full.status_code == 409
    assert "at most 2 users" in full.json()["error"]["message"]


async def test_revoked_and_expired_invitations_cannot_be_accepted(
    client: httpx.AsyncClient, runtime: Runtime, admin: Account
) -> None:
    headers = await token_headers(client, admin)
    issued = (
        await invite(client, headers, tenant_id=admin.tenant.id, email="r@example.com")
    ).json()
    revoked = await client.post(f"/api/v1/invitations/{issued['id']}/revoke", headers=headers)
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    again = await client.post(f"/api/v1/invitations/{issued['id']}/revoke", headers=headers)
    assert again.status_code == 409
    refused = await accept(client, issued["token"])
    assert refused.status_code == 400 and "withdrawn" in refused.json()["error"]["message"]

    async with transaction(runtime.sessions) as session:
        old = await invitations.create_invitation(
            session,
            data=InvitationCreate(tenant_id=admin.tenant.id, email="late@example.com"),
            created_by=admin.user.id,
            settings=runtime.settings,
            now=utcnow() - timedelta(days=8),
        )
    expired = await accept(client, old.token)
    assert expired.status_code == 400
    assert "expired" in expired.json()["error"]["message"]
    unknown = await accept(client, "no-such-token")
    assert unknown.status_code == 404
    assert (
        await count_rows(runtime, User, User.email.in_(["r@example.com", "late@example.com"])) == 0
    )
    assert await audit_actions(runtime) == ["invitation.create", "invitation.revoke"]


async def test_accepting_needs_a_good_password_and_local_login(
    client: httpx.AsyncClient, runtime: Runtime, admin: Account
) -> None:
    headers = await token_headers(client, admin)
    issued = (
        await invite(client, headers, tenant_id=admin.tenant.id, email="p@example.com")
    ).json()
    weak = await accept(client, issued["token"], password="short")
    assert weak.status_code == 400 and "12 characters" in weak.json()["error"]["message"]
    await set_tenant(runtime, admin.tenant.id, local_login=False)
    provider = await accept(client, issued["token"])
    assert provider.status_code == 403
    assert await count_rows(runtime, User, User.email == "p@ex.com") == 0
    await set_tenant(runtime, admin.tenant.id, local_login=True)
    assert (await accept(client, issued["token"])).status_code == 201
    assert (await sign_in(client, admin)).status_code == 200


async def test_the_list_shows_what_the_caller_may_see(
    client: httpx.AsyncClient, runtime: Runtime, admin: Account, admin_headers: dict[str, str]
) -> None:
    leader = await make_team_account(runtime, role="leader", tenant=admin.tenant)
    led_team = (await client.get("/api/v1/me", headers=await token_headers(client, leader))).json()[
        "led_team_ids"
    ][0]
    member = await make_account(runtime, tenant=admin.tenant)
    elsewhere = await make_account(runtime, roles=["tenant_admin"])
    admin_token = await token_headers(client, admin)
    await invite(client, admin_token, tenant_id=admin.tenant.id, email="a@example.com")
    await invite(
        client, admin_token, tenant_id=admin.tenant.id, email="t@example.com", team_id=led_team
    )
    await invite(
        client,
        await token_headers(client, elsewhere),
        tenant_id=elsewhere.tenant.id,
        email="e@example.com",
    )

    async def emails(account_headers: dict[str, str], **params: Any) -> list[str]:
        response = await client.get("/api/v1/invitations", params=params, headers=account_headers)
        assert response.status_code == 200, response.text
        return [i["email"] for i in response.json()["items"]]

    assert await emails(admin_token) == ["a@example.com", "t@example.com"]
    assert await emails(await token_headers(client, leader)) == ["t@example.com"]
    assert await emails(await token_headers(client, member)) == []
    assert await emails(admin_headers) == ["a@example.com", "t@example.com", "e@example.com"]
    assert await emails(admin_headers, tenant_id=elsewhere.tenant.id) == ["e@example.com"]
    other = await client.get(
        "/api/v1/invitations", params={"tenant_id": elsewhere.tenant.id}, headers=admin_token
    )
    assert other.status_code == 404
