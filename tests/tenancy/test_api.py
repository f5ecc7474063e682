from __future__ import annotations

from typing import Any

import httpx
import pytest

PLAN = {"name": "Free", "monthly_token_limit": 100_000, "allowed_models": ["C1"], "max_users": 5}


async def create(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, body: object
) -> dict[str, Any]:
    response = await client.post(f"/api/v1/{path}", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    assert isinstance(created["id"], int)
    return created


async def test_create_and_list_the_hierarchy(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create(client, admin_headers, "plans", PLAN)
    tenant = await create(client, admin_headers, "tenants", {"name": "데모신문사", "plan": "Free"})
    assert tenant["plan"] == "Free" and tenant["timezone"] == "Asia/Seoul"
    team = await create(
        client, admin_headers, "teams", {"tenant_id": tenant["id"], "name": "경제부"}
    )
    user = await create(
        client,
        admin_headers,
        "users",
        {"tenant_id": tenant["id"], "email": "kim@demo.kr", "name": "김기자"},
    )
    assert user["roles"] == ["member"] and user["status"] == "active"

    for path, expected in (("tenants", tenant), ("teams", team), ("users", user)):
        listed = (await client.get(f"/api/v1/{path}", headers=admin_headers)).json()
        assert listed == {"items": [expected], "next": None}
        one = await client.get(f"/api/v1/{path}/{expected['id']}", headers=admin_headers)
        assert one.json() == expected

    users = await client.get(
        "/api/v1/users", params={"search": "김", "tenant_id": tenant["id"]}, headers=admin_headers
    )
    assert [u["email"] for u in users.json()["items"]] == ["kim@demo.kr"]


async def test_lists_paginate_with_a_cursor(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create(client, admin_headers, "plans", PLAN)
    for n in range(5):
        await create(client, admin_headers, "tenants", {"name": f"t{n}", "plan": "Free"})
    first = (await client.get("/api/v1/tenants?limit=2", headers=admin_headers)).json()
    second = (
        await client.get(f"/api/v1/tenants?limit=2&cursor={first['next']}", headers=admin_headers)
    ).json()
    third = (
        await client.get(f"/api/v1/tenants?limit=2&cursor={second['next']}", headers=admin_headers)
    ).json()
    names = [t["name"] for page in (first, second, third) for t in page["items"]]
    assert names == ["t0", "t1", "t2", "t3", "t4"] and third["next"] is None


@pytest.mark.parametrize("query", ["cursor=abc", "limit=0", "limit=501"])
async def test_bad_page_parameters_are_400(
    client: httpx.AsyncClient, admin_headers: dict[str, str], query: str
) -> None:
    response = await client.get(f"/api/v1/users?{query}", headers=admin_headers)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_request"


async def test_admin_api_needs_a_credential(client: httpx.AsyncClient) -> None:
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic x"},
        {"Authorization": "Bearer tg-not-for-the-admin-api"},
    ):
        response = await client.get("/api/v1/tenants", headers=headers)
        assert response.status_code == 401
        error = response.json()["error"]
        assert error["code"] == "unauthorized"
        assert (
            "bearer token" in error["message"] or "authentication is required" in error["message"]
        )


async def test_bad_input_changes_nothing(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create(client, admin_headers, "plans", PLAN)
    tenant = await create(client, admin_headers, "tenants", {"name": "데모신문사", "plan": "Free"})
    bad = [
        (
            "users",
            {"tenant_id": tenant["id"], "email": "not-an-email", "name": "x"},
            422,
            "validation_error",
        ),
        (
            "users",
            {"tenant_id": tenant["id"], "email": "a@b.kr", "name": "x", "roles": ["god"]},
            422,
            "validation_error",
        ),
        ("users", {"tenant_id": 999, "email": "a@b.kr", "name": "x"}, 400, "invalid_request"),
        ("tenants", {"name": "데모신문사", "plan": "Free"}, 409, "conflict"),
        ("tenants", {"name": "x", "plan": "Gold"}, 400, "invalid_request"),
        (
            "tenants",
            {"name": "x", "plan": "Free", "timezone": "Mars/Olympus"},
            422,
            "validation_error",
        ),
        ("plans", {**PLAN, "monthly_token_limit": -1}, 422, "validation_error"),
        ("teams", {"tenant_id": tenant["id"], "name": "   "}, 422, "validation_error"),
    ]
    for path, body, status, code in bad:
        response = await client.post(f"/api/v1/{path}", json=body, headers=admin_headers)
        assert response.status_code == status, (path, body, response.text)
        assert response.json()["error"]["code"] == code
    assert (await client.get("/api/v1/users", headers=admin_headers)).json()["items"] == []
    assert len((await client.get("/api/v1/tenants", headers=admin_headers)).json()["items"]) == 1


async def test_unknown_ids_and_routes_are_404(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    for path in ("/api/v1/tenants/42", "/api/v1/teams/42", "/api/v1/users/42", "/api/v1/nothing"):
        response = await client.get(path, headers=admin_headers)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


async def test_block_then_unblock_through_the_api(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create(client, admin_headers, "plans", PLAN)
    tenant = await create(client, admin_headers, "tenants", {"name": "데모신문사", "plan": "Free"})
    user = await create(
        client,
        admin_headers,
        "users",
        {"tenant_id": tenant["id"], "email": "j@demo.kr", "name": "정인턴"},
    )
    blocked = await client.post(
        f"/api/v1/users/{user['id']}/block", json={"reason": "95% 도달"}, headers=admin_headers
    )
    assert (blocked.json()["status"], blocked.json()["blocked_reason"]) == ("blocked", "95% 도달")
    active = await client.post(f"/api/v1/users/{user['id']}/unblock", headers=admin_headers)
    assert active.json()["status"] == "active"


async def test_team_members_and_keys_bound_to_a_team(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    await create(client, admin_headers, "plans", PLAN)
    tenant = await create(
        client, admin_headers, "tenants", {"name": "서울경제신문", "plan": "Free"}
    )
    other = await create(client, admin_headers, "tenants", {"name": "조선일보", "plan": "Free"})
    team = await create(
        client, admin_headers, "teams", {"tenant_id": tenant["id"], "name": "경제부"}
    )
    user = await create(
        client,
        admin_headers,
        "users",
        {"tenant_id": tenant["id"], "email": "l@se.kr", "name": "이기자"},
    )
    stranger = await create(
        client, admin_headers, "users", {"tenant_id": other["id"], "email": "s@cs.kr", "name": "s"}
    )

    outsider_key = await client.post(
        "/api/v1/keys", json={"user_id": user["id"], "team_id": team["id"]}, headers=admin_headers
    )
    assert outsider_key.status_code == 400 and outsider_key.json()["error"]["param"] == "team_id"

    path = f"/api/v1/teams/{team['id']}/members"
    added = await client.post(
        path, json={"user_id": user["id"], "role": "leader"}, headers=admin_headers
    )
    assert added.status_code == 201 and added.json()["role"] == "leader"
    foreign = await client.post(path, json={"user_id": stranger["id"]}, headers=admin_headers)
    assert foreign.status_code == 400
    members = (await client.get(path, headers=admin_headers)).json()["items"]
    assert [(m["user_id"], m["role"]) for m in members] == [(user["id"], "leader")]

    bound = await client.post(
        "/api/v1/keys", json={"user_id": user["id"], "team_id": team["id"]}, headers=admin_headers
    )
    assert bound.status_code == 201 and bound.json()["team_id"] == team["id"]
    assert (await client.get("/api/v1/teams/999/members", headers=admin_headers)).status_code == 404
