from __future__ import annotations

import httpx

from tests.factories import Member


async def test_usage_lists_events_newest_first_with_filters(
    client: httpx.AsyncClient, admin_headers: dict[str, str], member: Member
) -> None:
    headers = {"Authorization": f"Bearer {member.key}"}
    body = {"model": "C1", "messages": [{"role": "user", "content": "hi"}]}
    for max_tokens in (5, 7):
        response = await client.post(
            "/v1/chat/completions", json={**body, "max_tokens": max_tokens}, headers=headers
        )
        assert response.status_code == 200
    page = (
        await client.get("/api/v1/usage", params={"user_id": member.user.id}, headers=admin_headers)
    ).json()
    assert [e["output_tokens"] for e in page["items"]] == [7, 5]
    assert all(e["cost_micros"] > 0 and e["tenant_id"] == member.tenant.id for e in page["items"])
    other = await client.get(
        "/api/v1/usage", params={"tenant_id": member.tenant.id + 1}, headers=admin_headers
    )
    assert other.json() == {"items": [], "next": None}
    since = await client.get(
        "/api/v1/usage", params={"since": "2999-01-01T00:00:00Z"}, headers=admin_headers
    )
    assert since.json()["items"] == []
    naive = await client.get(
        "/api/v1/usage", params={"since": "2020-01-01T00:00:00"}, headers=admin_headers
    )
    assert naive.status_code == 422
