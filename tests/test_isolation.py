"""Tenant isolation over the whole admin API.

Every ``/api/v1`` route is called by the tenant admin, a team leader and a member of tenant A
with the ids of tenant B, and must answer 404 — B's objects look exactly like objects that do
not exist — and change nothing. Lists must show nothing of B. A route missing from ``ROUTES``
fails the test: a new endpoint cannot ship without saying how it is isolated.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

import httpx
import pytest
from fastapi import FastAPI

from tokengate.auth.tokens import issue_access_token
from tokengate.db import utcnow
from tokengate.runtime import Runtime

Role = Literal["tenant_admin", "team_leader", "member"]
ROLES: tuple[Role, ...] = ("tenant_admin", "team_leader", "member")
Body = Callable[["Side", "Side"], dict[str, Any]]


@dataclass
class Side:
    """One tenant with an admin, a leader and a member in a team, a key and limits."""

    tenant_id: int
    users: dict[str, int]
    team_id: int
    key_id: int
    limit_ids: dict[str, int]
    grant_id: int
    extra: dict[str, Any] = field(default_factory=dict)

    def path_values(self) -> dict[str, Any]:
        return {
            "tenant_id": self.tenant_id,
            "team_id": self.team_id,
            "user_id": self.users["member"],
            "key_id": self.key_id,
            "limit_id": self.limit_ids["user"],
            "grant_id": self.grant_id,
            **self.extra,
        }


@dataclass(frozen=True)
class Case:
    """How a route is isolated.

    targeted: B's ids in the path (and ``body``): 404 for every role of A.
    listing:  A's lists show nothing of B; asking for B's tenant (``tenant_query``) is 404.
    own:      about the caller themself (sign-in, /me): nothing of another tenant to name.
    global_:  the system-wide catalogue (plans, models): the same for everyone, writes are
              the system administrators' (403 for every role of A).
    """

    kind: Literal["targeted", "listing", "own", "global_"]
    body: Body | None = None
    tenant_query: bool = True


def _later() -> str:
    return (utcnow() + timedelta(days=3)).isoformat()


ROUTES: dict[str, Case] = {
    # tenancy
    "POST /api/v1/plans": Case(
        "global_", body=lambda a, b: {"name": "x", "monthly_token_limit": 1, "max_users": 1}
    ),
    "GET /api/v1/plans": Case("global_"),
    "GET /api/v1/plans/{plan_id}": Case("global_"),
    "PATCH /api/v1/plans/{plan_id}": Case("global_", body=lambda a, b: {"max_users": 99}),
    "DELETE /api/v1/plans/{plan_id}": Case("global_"),
    "POST /api/v1/tenants": Case("global_", body=lambda a, b: {"name": "x", "plan": "iso"}),
    "GET /api/v1/tenants": Case("listing", tenant_query=False),
    "GET /api/v1/tenants/{tenant_id}": Case("targeted"),
    "PATCH /api/v1/tenants/{tenant_id}": Case("targeted", body=lambda a, b: {"locale": "en"}),
    "DELETE /api/v1/tenants/{tenant_id}": Case("targeted"),
    "POST /api/v1/teams": Case(
        "targeted", body=lambda a, b: {"tenant_id": b.tenant_id, "name": "침투"}
    ),
    "GET /api/v1/teams": Case("listing"),
    "GET /api/v1/teams/{team_id}": Case("targeted"),
    "PATCH /api/v1/teams/{team_id}": Case("targeted", body=lambda a, b: {"name": "침투"}),
    "DELETE /api/v1/teams/{team_id}": Case("targeted"),
    "POST /api/v1/teams/{team_id}/members": Case(
        "targeted", body=lambda a, b: {"user_id": a.users["member"]}
    ),
    "GET /api/v1/teams/{team_id}/members": Case("targeted"),
    "PATCH /api/v1/teams/{team_id}/members/{user_id}": Case(
        "targeted", body=lambda a, b: {"role": "leader"}
    ),
    "DELETE /api/v1/teams/{team_id}/members/{user_id}": Case("targeted"),
    "POST /api/v1/teams/{team_id}/members/{user_id}/move": Case(
        "targeted", body=lambda a, b: {"to_team_id": a.team_id}
    ),
    "POST /api/v1/users": Case(
        "targeted",
        body=lambda a, b: {"tenant_id": b.tenant_id, "email": "spy@a.example", "name": "Spy"},
    ),
    "GET /api/v1/users": Case("listing"),
    "GET /api/v1/users/{user_id}": Case("targeted"),
    "PATCH /api/v1/users/{user_id}": Case("targeted", body=lambda a, b: {"name": "Spy"}),
    "DELETE /api/v1/users/{user_id}": Case("targeted"),
    "POST /api/v1/users/{user_id}/block": Case("targeted", body=lambda a, b: {"reason": "x"}),
    "POST /api/v1/users/{user_id}/unblock": Case("targeted"),
    # sign-in and the caller's own account
    **{
        route: Case("own")
        for route in (
            "POST /api/v1/auth/token",
            "POST /api/v1/auth/refresh",
            "POST /api/v1/auth/revoke",
            "POST /api/v1/auth/invitations/accept",
            "GET /api/v1/me",
            "POST /api/v1/me/password",
            "POST /api/v1/me/mfa/enrol",
            "POST /api/v1/me/mfa/confirm",
            "POST /api/v1/me/mfa/disable",
            "POST /api/v1/me/mfa/recovery-codes",
        )
    },
    # MFA administration and invitations
    "POST /api/v1/users/{user_id}/mfa/reset": Case("targeted"),
    "GET /api/v1/tenants/{tenant_id}/mfa-policy": Case("targeted"),
    "PUT /api/v1/tenants/{tenant_id}/mfa-policy": Case(
        "targeted", body=lambda a, b: {"required_for": ["all"]}
    ),
    "POST /api/v1/invitations": Case(
        "targeted", body=lambda a, b: {"tenant_id": b.tenant_id, "email": "spy@a.example"}
    ),
    "GET /api/v1/invitations": Case("listing"),
    "POST /api/v1/invitations/{invitation_id}/revoke": Case("targeted"),
    # tenant e-mail domains
    "POST /api/v1/tenants/{tenant_id}/domains": Case(
        "targeted", body=lambda a, b: {"domain": "captured.example"}
    ),
    "GET /api/v1/tenants/{tenant_id}/domains": Case("targeted"),
    "DELETE /api/v1/tenants/{tenant_id}/domains/{domain}": Case("targeted"),
    # keys
    "POST /api/v1/keys": Case("targeted", body=lambda a, b: {"user_id": b.users["member"]}),
    "GET /api/v1/keys": Case("listing"),
    "GET /api/v1/keys/{key_id}": Case("targeted"),
    "PATCH /api/v1/keys/{key_id}": Case("targeted", body=lambda a, b: {"name": "mine now"}),
    "POST /api/v1/keys/{key_id}/revoke": Case("targeted"),
    "POST /api/v1/keys/{key_id}/block": Case("targeted", body=lambda a, b: {"reason": "x"}),
    "POST /api/v1/keys/{key_id}/unblock": Case("targeted"),
    # quotas
    "POST /api/v1/limits": Case(
        "targeted",
        body=lambda a, b: {
            "scope": "user",
            "scope_id": b.users["member"],
            "metric": "tokens",
            "window": "day",
            "amount": 1,
        },
    ),
    "GET /api/v1/limits": Case("listing"),
    "GET /api/v1/limits/{limit_id}": Case("targeted"),
    "PATCH /api/v1/limits/{limit_id}": Case("targeted", body=lambda a, b: {"amount": 10**12}),
    "DELETE /api/v1/limits/{limit_id}": Case("targeted"),
    "POST /api/v1/grants": Case(
        "targeted",
        body=lambda a, b: {"user_id": b.users["member"], "amount": 10**9, "expires_at": _later()},
    ),
    "GET /api/v1/grants": Case("listing"),
    "POST /api/v1/relaxations": Case(
        "targeted",
        body=lambda a, b: {
            "limit_id": b.limit_ids["tenant"],
            "multiplier_percent": 500,
            "start_hour": 0,
            "end_hour": 23,
        },
    ),
    "GET /api/v1/relaxations": Case("listing"),
    "POST /api/v1/exemptions": Case(
        "targeted",
        body=lambda a, b: {"scope": "user", "scope_id": b.users["member"], "metric": "tokens"},
    ),
    "GET /api/v1/exemptions": Case("listing"),
    "GET /api/v1/usage/current": Case("listing"),
    # usage and audit
    "GET /api/v1/usage": Case("listing"),
    "GET /api/v1/audit": Case("listing"),
    "GET /api/v1/audit/export": Case("listing"),
    # catalogue
    "POST /api/v1/models": Case(
        "global_",
        body=lambda a, b: {
            "name": "X1",
            "provider": "openai",
            "upstream_model": "x",
            "base_url": "http://127.0.0.1:9",
            "input_price_per_mtok": "1",
            "output_price_per_mtok": "1",
        },
    ),
    "GET /api/v1/models": Case("global_"),
    "PATCH /api/v1/models/{model_id}": Case(
        "global_", body=lambda a, b: {"input_price_per_mtok": "0"}
    ),
    "POST /api/v1/models/{model_id}/deployments": Case(
        "global_", body=lambda a, b: {"upstream_model": "x", "base_url": "http://127.0.0.1:9"}
    ),
    "GET /api/v1/models/{model_id}/deployments": Case("global_"),
    "GET /api/v1/models/{model_id}": Case("global_"),
    "DELETE /api/v1/models/{model_id}": Case("global_"),
    "POST /api/v1/models/{model_id}/activate": Case("global_"),
    "POST /api/v1/models/{model_id}/deactivate": Case("global_"),
    "POST /api/v1/models/{model_id}/test": Case("global_"),
    "POST /api/v1/models/test": Case(
        "global_",
        body=lambda a, b: {
            "provider": "openai",
            "upstream_model": "x",
            "base_url": "http://127.0.0.1:9",
        },
    ),
    # usage of the model within the caller's reach (tests/catalog/test_stats.py)
    "GET /api/v1/models/{model_id}/stats": Case("global_"),
}


def api_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) of the admin API, as its OpenAPI document lists them."""
    paths: dict[str, dict[str, object]] = app.openapi()["paths"]
    return sorted(
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/v1")
        for method in operations
    )


