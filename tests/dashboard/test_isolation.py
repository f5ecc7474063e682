"""Tenant isolation on every dashboard route: 서울경제신문's administrator (김현우) and member
(이기자) name 데모신문사's tenant, team, people, limit and key and get exactly what an id that
does not exist gets (the administrator: 404; the member: 404, or 403 where the page is not for
members whatever the id), with nothing changed and nothing audited.

Every dashboard route with an id in its path must be listed in ROUTES (the first test fails
otherwise), so a new page cannot forget its isolation.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from tests.dashboard.conftest import Browser, Site, sign_in
from tokengate.dashboard.routes import router

# (method, path) -> a form that would be valid for one's own tenant
ROUTES: dict[tuple[str, str], dict[str, str]] = {
    ("GET", "/tenants/{tenant_id}"): {},
    ("POST", "/tenants/{tenant_id}"): {"name": "남의 신문사", "timezone": "Asia/Seoul"},
    ("POST", "/tenants/{tenant_id}/archive"): {},
    ("GET", "/teams/{team_id}"): {},
    ("POST", "/teams/{team_id}"): {"name": "남의 팀", "description": ""},
    ("POST", "/teams/{team_id}/members"): {"user_id": "{own_user_id}", "role": "member"},
    ("POST", "/teams/{team_id}/members/{user_id}/role"): {"role": "leader"},
    ("POST", "/teams/{team_id}/members/{user_id}/remove"): {},
    ("POST", "/teams/{team_id}/members/{user_id}/move"): {"to_team_id": "{own_team_id}"},
    ("POST", "/teams/{team_id}/archive"): {},
    ("GET", "/users/{user_id}"): {},
    ("POST", "/users/{user_id}/block"): {"reason": "남의 사용자"},
    ("POST", "/users/{user_id}/unblock"): {},
    ("POST", "/users/{user_id}/plan"): {"plan": "Basic"},
    ("POST", "/users/{user_id}/grants"): {"amount": "1000", "expires": "{tomorrow}"},
    ("GET", "/limits/{limit_id}"): {},
    ("POST", "/limits/{limit_id}"): {"amount": "1", "mode": "block"},
    ("POST", "/limits/{limit_id}/archive"): {},
    ("POST", "/me/keys/{key_id}/revoke"): {},
}
# the catalogue is shared by every tenant: only a system administrator changes it
MODEL_ROUTES = {
    ("GET", "/models/{model_id}"): 200,
    ("POST", "/models/{model_id}/test"): 403,
    ("POST", "/models/{model_id}/activate"): 403,
    ("POST", "/models/{model_id}/deactivate"): 403,
    ("POST", "/models/{model_id}/archive"): 403,
    ("POST", "/models/{model_id}/edit"): 403,
}
# lists and chart data narrowed by another tenant's ids in the query
QUERIES = (
    "/users?tenant_id={tenant_id}",
    "/users?team_id={team_id}",
    "/teams?tenant_id={tenant_id}",
    "/limits?tenant_id={tenant_id}",
    "/monitoring?tenant_id={tenant_id}",
    "/monitoring/series.json?tenant_id={tenant_id}",
    "/monitoring/series.json?user_id={user_id}",
    "/monitoring/series.json?team_id={team_id}",
    "/monitoring/compare.json?by=user&tenant_id={tenant_id}",
    "/monitoring/compare.csv?by=team&team_id={team_id}",
    "/monitoring/detail?by=user&id={user_id}",
    "/monitoring/detail?by=team&id={team_id}",
)


# ids no row has
MISSING = dict.fromkeys(("tenant_id", "team_id", "user_id", "limit_id", "key_id"), "2147483000")


def _paths() -> Iterator[tuple[str, str]]:
    def walk(routes: list[Any]) -> Iterator[tuple[str, str]]:
        for route in routes:
            if hasattr(route, "original_router"):
                yield from walk(route.original_router.routes)
            else:
                for method in route.methods - {"HEAD"}:
                    yield method, route.path

    yield from walk(router.routes)


def test_every_dashboard_route_with_an_id_is_in_the_table() -> None:
    with_ids = {(m, p) for m, p in _paths() if "{" in p}
    missing = with_ids - ROUTES.keys() - MODEL_ROUTES.keys()
    assert not missing, f"say how these routes are isolated: {sorted(missing)}"


async def _ids(site: Site) -> dict[str, str]:
    """Ids of 데모신문사's objects, and of 서울경제신문's for the bodies."""
    other = site.tenant_id("데모신문사")
    own = site.tenant_id("서울경제신문")
    async with httpx.AsyncClient(base_url=site.base, headers=site.master) as api:
        their_team = (await api.get("/api/v1/teams", params={"tenant_id": other})).json()["items"][
            0
        ]
        own_team = (await api.get("/api/v1/teams", params={"tenant_id": own})).json()["items"][0]
        reporter = site.user("데모기자")
        limit = await api.post(
            "/api/v1/limits",
            json={
                "scope": "user",
                "scope_id": reporter.id,
                "metric": "requests",
                "window": "day",
                "amount": 100,
                "mode": "block",
            },
        )
        assert limit.status_code == 201, limit.text
        keys = (await api.get("/api/v1/keys", params={"user_id": reporter.id})).json()["items"]
        models = (await api.get("/api/v1/models")).json()["items"]
    return {
        "tenant_id": str(other),
        "team_id": str(their_team["id"]),
        "user_id": str(reporter.id),
        "limit_id": str(limit.json()["id"]),
        "key_id": str(keys[0]["id"]),
        "model_id": str(next(m["id"] for m in models if m["name"] == "C1")),
        "own_user_id": str(site.user("이기자").id),
        "own_team_id": str(own_team["id"]),
        "tomorrow": (datetime.now(UTC).date() + timedelta(days=2)).isoformat(),
    }


async def _audit_count(site: Site) -> int:
    async with httpx.AsyncClient(base_url=site.base, headers=site.master) as api:
        page = await api.get("/api/v1/audit", params={"limit": 500})
        return len(page.json()["items"])


async def _call(browser: Browser, method: str, url: str, form: dict[str, str]) -> httpx.Response:
    if method == "GET":
        return await browser.http.get(url)
    return await browser.htmx("POST", url, data=form)


async def test_another_tenants_ids_are_not_found_by_an_admin_or_a_member(site: Site) -> None:
    ids = await _ids(site)
    before = await _audit_count(site)
    for name in ("김현우", "이기자"):
        browser = await sign_in(site, site.user(name).email)
        wrong: dict[str, object] = {}
        for (method, path), body in ROUTES.items():
            form = {k: v.format(**ids) for k, v in body.items()}
            url = path.format(**ids)
            answer = await _call(browser, method, url, form)
            nowhere = await _call(browser, method, path.format(**{**ids, **MISSING}), form)
            allowed = {404} if name == "김현우" else {404, 403}
            if answer.status_code not in allowed or answer.status_code != nowhere.status_code:
                wrong[f"{method} {url}"] = (answer.status_code, nowhere.status_code)
        for (method, path), admin_status in MODEL_ROUTES.items():
            url = path.format(**ids)
            answer = await _call(browser, method, url, {})
            expected = admin_status if name == "김현우" or method == "POST" else 200
            if answer.status_code != expected:
                wrong[f"{method} {url}"] = answer.status_code
        for query in QUERIES:
            answer = await browser.http.get(query.format(**ids))
            # a member may not open these pages at all (403); nobody learns the ids exist
            if answer.status_code not in (403, 404):
                wrong[f"GET {query}"] = answer.status_code
        await browser.http.aclose()
        assert not wrong, f"{name}: {wrong}"
    assert await _audit_count(site) == before
    async with httpx.AsyncClient(base_url=site.base, headers=site.master) as api:
        reporter = (await api.get(f"/api/v1/users/{ids['user_id']}")).json()
        assert reporter["status"] == "active"
        tenant = (await api.get(f"/api/v1/tenants/{ids['tenant_id']}")).json()
        assert (tenant["name"], tenant["archived"]) == ("데모신문사", False)
