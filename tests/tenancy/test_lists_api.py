from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.factories import make_user
from tests.tenancy.conftest import Org
from tokengate.runtime import Runtime


async def all_pages(
    client: httpx.AsyncClient, path: str, headers: dict[str, str], **params: Any
) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = {**params, "limit": 2, **({"cursor": cursor} if cursor else {})}
        response = await client.get(path, params=query, headers=headers)
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        cursor = response.json()["next"]
        if cursor is None:
            return items


@pytest.mark.parametrize("sort", ["name", "-name", "created_at", "-created_at", "email", "-id"])
async def test_users_sort_and_page_through_every_order(
    client: httpx.AsyncClient, runtime: Runtime, org: Org, sort: str
) -> None:
    for name in ("bora", "Ahn", "choi"):
        await make_user(runtime, tenant_id=org.tenant.id, name=name)
    paged = await all_pages(client, "/api/v1/users", org.as_admin, sort=sort)
    field = sort.lstrip("-")
    key = field if field != "name" else "name"
    expected = sorted(
        paged,
        key=lambda u: (u[key].lower() if isinstance(u[key], str) else u[key], u["id"]),
        reverse=sort.startswith("-"),
    )
    assert [u["id"] for u in paged] == [u["id"] for u in expected]
    assert len(paged) == 7


async def test_equal_names_are_ordered_by_id_across_pages(
    client: httpx.AsyncClient, runtime: Runtime, org: Org
) -> None:
    same = [await make_user(runtime, tenant_id=org.tenant.id, name="Kim") for _ in range(3)]
    paged = await all_pages(client, "/api/v1/users", org.as_admin, sort="-name", search="Kim")
    assert [u["id"] for u in paged] == [u.id for u in reversed(same)]


async def test_teams_and_tenants_sort_by_name(
    client: httpx.AsyncClient, admin_headers: dict[str, str], org: Org
) -> None:
    for name in ("B팀", "a팀", "C팀"):
        await client.post(
            "/api/v1/teams", json={"tenant_id": org.tenant.id, "name": name}, headers=org.as_admin
        )
    teams = await all_pages(client, "/api/v1/teams", org.as_admin, sort="name", search="팀")
    assert [t["name"] for t in teams] == ["a팀", "B팀", "C팀"]
    tenants = await all_pages(client, "/api/v1/tenants", admin_headers, sort="-name")
    assert [t["name"] for t in tenants] == sorted([org.tenant.name, org.rival_tenant.name])[::-1]
    plans = await all_pages(client, "/api/v1/plans", admin_headers, sort="-created_at")
    assert [p["id"] for p in plans] == [org.plan.id]


async def test_user_filters(
    client: httpx.AsyncClient, admin_headers: dict[str, str], org: Org
) -> None:
    async def found(headers: dict[str, str] = org.as_admin, **params: Any) -> list[int]:
        response = await client.get("/api/v1/users", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [u["id"] for u in response.json()["items"]]

    await client.post(f"/api/v1/users/{org.loner.id}/block", json={}, headers=org.as_admin)
    assert await found(role="tenant_admin") == [org.admin.id]
    # leading a team makes a team leader, whatever the stored roles
    assert await found(role="team_leader") == [org.leader.id]
    assert await found(team_id=org.team.id) == [org.leader.id, org.member.id]
    assert await found(status="blocked") == [org.loner.id]
    assert await found(search="MEMBER") == [org.member.id]
    assert await found(search=org.leader.email.upper()) == [org.leader.id]
    assert await found(admin_headers, tenant_id=org.rival_tenant.id) == [
        org.rival_admin.id,
        org.rival_user.id,
    ]
    assert await found(org.as_leader, team_id=org.team.id) == [org.leader.id, org.member.id]
    hidden = await client.get(
        "/api/v1/users", params={"team_id": org.other_team.id}, headers=org.as_leader
    )
    assert hidden.status_code == 404
    bad_role = await client.get("/api/v1/users", params={"role": "boss"}, headers=org.as_admin)
    assert bad_role.status_code == 422


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"sort": "password_hash"}, "cannot sort by 'password_hash'"),
        ({"sort": "-"}, "cannot sort by ''"),
        ({"cursor": "not-a-cursor"}, "cursor"),
        ({"cursor": "3", "sort": "name"}, "cursor"),
    ],
)
async def test_bad_sorts_and_cursors_are_400(
    client: httpx.AsyncClient, org: Org, query: dict[str, str], words: str
) -> None:
    for path in ("/api/v1/users", "/api/v1/teams", "/api/v1/tenants", "/api/v1/plans"):
        response = await client.get(path, params=query, headers=org.as_admin)
        assert response.status_code == 400, (path, response.text)
        assert words in response.json()["error"]["message"]


async def test_a_cursor_belongs_to_its_sort(client: httpx.AsyncClient, org: Org) -> None:
    first = await client.get(
        "/api/v1/users", params={"sort": "name", "limit": 1}, headers=org.as_admin
    )
    cursor = first.json()["next"]
    assert cursor is not None and not cursor.isdigit()
    other = await client.get(
        "/api/v1/users", params={"sort": "-name", "cursor": cursor}, headers=org.as_admin
    )
    assert other.status_code == 400
    assert "keep the same sort" in other.json()["error"]["message"]