def test_every_admin_route_says_how_it_is_isolated(app: FastAPI) -> None:
    missing = [f"{m} {p}" for m, p in api_routes(app) if f"{m} {p}" not in ROUTES]
    assert missing == [], f"add these routes to ROUTES in {__file__}: {missing}"
    stale = set(ROUTES) - {f"{m} {p}" for m, p in api_routes(app)}
    assert stale == set(), f"these routes are gone: {stale}"


# --- the two tenants ---------------------------------------------------------------------


async def _post(
    client: httpx.AsyncClient, headers: dict[str, str], path: str, body: dict[str, Any]
) -> dict[str, Any]:
    response = await client.post(path, json=body, headers=headers)
    assert response.status_code in (200, 201), (path, response.text)
    created: dict[str, Any] = response.json()
    return created


async def _side(
    client: httpx.AsyncClient, admin: dict[str, str], name: str, model_id: int, plan_id: int
) -> Side:
    tenant = await _post(client, admin, "/api/v1/tenants", {"name": name, "plan": "iso"})
    users = {}
    for role, roles in (
        ("tenant_admin", ["tenant_admin"]),
        ("team_leader", ["member"]),
        ("member", ["member"]),
    ):
        user = await _post(
            client,
            admin,
            "/api/v1/users",
            {
                "tenant_id": tenant["id"],
                "email": f"{role}@{name}.example",
                "name": role,
                "roles": roles,
            },
        )
        users[role] = user["id"]
    team = await _post(
        client, admin, "/api/v1/teams", {"tenant_id": tenant["id"], "name": "정치부"}
    )
    for user_id, role in ((users["team_leader"], "leader"), (users["member"], "member")):
        await _post(
            client, admin, f"/api/v1/teams/{team['id']}/members", {"user_id": user_id, "role": role}
        )
    key = await _post(client, admin, "/api/v1/keys", {"user_id": users["member"]})
    limits = {}
    for scope, scope_id in (
        ("tenant", tenant["id"]),
        ("team", team["id"]),
        ("user", users["member"]),
        ("key", key["id"]),
    ):
        limit = await _post(
            client,
            admin,
            "/api/v1/limits",
            {
                "scope": scope,
                "scope_id": scope_id,
                "metric": "tokens",
                "window": "month",
                "amount": 1_000_000,
            },
        )
        limits[scope] = limit["id"]
    grant = await _post(
        client,
        admin,
        "/api/v1/grants",
        {"user_id": users["member"], "amount": 1000, "expires_at": _later()},
    )
    invitation = await _post(
        client,
        admin,
        "/api/v1/invitations",
        {"tenant_id": tenant["id"], "email": f"invited@{name}.example"},
    )
    return Side(
        tenant_id=tenant["id"],
        users=users,
        team_id=team["id"],
        key_id=key["id"],
        limit_ids=limits,
        grant_id=grant["id"],
        extra={
            "model_id": model_id,
            "domain": f"{name}.example",
            "plan_id": plan_id,
            "invitation_id": invitation["id"],
        },
    )


