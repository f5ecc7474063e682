"""MFA: enrolment, sign-in with TOTP or a recovery code, anti-replay, resets and tenant policy."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest

from tests.auth.factories import (
    audit_actions,
    code_at,
    count_rows,
    enrol,
    make_account,
    make_team_account,
    next_code,
    refresh_with,
    sign_in,
    token_headers,
)
from tests.factories import make_team
from tokengate.auth import mfa
from tokengate.auth.models import MfaSecret, RecoveryCode
from tokengate.db import transaction, utcnow
from tokengate.errors import AuthenticationFailed
from tokengate.runtime import Runtime
from tokengate.tenancy.models import User

MFA = "/api/v1/me/mfa"


async def test_enrol_then_sign_in_needs_a_code_used_once(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    headers = await token_headers(client, account)
    started = (await client.post(f"{MFA}/enrol", headers=headers)).json()
    assert started["qr_svg"].startswith("<svg")
    assert started["otpauth_uri"].startswith("otpauth://totp/tokengate:")
    assert f"secret={started['secret']}" in started["otpauth_uri"]
    # not on until confirmed
    assert (await sign_in(client, account)).status_code == 200

    confirmed = await client.post(
        f"{MFA}/confirm",
        json={"code": code_at(started["secret"], utcnow())},
        headers=headers,
    )
    assert confirmed.status_code == 200
    codes = confirmed.json()["recovery_codes"]
    assert len(codes) == 10 and len(set(codes)) == 10
    assert all(len(c) == 14 and c.count("-") == 2 for c in codes)
    async with transaction(runtime.sessions) as session:
        stored = await session.get(MfaSecret, account.user.id)
        assert stored is not None and started["secret"] not in stored.secret_encrypted

    needs = await sign_in(client, account)
    assert needs.status_code == 403
    assert needs.json()["error"]["code"] == "mfa_required"
    wrong = await sign_in(client, account, totp="000000")
    assert wrong.status_code == 401
    assert wrong.json()["error"]["code"] == "unauthorized"

    code = next_code(started["secret"])
    assert (await sign_in(client, account, totp=code)).status_code == 200
    replay = await sign_in(client, account, totp=code)
    assert replay.status_code == 401
    assert "already used" in replay.json()["error"]["message"]
    me = (await client.get("/api/v1/me", headers=headers)).json()
    assert me["mfa_enabled"] is True
    assert await audit_actions(runtime) == ["user.mfa_enrol", "user.mfa_confirm"]


async def test_a_recovery_code_works_once(client: httpx.AsyncClient, runtime: Runtime) -> None:
    account = await make_account(runtime)
    _, codes = await enrol(client, await token_headers(client, account))
    # typed in capitals and without the dashes, as people do
    typed = codes[0].replace("-", "").upper()
    assert (await sign_in(client, account, totp=typed)).status_code == 200
    again = await sign_in(client, account, totp=codes[0])
    assert again.status_code == 401
    assert (await sign_in(client, account, totp=codes[1])).status_code == 200


async def test_codes_of_the_neighbouring_steps_are_accepted(runtime: Runtime) -> None:
    account = await make_account(runtime)
    now = utcnow().replace(microsecond=0)
    async with transaction(runtime.sessions) as session:
        user = await session.get_one(User, account.user.id)
        enrolment = await mfa.start_enrolment(session, box=runtime.box, user=user)
        await mfa.confirm_enrolment(
            session,
            box=runtime.box,
            settings=runtime.settings,
            user_id=user.id,
            code=code_at(enrolment.secret, now - timedelta(minutes=10)),
            now=now - timedelta(minutes=10),
        )

    async def verify(code: str, at_offset: int = 0) -> str:
        async with transaction(runtime.sessions) as session:
            return await mfa.verify_second_factor(
                session,
                box=runtime.box,
                settings=runtime.settings,
                user_id=account.user.id,
                code=code,
                now=now + timedelta(seconds=at_offset),
            )

    secret = enrolment.secret
    with pytest.raises(AuthenticationFailed):
        await verify(code_at(secret, now - timedelta(seconds=90)))
    assert await verify(code_at(secret, now - timedelta(seconds=30))) == "totp"
    assert await verify(code_at(secret, now + timedelta(seconds=30))) == "totp"
    # an earlier step than one accepted is never accepted again
    with pytest.raises(AuthenticationFailed):
        await verify(code_at(secret, now), at_offset=0)
    assert await verify(code_at(secret, now + timedelta(seconds=60)), at_offset=60) == "totp"


async def test_a_wrong_confirmation_leaves_mfa_off(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    headers = await token_headers(client, account)
    assert (
        await client.post(f"{MFA}/confirm", json={"code": "123456"}, headers=headers)
    ).status_code == 409
    await client.post(f"{MFA}/enrol", headers=headers)
    wrong = await client.post(f"{MFA}/confirm", json={"code": "12345"}, headers=headers)
    assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "code"
    assert (await client.get("/api/v1/me", headers=headers)).json()["mfa_enabled"] is False
    assert await count_rows(runtime, RecoveryCode) == 0
    assert await audit_actions(runtime) == ["user.mfa_enrol"]


async def test_restarting_an_enrolment_replaces_the_secret_but_not_a_confirmed_one(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    headers = await token_headers(client, account)
    first = (await client.post(f"{MFA}/enrol", headers=headers)).json()
    second = (await client.post(f"{MFA}/enrol", headers=headers)).json()
    assert first["secret"] != second["secret"]
    stale = await client.post(
        f"{MFA}/confirm", json={"code": code_at(first["secret"], utcnow())}, headers=headers
    )
    assert stale.status_code == 400
    ok = await client.post(
        f"{MFA}/confirm",
        json={"code": code_at(second["secret"], utcnow())},
        headers=headers,
    )
    assert ok.status_code == 200
    again = await client.post(f"{MFA}/enrol", headers=headers)
    assert again.status_code == 409


async def test_disable_and_new_recovery_codes_need_a_code(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    account = await make_account(runtime)
    headers = await token_headers(client, account)
    secret, old_codes = await enrol(client, headers)

    refused = await client.post(f"{MFA}/recovery-codes", json={"code": "000000"}, headers=headers)
    assert refused.status_code == 400
    renewed = await client.post(
        f"{MFA}/recovery-codes", json={"code": old_codes[0]}, headers=headers
    )
    assert renewed.status_code == 200
    new_codes = renewed.json()["recovery_codes"]
    assert not set(new_codes) & set(old_codes)
    assert (await sign_in(client, account, totp=old_codes[1])).status_code == 401

    wrong = await client.post(f"{MFA}/disable", json={"code": "000000"}, headers=headers)
    assert wrong.status_code == 400
    off = await client.post(f"{MFA}/disable", json={"code": next_code(secret)}, headers=headers)
    assert off.status_code == 204
    assert (await sign_in(client, account)).status_code == 200
    assert await count_rows(runtime, RecoveryCode) == 0
    assert await audit_actions(runtime) == [
        "user.mfa_enrol",
        "user.mfa_confirm",
        "user.mfa_recovery_codes",
        "user.mfa_disable",
    ]


async def test_an_admin_resets_a_members_mfa(client: httpx.AsyncClient, runtime: Runtime) -> None:
    member = await make_account(runtime)
    admin = await make_account(runtime, tenant=member.tenant, roles=["tenant_admin"])
    colleague = await make_account(runtime, tenant=member.tenant)
    leader = await make_account(runtime, tenant=member.tenant)
    await make_team(
        runtime, tenant_id=member.tenant.id, leaders=[leader.user.id], members=[member.user.id]
    )
    outsider = await make_account(runtime, roles=["tenant_admin"])
    member_headers = await token_headers(client, member)
    _, codes = await enrol(client, member_headers)
    pair = (await sign_in(client, member, totp=codes[0])).json()

    path = f"/api/v1/users/{member.user.id}/mfa/reset"
    # a leader sees the member but may not reset; others do not even see them
    for stranger, expected in ((leader, 403), (colleague, 404), (outsider, 404)):
        refused = await client.post(path, headers=await token_headers(client, stranger))
        assert refused.status_code == expected
    assert await audit_actions(runtime, target_id=member.user.id) == [
        "user.mfa_enrol",
        "user.mfa_confirm",
    ]

    reset = await client.post(path, headers=await token_headers(client, admin))
    assert reset.status_code == 204
    assert (await audit_actions(runtime))[-1] == "user.mfa_reset"
    assert (await sign_in(client, member)).status_code == 200
    ended = await refresh_with(client, pair["refresh_token"])
    assert ended.status_code == 401
    nothing_left = await client.post(path, headers=await token_headers(client, admin))
    assert nothing_left.status_code == 409


async def test_the_tenant_policy_makes_people_enrol(
    client: httpx.AsyncClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    leader = await make_team_account(runtime, role="leader")
    member = await make_account(runtime, tenant=leader.tenant)
    admin = await make_account(runtime, tenant=leader.tenant, roles=["tenant_admin"])
    admin_token = await token_headers(client, admin)
    path = f"/api/v1/tenants/{leader.tenant.id}/mfa-policy"

    unknown = await client.put(path, json={"required_for": ["everyone"]}, headers=admin_token)
    assert unknown.status_code == 422
    assert "required_for" in unknown.json()["error"]["message"]
    assert (await client.get(path, headers=admin_token)).json()["required_for"] == []
    assert await audit_actions(runtime) == []

    policy = await client.put(path, json={"required_for": ["team_leader"]}, headers=admin_token)
    assert policy.status_code == 200
    assert policy.json() == {"tenant_id": leader.tenant.id, "required_for": ["team_leader"]}
    assert await audit_actions(runtime) == ["tenant.mfa_policy"]

    enrol_first = await sign_in(client, leader)
    assert enrol_first.status_code == 403
    assert enrol_first.json()["error"]["code"] == "mfa_required"
    assert "dashboard" in enrol_first.json()["error"]["message"]
    assert (await sign_in(client, member)).status_code == 200

    everyone = await client.put(
        path, json={"required_for": ["member", "all"]}, headers=admin_headers
    )
    assert everyone.json()["required_for"] == ["all"]
    assert (await sign_in(client, member)).status_code == 403


async def test_mfa_cannot_be_turned_off_where_the_tenant_requires_it(
    client: httpx.AsyncClient, runtime: Runtime, admin_headers: dict[str, str]
) -> None:
    account = await make_account(runtime)
    headers = await token_headers(client, account)
    secret, _ = await enrol(client, headers)
    await client.put(
        f"/api/v1/tenants/{account.tenant.id}/mfa-policy",
        json={"required_for": ["member"]},
        headers=admin_headers,
    )
    refused = await client.post(f"{MFA}/disable", json={"code": next_code(secret)}, headers=headers)
    assert refused.status_code == 403
    assert (await client.get("/api/v1/me", headers=headers)).json()["mfa_enabled"] is True
