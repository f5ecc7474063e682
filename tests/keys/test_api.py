from __future__ import annotations

import httpx

from tests.factories import Member, make_member, make_user
from tokengate.crypto import hash_virtual_key
from tokengate.runtime import Runtime


async def test_key_is_shown_once_and_stored_hashed(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    member = await make_member(runtime)
    response = await client.post(
        "/api/v1/keys", json={"user_id": member.user.id, "name": "laptop"}, headers=admin_headers
    )
    assert response.status_code == 201
    issued = response.json()
    assert issued["key"].startswith("tg-") and issued["prefix"] == issued["key"][:10]
    assert issued["tenant_id"] == member.tenant.id

    listed = (
        await client.get("/api/v1/keys", params={"user_id": member.user.id}, headers=admin_headers)
    ).json()
    assert all("key" not in k for k in listed["items"]) and len(listed["items"]) == 2
    from sqlalchemy import select

    from tokengate.keys.models import ApiKey

    async with runtime.sessions() as session:
        stored = await session.scalar(select(ApiKey).where(ApiKey.id == issued["id"]))
    assert stored is not None and stored.key_hash == hash_virtual_key(issued["key"])
    assert issued["key"] not in stored.key_hash


async def test_key_for_unknown_user_or_foreign_team_is_refused(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    member = await make_member(runtime)
    other = await make_member(runtime)
    team = await client.post(
        "/api/v1/teams",
        json={"tenant_id": other.tenant.id, "name": "정치부"},
        headers=admin_headers,
    )
    cases = [
        ({"user_id": 9999}, 404, "not_found"),
        ({"user_id": member.user.id, "team_id": team.json()["id"]}, 400, "invalid_request"),
    ]
    for body, status, code in cases:
        response = await client.post("/api/v1/keys", json=body, headers=admin_headers)
        assert response.status_code == status
        assert response.json()["error"]["code"] == code
    assert await make_user(runtime, tenant_id=member.tenant.id)


async def test_revoked_key_is_refused_on_the_next_request(
    client: httpx.AsyncClient, admin_headers: dict[str, str], member: Member
) -> None:
    headers = {"Authorization": f"Bearer {member.key}"}
    body = {"model": "C1", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3}
    assert (
        await client.post("/v1/chat/completions", json=body, headers=headers)
    ).status_code == 200
    listed = (
        await client.get("/api/v1/keys", params={"user_id": member.user.id}, headers=admin_headers)
    ).json()
    key_id = listed["items"][0]["id"]
    revoked = await client.post(f"/api/v1/keys/{key_id}/revoke", headers=admin_headers)
    assert revoked.json()["status"] == "revoked"
    refused = await client.post("/v1/chat/completions", json=body, headers=headers)
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"
    missing = await client.post("/api/v1/keys/9999/revoke", headers=admin_headers)
    assert missing.status_code == 404
