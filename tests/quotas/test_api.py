from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import httpx

from tests.factories import Member
from tests.quotas.test_enforcement import add_limit, chat, current
from tokengate.db import utcnow
from tokengate.ledger.tools import run_reconcile
from tokengate.runtime import Runtime


def later(days: int = 1) -> str:
    return (utcnow() + timedelta(days=days)).isoformat()


async def test_limits_can_be_read_changed_and_archived(
    client: httpx.AsyncClient, admin_headers: dict[str, str], member: Member
) -> None:
    created = await add_limit(
        client,
        admin_headers,
        scope="tenant",
        scope_id=member.tenant.id,
        metric="cost",
        window="quarter",
        amount=2_000_000,
    )
    path = f"/api/v1/limits/{created['id']}"
    assert (await client.get(path, headers=admin_headers)).json() == created
    changed = await client.patch(
        path, json={"mode": "alert_only", "thresholds": [50, 100, 80]}, headers=admin_headers
    )
    assert (changed.json()["mode"], changed.json()["thresholds"], changed.json()["clamped"]) == (
        "alert_only",
        [50, 80, 100],
        [],
    )
    by_tenant = await client.get(
        "/api/v1/limits", params={"tenant_id": member.tenant.id}, headers=admin_headers
    )
    assert [limit["id"] for limit in by_tenant.json()["items"]] == [created["id"]]
    assert (await client.delete(path, headers=admin_headers)).status_code == 204
    assert (await client.get(path, headers=admin_headers)).status_code == 404
    assert (await client.patch(path, json={"amount": 1}, headers=admin_headers)).status_code == 404
    assert (await client.get("/api/v1/limits", headers=admin_headers)).json()["items"] == []


async def test_grants_relaxations_and_exemptions_are_listed(
    client: httpx.AsyncClient, admin_headers: dict[str, str], member: Member
) -> None:
    limit = await add_limit(
        client,
        admin_headers,
        scope="user",
        scope_id=member.user.id,
        metric="tokens",
        window="day",
        amount=100,
    )
    grant = await client.post(
        "/api/v1/grants",
        json={"limit_id": limit["id"], "amount": 50, "expires_at": later()},
        headers=admin_headers,
    )
    assert (
        grant.status_code == 201
        and grant.json()["limit_id"] == limit["id"]
        and grant.json()["user_id"] is None
    )
    rule = await client.post(
        "/api/v1/relaxations",
        json={"limit_id": limit["id"], "multiplier_percent": 300, "start_hour": 0, "end_hour": 0},
        headers=admin_headers,
    )
    assert rule.status_code == 422
    rule = await client.post(
        "/api/v1/relaxations",
        json={"limit_id": limit["id"], "multiplier_percent": 300, "start_hour": 0, "end_hour": 23},
        headers=admin_headers,
    )
    assert rule.status_code == 201
    exemption = await client.post(
        "/api/v1/exemptions",
        json={"scope": "key", "scope_id": 9999, "metric": "cost"},
        headers=admin_headers,
    )
    assert exemption.status_code == 404  # no such key
    for path in ("grants", "relaxations", "exemptions"):
        listed = await client.get(
            f"/api/v1/{path}", params={"tenant_id": member.tenant.id}, headers=admin_headers
        )
        assert len(listed.json()["items"]) == (0 if path == "exemptions" else 1)
    [_, own] = await current(client, admin_headers, "user", member.user.id)
    # the rule triples the amount (100 + the 50 granted) from 00:00 to 23:00 Seoul time
    seoul_hour = utcnow().astimezone(ZoneInfo("Asia/Seoul")).hour
    assert own["amount"] == (150 if seoul_hour == 23 else 450)


async def test_bad_grants_change_nothing(
    client: httpx.AsyncClient, admin_headers: dict[str, str], member: Member
) -> None:
    cases = [
        ({"amount": 5, "expires_at": later()}, 422),
        ({"user_id": member.user.id, "limit_id": 1, "amount": 5, "expires_at": later()}, 422),
        ({"user_id": member.user.id, "amount": 0, "expires_at": later()}, 422),
        ({"user_id": member.user.id, "amount": 5, "expires_at": later(-1)}, 400),
        ({"limit_id": 4242, "amount": 5, "expires_at": later()}, 404),
        ({"user_id": 4242, "amount": 5, "expires_at": later()}, 404),
    ]
    for body, status in cases:
        response = await client.post("/api/v1/grants", json=body, headers=admin_headers)
        assert response.status_code == status, (body, response.text)
    assert (await client.get("/api/v1/grants", headers=admin_headers)).json()["items"] == []


async def test_current_usage_of_an_unknown_scope_is_404(
    client: httpx.AsyncClient, admin_headers: dict[str, str]
) -> None:
    response = await client.get(
        "/api/v1/usage/current", params={"scope": "team", "id": 77}, headers=admin_headers
    )
    assert response.status_code == 404


async def test_reconcile_reports_no_drift_after_real_traffic(
    client: httpx.AsyncClient, admin_headers: dict[str, str], member: Member, runtime: Runtime
) -> None:
    await add_limit(
        client,
        admin_headers,
        scope="tenant",
        scope_id=member.tenant.id,
        metric="requests",
        window="day",
        amount=100,
    )
    for _ in range(3):
        assert (await chat(client, member)).status_code == 200
    lines: list[str] = []
    drift = await run_reconcile(runtime.settings, repair=False, echo=lines.append)
    assert drift == 0
    assert lines[-1] == "2 counters, total drift 0"
    assert any("plan" in line and "user:" in line for line in lines)
