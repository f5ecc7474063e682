"""Quotas through the gateway: the plan allowance, limits, grants, modes, blocks and headers."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest

from tests.factories import Member
from tokengate.db import utcnow
from tokengate.mockprovider import RunningMock
from tokengate.runtime import Runtime

MESSAGES = [{"role": "user", "content": "칼럼 한 단락"}]
PROMPT_BOUND = len(orjson.dumps(MESSAGES))
CHAT = "/v1/chat/completions"


async def chat(
    client: httpx.AsyncClient,
    member: Member,
    *,
    max_tokens: int = 50,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.post(
        CHAT,
        json={"model": "C1", "messages": MESSAGES, "max_tokens": max_tokens},
        headers={"Authorization": f"Bearer {member.key}", **(headers or {})},
    )


async def current(
    client: httpx.AsyncClient, admin: dict[str, str], scope: str, scope_id: int
) -> list[dict[str, Any]]:
    response = await client.get(
        "/api/v1/usage/current", params={"scope": scope, "id": scope_id}, headers=admin
    )
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def add_limit(
    client: httpx.AsyncClient, admin: dict[str, str], **body: object
) -> dict[str, Any]:
    response = await client.post("/api/v1/limits", json=body, headers=admin)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


async def test_plan_allowance_refuses_with_the_seed_message_and_a_grant_reopens_it(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    runtime: Runtime,
    upstream: RunningMock,
) -> None:
    from tests.factories import make_member, make_model

    await make_model(runtime, base_url=upstream.base_url)
    member = await make_member(runtime, allowed_models=["C1"])
    async with runtime.sessions() as session:
        from tokengate.tenancy.models import Plan

        plan = await session.get(Plan, member.plan.id)
        assert plan is not None
        plan.monthly_token_limit = 1_000
        await session.commit()

    statuses = [(await chat(client, member)).status_code for _ in range(25)]
    assert 200 in statuses and statuses[-1] == 403
    first_refusal = statuses.index(403)
    assert all(s == 200 for s in statuses[:first_refusal]) and all(
        s == 403 for s in statuses[first_refusal:]
    )

    [allowance] = await current(client, admin_headers, "user", member.user.id)
    assert allowance["source"] == "plan" and allowance["amount"] == 1_000
    assert allowance["used"] <= 1_000 and allowance["reserved"] == 0
    # refused only because the next reservation no longer fits
    assert 1_000 - allowance["used"] < PROMPT_BOUND + 50

    refused = await chat(client, member)
    error = refused.json()["error"]
    assert (refused.status_code, error["code"]) == (403, "quota_exceeded")
    assert "이번 달 사용 한도를 초과하셨습니다" in error["message"]
    assert f"현재 플랜: {member.plan.name}" in error["message"]
    assert "월 한도: 1,000 토큰" in error["message"]
    assert (
        f"사용량: {allowance['used']:,} 토큰 ({allowance['used'] * 100 // 1000}%)"
        in error["message"]
    )
    english = (await chat(client, member, headers={"Accept-Language": "en"})).json()["error"][
        "message"
    ]
    assert "Monthly limit: 1,000 tokens" in english

    grant = await client.post(
        "/api/v1/grants",
        json={
            "user_id": member.user.id,
            "amount": 500,
            "expires_at": (utcnow() + timedelta(days=1)).isoformat(),
            "reason": "마감",
        },
        headers=admin_headers,
    )
    assert grant.status_code == 201 and grant.json()["user_id"] == member.user.id
    reopened = await chat(client, member)
    assert reopened.status_code == 200
    [allowance] = await current(client, admin_headers, "user", member.user.id)
    assert allowance["amount"] == 1_500


async def test_successful_responses_carry_the_remaining_allowance(
    client: httpx.AsyncClient, member: Member
) -> None:
    first = await chat(client, member)
    second = await chat(client, member)
    remaining = [int(r.headers["x-tokengate-remaining-tokens"]) for r in (first, second)]
    assert remaining[0] > remaining[1] > 0
    assert "x-tokengate-limit-reset" in first.headers
    assert "x-tokengate-remaining-cost" not in first.headers  # no cost limit applies


async def test_a_team_limit_applies_to_its_members_and_a_personal_one_may_not_exceed_it(
    client: httpx.AsyncClient, admin_headers: dict[str, str], member: Member
) -> None:
    team = await client.post(
        "/api/v1/teams",
        json={"tenant_id": member.tenant.id, "name": "경제부"},
        headers=admin_headers,
    )
    team_id = team.json()["id"]
    await client.post(
        f"/api/v1/teams/{team_id}/members", json={"user_id": member.user.id}, headers=admin_headers
    )
    team_limit = await add_limit(
        client,
        admin_headers,
        scope="team",
        scope_id=team_id,
        metric="tokens",
        window="day",
        amount=10_000,
    )

    too_big = await client.post(
        "/api/v1/limits",
        json={
            "scope": "user",
            "scope_id": member.user.id,
            "metric": "tokens",
            "window": "day",
            "amount": 20_000,
        },
        headers=admin_headers,
    )
    assert too_big.status_code == 400 and "exceeds team" in too_big.json()["error"]["message"]
    # the refused limit left nothing behind, not even an audit record claiming it
    limits = await client.get("/api/v1/limits", headers=admin_headers)
    assert [item["scope"] for item in limits.json()["items"]] == ["team"]
    logged = await client.get(
        "/api/v1/audit", params={"action": "limit.create"}, headers=admin_headers
    )
    assert [e["target_id"] for e in logged.json()["items"]] == [str(team_limit["id"])]
    personal = await add_limit(
        client,
        admin_headers,
        scope="user",
        scope_id=member.user.id,
        metric="tokens",
        window="day",
        amount=8_000,
    )

    lowered = await client.patch(
        f"/api/v1/limits/{team_limit['id']}", json={"amount": 5_000}, headers=admin_headers
    )
    assert lowered.status_code == 200
    assert lowered.json()["clamped"] == [
        {
            "limit_id": personal["id"],
            "user_id": member.user.id,
            "old_amount": 8_000,
            "new_amount": 5_000,
        }
    ]
    listed = await client.get(
        "/api/v1/limits",
        params={"scope": "user", "scope_id": member.user.id},
        headers=admin_headers,
    )
    assert [limit["amount"] for limit in listed.json()["items"]] == [5_000]

    await chat(client, member)
    team_usage = await current(client, admin_headers, "team", team_id)
    assert team_usage[0]["used"] > 0


async def test_a_zero_limit_blocks_and_an_exemption_lets_the_user_through(
    client: httpx.AsyncClient, admin_headers: dict[str, str], member: Member
) -> None:
    await add_limit(
        client,
        admin_headers,
        scope="user",
        scope_id=member.user.id,
        metric="tokens",
        window="day",
        amount=0,
    )
    assert (await chat(client, member)).json()["error"]["code"] == "quota_exceeded"
    exempt = await client.post(
        "/api/v1/exemptions",
        json={"scope": "user", "scope_id": member.user.id, "metric": "tokens"},
        headers=admin_headers,
    )
    assert exempt.status_code == 201
    assert (await chat(client, member)).status_code == 200
    usage = await current(client, admin_headers, "user", member.user.id)
    assert all(item["used"] > 0 for item in usage)  # still counted on every counter


async def test_requests_per_minute_answer_429_with_retry_after(
    client: httpx.AsyncClient, admin_headers: dict[str, str], member: Member
) -> None:
    await add_limit(
        client,
        admin_headers,
        scope="key",
        scope_id=(await key_id(client, admin_headers, member)),
        metric="requests",
        window="minute",
        amount=2,
    )
    assert [(await chat(client, member)).status_code for _ in range(2)] == [200, 200]
    limited = await chat(client, member)
    assert limited.status_code == 429 and limited.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(limited.headers["retry-after"]) <= 60


async def key_id(client: httpx.AsyncClient, admin: dict[str, str], member: Member) -> int:
    keys = await client.get("/api/v1/keys", params={"user_id": member.user.id}, headers=admin)
    return int(keys.json()["items"][0]["id"])


async def test_overage_mode_admits_and_records_the_excess(
    client: httpx.AsyncClient, admin_headers: dict[str, str], member: Member
) -> None:
    await add_limit(
        client,
        admin_headers,
        scope="user",
        scope_id=member.user.id,
        metric="tokens",
        window="month",
        amount=10,
        mode="overage",
    )
    assert (await chat(client, member)).status_code == 200
    [_, overage] = await current(client, admin_headers, "user", member.user.id)
    assert (
        overage["mode"] == "overage"
        and overage["used"] > 10
        and overage["overage"] == overage["used"] - 10
    )


async def test_auto_block_at_100_percent_blocks_the_user(
    client: httpx.AsyncClient, admin_headers: dict[str, str], member: Member
) -> None:
    await add_limit(
        client,
        admin_headers,
        scope="user",
        scope_id=member.user.id,
        metric="requests",
        window="day",
        amount=1,
        auto_block=True,
    )
    assert (await chat(client, member)).status_code == 200
    blocked = await chat(client, member)
    assert blocked.json()["error"]["code"] == "user_blocked"
    user = await client.get(f"/api/v1/users/{member.user.id}", headers=admin_headers)
    assert user.json()["status"] == "blocked" and "auto-blocked" in user.json()["blocked_reason"]


async def test_blocking_a_key_refuses_it_until_unblocked(
    client: httpx.AsyncClient, admin_headers: dict[str, str], member: Member
) -> None:
    kid = await key_id(client, admin_headers, member)
    blocked = await client.post(
        f"/api/v1/keys/{kid}/block", json={"reason": "유출 의심"}, headers=admin_headers
    )
    assert blocked.json()["status"] == "blocked" and blocked.json()["blocked_reason"] == "유출 의심"
    assert (await chat(client, member)).json()["error"]["code"] == "user_blocked"
    await client.post(f"/api/v1/keys/{kid}/unblock", headers=admin_headers)
    assert (await chat(client, member)).status_code == 200


async def test_clamp_lowers_max_tokens_to_what_remains(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    member: Member,
    runtime: Runtime,
    upstream: RunningMock,
) -> None:
    runtime.settings = runtime.settings.model_copy(update={"ledger_on_insufficient": "clamp"})
    await add_limit(
        client,
        admin_headers,
        scope="user",
        scope_id=member.user.id,
        metric="tokens",
        window="day",
        amount=PROMPT_BOUND + 30,
    )
    response = await chat(client, member, max_tokens=500)
    assert response.status_code == 200
    assert upstream.requests[-1].body["max_tokens"] == 30
    assert response.json()["usage"]["completion_tokens"] <= 30


async def test_a_new_limit_counts_the_usage_already_recorded_in_its_window(
    client: httpx.AsyncClient, admin_headers: dict[str, str], member: Member
) -> None:
    for _ in range(3):
        assert (await chat(client, member)).status_code == 200
    [plan] = await current(client, admin_headers, "user", member.user.id)
    await add_limit(
        client,
        admin_headers,
        scope="user",
        scope_id=member.user.id,
        metric="requests",
        window="day",
        amount=10,
    )
    await add_limit(
        client,
        admin_headers,
        scope="tenant",
        scope_id=member.tenant.id,
        metric="tokens",
        window="month",
        amount=10**6,
    )
    [_, requests] = await current(client, admin_headers, "user", member.user.id)
    [tenant] = await current(client, admin_headers, "tenant", member.tenant.id)
    assert requests["used"] == 3
    assert tenant["used"] == plan["used"]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (
            {"scope": "user", "scope_id": 999, "metric": "tokens", "window": "day", "amount": 5},
            "does not exist",
        ),
        (
            {
                "scope": "team",
                "scope_id": 1,
                "metric": "tokens",
                "window": "day",
                "amount": 5,
                "auto_block": True,
            },
            "auto_block",
        ),
        (
            {
                "scope": "user",
                "scope_id": 1,
                "metric": "tokens",
                "window": "fortnight",
                "amount": 5,
            },
            "window",
        ),
        (
            {"scope": "user", "scope_id": 1, "metric": "tokens", "window": "day", "amount": -1},
            "amount",
        ),
        (
            {
                "scope": "user",
                "scope_id": 1,
                "metric": "tokens",
                "window": "day",
                "amount": 5,
                "model": "C9",
            },
            "no model",
        ),
        (
            {
                "scope": "user",
                "scope_id": 1,
                "metric": "tokens",
                "window": "day",
                "amount": 5,
                "thresholds": [0],
            },
            "thresholds",
        ),
    ],
)
async def test_bad_limits_are_refused_and_change_nothing(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    member: Member,
    body: dict[str, object],
    message: str,
) -> None:
    response = await client.post("/api/v1/limits", json=body, headers=admin_headers)
    assert response.status_code in (400, 404, 422)
    assert message in str(response.json()["error"])
    assert (await client.get("/api/v1/limits", headers=admin_headers)).json()["items"] == []