@dataclass
class World:
    a: Side
    b: Side
    headers: dict[Role, dict[str, str]]


@pytest.fixture
async def world(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> World:
    plan = await _post(
        client,
        admin_headers,
        "/api/v1/plans",
        {"name": "iso", "monthly_token_limit": 10**9, "allowed_models": ["C1"], "max_users": 50},
    )
    model = await _post(
        client,
        admin_headers,
        "/api/v1/models",
        {
            "name": "C1",
            "provider": "openai_compatible",
            "upstream_model": "c1",
            "base_url": "http://127.0.0.1:9",
            "input_price_per_mtok": "1",
            "output_price_per_mtok": "2",
        },
    )
    a = await _side(client, admin_headers, "a", model["id"], plan["id"])
    b = await _side(client, admin_headers, "b", model["id"], plan["id"])
    headers: dict[Role, dict[str, str]] = {}
    for role in ROLES:
        token, _ = issue_access_token(
            runtime.settings, user_id=a.users[role], auth_version=0, now=utcnow()
        )
        headers[role] = {"Authorization": f"Bearer {token}"}
    return World(a=a, b=b, headers=headers)


def _targeted() -> list[str]:
    return [r for r, c in ROUTES.items() if c.kind == "targeted"]


def _listings() -> list[str]:
    return [r for r, c in ROUTES.items() if c.kind == "listing"]


async def _audit_count(client: httpx.AsyncClient, admin: dict[str, str]) -> int:
    exported = await client.get("/api/v1/audit/export", params={"format": "jsonl"}, headers=admin)
    return len(exported.content.splitlines())


@pytest.mark.parametrize("route", _targeted())
async def test_tenant_b_ids_are_not_found_for_every_role_of_tenant_a(
    client: httpx.AsyncClient, admin_headers: dict[str, str], world: World, route: str
) -> None:
    method, path = route.split(" ", 1)
    case = ROUTES[route]
    url = path.format(**world.b.path_values())
    before = await _audit_count(client, admin_headers)
    for role in ROLES:
        body = case.body(world.a, world.b) if case.body else None
        response = await client.request(method, url, json=body, headers=world.headers[role])
        assert response.status_code == 404, (role, route, response.text)
        assert response.json()["error"]["code"] == "not_found"
    # nothing changed: not one audit record claims a change
    assert await _audit_count(client, admin_headers) == before


def _mentions_b(payload: Any, b: Side) -> bool:
    if isinstance(payload, dict):
        if payload.get("tenant_id") == b.tenant_id:
            return True
        return any(_mentions_b(v, b) for v in payload.values())
    if isinstance(payload, list):
        return any(_mentions_b(v, b) for v in payload)
    return False


@pytest.mark.parametrize("route", _listings())
async def test_lists_show_nothing_of_tenant_b(
    client: httpx.AsyncClient, world: World, route: str
) -> None:
    _, path = route.split(" ", 1)
    for role in ROLES:
        params: dict[str, Any] = {}
        if path == "/api/v1/usage/current":
            params = {"scope": "tenant", "id": world.a.tenant_id}
        response = await client.get(path, params=params, headers=world.headers[role])
        assert response.status_code in (200, 403), (role, route, response.text)
        if response.status_code == 200 and "json" in response.headers["content-type"]:
            assert not _mentions_b(response.json(), world.b), (role, route)
        if ROUTES[route].tenant_query:
            asked = await client.get(
                path,
                params={**params, "tenant_id": world.b.tenant_id}
                if path != "/api/v1/usage/current"
                else {"scope": "tenant", "id": world.b.tenant_id},
                headers=world.headers[role],
            )
            assert asked.status_code == 404, (role, route, asked.text)


@pytest.mark.parametrize("route", [r for r, c in ROUTES.items() if c.kind == "global_"])
async def test_system_wide_writes_are_refused_to_every_role_of_a_tenant(
    client: httpx.AsyncClient, world: World, route: str
) -> None:
    method, path = route.split(" ", 1)
    case = ROUTES[route]
    url = path.format(**world.b.path_values())
    for role in ROLES:
        body = case.body(world.a, world.b) if case.body else None
        response = await client.request(method, url, json=body, headers=world.headers[role])
        if method == "GET" and "deployments" not in path:
            assert response.status_code == 200, (role, route, response.text)
        else:
            assert response.status_code == 403, (role, route, response.text)
