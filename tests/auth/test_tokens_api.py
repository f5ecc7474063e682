"""API sign-in: access tokens, refresh-token rotation and theft detection, password changes."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import httpx
import jwt
from pydantic import SecretStr
from sqlalchemy import update

from tests.auth.factories import (
    audit_actions,
    count_rows,
    make_account,
    make_team_account,
    refresh_with,
    set_tenant,
    set_user,
    sign_in,
    token_headers,
)
from tests.factories import make_team
from tokengate.auth.models import AuthSession, RefreshToken
from tokengate.auth.sessions import open_session
from tokengate.auth.tokens import issue_access_token
from tokengate.db import transaction, utcnow
from tokengate.runtime import Runtime
from tokengate.settings import Settings


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def test_a_token_carries_exactly_the_users_roles(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    member = await make_account(runtime)
    stranger = await make_account(runtime)
    team = await make_team(runtime, tenant_id=member.tenant.id, members=[member.user.id])

    response = await sign_in(client, member)
    assert response.status_code == 200, response.text
    pair = response.json()
    assert pair["token_type"] == "bearer"
    assert pair["expires_in"] == runtime.settings.access_token_minutes * 60
    headers = bearer(pair["access_token"])

    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me == {
        "id": member.user.id,
        "email": member.email,
        "name": member.user.name,
        "tenant_id": member.tenant.id,
        "roles": ["member"],
        "led_team_ids": [],
        "member_team_ids": [team.id],
        "mfa_enabled": False,
        "locale": None,
    }
    own = await client.get(f"/api/v1/tenants/{member.tenant.id}/mfa-policy", headers=headers)
    assert own.status_code == 200
    other = await client.get(f"/api/v1/tenants/{stranger.tenant.id}/mfa-policy", headers=headers)
    assert other.status_code == 404
    change = await client.put(
        f"/api/v1/tenants/{member.tenant.id}/mfa-policy",
        json={"required_for": ["all"]},
        headers=headers,
    )
    assert change.status_code == 403
    assert change.json()["error"]["code"] == "forbidden"


async def test_me_derives_team_leadership(client: httpx.AsyncClient, runtime: Runtime) -> None:
    leader = await make_team_account(runtime, role="leader")
    me = (await client.get("/api/v1/me", headers=await token_headers(client, leader))).json()
    assert me["roles"] == ["member", "team_leader"]
    assert me["led_team_ids"] == me["member_team_ids"] and len(me["led_team_ids"]) == 1


async def test_the_master_key_is_a_system_principal_without_an_account(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    me = (await client.get("/api/v1/me", headers=admin_headers)).json()
    assert me["id"] is None and me["roles"] == ["system_admin"] and me["email"] is None
    for path, body in (
        ("/api/v1/me/mfa/enrol", None),
        ("/api/v1/me/password", {"current_password": "x", "new_password": "y" * 12}),
    ):
        refused = await client.post(path, json=body, headers=admin_headers)
        assert refused.status_code == 400
        assert "master key" in refused.json()["error"]["message"]


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    wrong = await sign_in(client, account, password="not the password at all")
    unknown = await client.post(
        "/api/v1/auth/token", json={"email": "nobody@example.com", "password": "whatever it is"}
    )
    no_password = await sign_in(client, await make_account(runtime, password=None), password="x")
    for response in (wrong, unknown, no_password):
        assert response.status_code == 401
        assert response.json()["error"] == {
            "code": "unauthorized",
            "message": "wrong e-mail or password",
        }
    korean = await sign_in(client, account, password="nope", **{"Accept-Language": "ko"})
    assert korean.json()["error"]["message"] == "이메일 또는 비밀번호가 올바르지 않습니다."
    assert await count_rows(runtime, RefreshToken) == 0


async def test_blocked_users_sign_in_and_archived_users_do_not(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    blocked = await make_account(runtime)
    await set_user(runtime, blocked.user.id, status="blocked", blocked_reason="over budget")
    assert (await sign_in(client, blocked)).status_code == 200

    archived = await make_account(runtime)
    pair = (await sign_in(client, archived)).json()
    await set_user(runtime, archived.user.id, status="archived")
    assert (await sign_in(client, archived)).status_code == 401
    assert (await client.get("/api/v1/me", headers=bearer(pair["access_token"]))).status_code == 401
    again = await refresh_with(client, pair["refresh_token"])
    assert again.status_code == 401


async def test_a_tenant_without_local_login_points_to_its_provider(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    await set_tenant(runtime, account.tenant.id, local_login=False)
    refused = await sign_in(client, account)
    assert refused.status_code == 403
    assert "identity provider" in refused.json()["error"]["message"]
    # the hint is for whoever knows the password only
    assert (await sign_in(client, account, password="a wrong guess")).status_code == 401


async def test_refresh_rotates_and_a_reused_token_revokes_the_family(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    first = (await sign_in(client, account)).json()
    second_response = await refresh_with(client, first["refresh_token"])
    assert second_response.status_code == 200
    second = second_response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert (await client.get("/api/v1/me", headers=bearer(second["access_token"]))).is_success

    replay = await refresh_with(client, first["refresh_token"])
    assert replay.status_code == 401
    assert "already used" in replay.json()["error"]["message"]
    # the thief's or the owner's newer token dies with the family
    stolen = await refresh_with(client, second["refresh_token"])
    assert stolen.status_code == 401
    # another sign-in of the same user is another family and survives
    other = (await sign_in(client, account)).json()
    kept = await refresh_with(client, other["refresh_token"])
    assert kept.status_code == 200


async def test_revoke_signs_an_api_client_out(client: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    pair = (await sign_in(client, account)).json()
    revoked = await client.post(
        "/api/v1/auth/revoke", json={"refresh_token": pair["refresh_token"]}
    )
    assert revoked.status_code == 204
    after = await refresh_with(client, pair["refresh_token"])
    assert after.status_code == 401
    unknown = await client.post("/api/v1/auth/revoke", json={"refresh_token": "never-issued"})
    assert unknown.status_code == 204


async def test_an_expired_refresh_token_is_refused(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    pair = (await sign_in(client, account)).json()
    async with transaction(runtime.sessions) as session:
        await session.execute(
            update(RefreshToken).values(expires_at=utcnow() - timedelta(seconds=1))
        )
    response = await refresh_with(client, pair["refresh_token"])
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


async def test_expired_and_forged_access_tokens_are_refused(
    client: httpx.AsyncClient, runtime: Runtime, settings: Settings
) -> None:
    account = await make_account(runtime)
    expired, _ = issue_access_token(
        settings, user_id=account.user.id, auth_version=0, now=utcnow() - timedelta(hours=1)
    )
    response = await client.get("/api/v1/me", headers=bearer(expired))
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]

    elsewhere = settings.model_copy(
        update={"secret_keys": SecretStr("another-gateway-0123456789abcdef")}
    )
    foreign, _ = issue_access_token(
        elsewhere, user_id=account.user.id, auth_version=0, now=utcnow()
    )
    assert (await client.get("/api/v1/me", headers=bearer(foreign))).status_code == 401

    valid, _ = issue_access_token(settings, user_id=account.user.id, auth_version=0, now=utcnow())
    header, payload, signature = valid.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = "1"  # someone else
    forged_payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    tampered = f"{header}.{forged_payload}.{signature}"
    assert (await client.get("/api/v1/me", headers=bearer(tampered))).status_code == 401
    unsigned = jwt.encode(claims, "guessed-key-guessed-key-guessed-key", algorithm="HS256")
    assert (await client.get("/api/v1/me", headers=bearer(unsigned))).status_code == 401


async def test_changing_the_password_ends_every_earlier_sign_in(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    old = (await sign_in(client, account)).json()
    async with transaction(runtime.sessions) as session:
        cookie, _ = await open_session(
            session,
            user_id=account.user.id,
            stage="active",
            method="password",
            ip=None,
            user_agent=None,
            settings=runtime.settings,
            now=utcnow(),
        )
    new_password = "a brand new passphrase"
    changed = await client.post(
        "/api/v1/me/password",
        json={"current_password": account.password, "new_password": new_password},
        headers=bearer(old["access_token"]),
    )
    assert changed.status_code == 200, changed.text
    fresh = changed.json()

    assert (await client.get("/api/v1/me", headers=bearer(old["access_token"]))).status_code == 401
    refused = await refresh_with(client, old["refresh_token"])
    assert refused.status_code == 401
    client.cookies.set("tg_session", cookie)
    assert (await client.get("/api/v1/me")).status_code == 401
    client.cookies.clear()
    assert (await client.get("/api/v1/me", headers=bearer(fresh["access_token"]))).is_success
    assert (await sign_in(client, account)).status_code == 401
    assert (await sign_in(client, account, password=new_password)).status_code == 200
    assert await audit_actions(runtime) == ["user.password_change"]
    assert await count_rows(runtime, AuthSession, AuthSession.revoked_at.is_(None)) == 0


async def test_a_bad_password_change_changes_nothing(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    headers = await token_headers(client, account)
    wrong = await client.post(
        "/api/v1/me/password",
        json={"current_password": "not my password", "new_password": "a brand new passphrase"},
        headers=headers,
    )
    assert wrong.status_code == 400
    assert wrong.json()["error"]["param"] == "current_password"
    weak = await client.post(
        "/api/v1/me/password",
        json={"current_password": account.password, "new_password": "short"},
        headers=headers,
    )
    assert weak.status_code == 400
    assert "12 characters" in weak.json()["error"]["message"]
    assert (await client.get("/api/v1/me", headers=headers)).is_success
    assert (await sign_in(client, account)).status_code == 200
    assert await audit_actions(runtime) == []


async def test_tokens_stop_working_when_the_auth_version_moves(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    pair = (await sign_in(client, account)).json()
    await set_user(runtime, account.user.id, auth_version=1)
    assert (await client.get("/api/v1/me", headers=bearer(pair["access_token"]))).status_code == 401
    response = await refresh_with(client, pair["refresh_token"])
    assert response.status_code == 401
    renewed = (await sign_in(client, account)).json()
    assert (await client.get("/api/v1/me", headers=bearer(renewed["access_token"]))).is_success


async def test_bad_sign_in_bodies_are_validation_errors(client: httpx.AsyncClient) -> None:
    for body in ({}, {"email": "a@example.com"}, {"email": "a@example.com", "password": ""}):
        response = await client.post("/api/v1/auth/token", json=body)
        assert response.status_code == 422
        assert response.json()["error"]["code"] == "validation_error"
