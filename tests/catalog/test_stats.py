from __future__ import annotations

import itertools
from datetime import UTC, datetime

import httpx

from tests.factories import bearer, make_member, make_model, make_user
from tokengate.db import transaction
from tokengate.runtime import Runtime
from tokengate.usage import service as usage
from tokengate.usage.schemas import Outcome, UsageRecord

_ids = itertools.count(1)


def used(
    *,
    tenant_id: int,
    user_id: int,
    model_id: int,
    at: datetime,
    latency_ms: int,
    cost_micros: int = 250_000,
    status: Outcome = "ok",
) -> UsageRecord:
    return UsageRecord(
        request_id=f"req_{next(_ids)}",
        created_at=at,
        tenant_id=tenant_id,
        team_id=None,
        user_id=user_id,
        key_id=1,
        model_id=model_id,
        model="C1",
        endpoint="chat",
        stream=False,
        input_tokens=100,
        output_tokens=10,
        cached_tokens=0,
        cost_micros=cost_micros,
        latency_ms=latency_ms,
        ttft_ms=None,
        status=status,
        http_status=200 if status == "ok" else 502,
        error_code=None,
        estimated=False,
    )


async def test_stats_sum_a_models_usage_within_the_callers_reach(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    model = await make_model(runtime, base_url="http://127.0.0.1:9/v1")
    other = await make_model(
        runtime, base_url="http://127.0.0.1:9/v1", name="C2", upstream_model="c2"
    )
    ours = await make_member(runtime)
    colleague = await make_user(runtime, tenant_id=ours.tenant.id)
    admin = await make_user(runtime, tenant_id=ours.tenant.id, roles=["tenant_admin"])
    theirs = await make_member(runtime)
    ten = datetime(2026, 3, 1, 10, 20, tzinfo=UTC)
    noon = datetime(2026, 3, 1, 12, 5, tzinfo=UTC)
    a, b = ours.tenant.id, theirs.tenant.id
    records = [
        used(tenant_id=a, user_id=ours.user.id, model_id=model.id, at=ten, latency_ms=100),
        used(tenant_id=a, user_id=ours.user.id, model_id=model.id, at=ten, latency_ms=200),
        used(
            tenant_id=a,
            user_id=colleague.id,
            model_id=model.id,
            at=ten,
            latency_ms=300,
            status="upstream_error",
        ),
        used(tenant_id=b, user_id=theirs.user.id, model_id=model.id, at=ten, latency_ms=1000),
        used(tenant_id=a, user_id=ours.user.id, model_id=model.id, at=noon, latency_ms=400),
        used(tenant_id=a, user_id=ours.user.id, model_id=other.id, at=ten, latency_ms=9000),
    ]
    async with transaction(runtime.sessions) as session:
        await usage.record_usages(session=session, records=records)
    path = f"/api/v1/models/{model.id}/stats"

    everything = (await client.get(path, headers=admin_headers)).json()
    assert everything == {
        "model_id": model.id,
        "since": None,
        "until": None,
        "requests": 5,
        "errors": 1,
        "input_tokens": 500,
        "output_tokens": 50,
        "cached_tokens": 0,
        "cost_micros": 1_250_000,
        "cost": "1.25",
        "avg_latency_ms": 400,
        "p95_latency_ms": 1000,
        "distinct_users": 3,
    }
    window = await client.get(
        path,
        params={"since": "2026-03-01T10:30:00Z", "until": "2026-03-01T11:15:00+00:00"},
        headers=admin_headers,
    )
    assert window.status_code == 200, window.text
    assert (window.json()["since"], window.json()["until"]) == (
        "2026-03-01T10:00:00Z",
        "2026-03-01T12:00:00Z",
    )
    assert (window.json()["requests"], window.json()["p95_latency_ms"]) == (4, 1000)

    tenant = (await client.get(path, headers=bearer(runtime, admin))).json()
    assert (tenant["requests"], tenant["errors"], tenant["distinct_users"]) == (4, 1, 2)
    assert tenant["p95_latency_ms"] == 400
    own = (await client.get(path, headers=bearer(runtime, ours.user))).json()
    assert (own["requests"], own["distinct_users"], own["avg_latency_ms"]) == (3, 1, 233)
    one = await client.get(path, params={"tenant_id": b}, headers=admin_headers)
    assert one.json()["requests"] == 1
    hidden = await client.get(path, params={"tenant_id": b}, headers=bearer(runtime, admin))
    assert hidden.status_code == 404


async def test_stats_of_an_unused_or_missing_model_and_a_bad_window(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime
) -> None:
    model = await make_model(runtime, base_url="http://127.0.0.1:9/v1")
    path = f"/api/v1/models/{model.id}/stats"
    empty = (await client.get(path, headers=admin_headers)).json()
    assert (empty["requests"], empty["avg_latency_ms"], empty["p95_latency_ms"]) == (0, None, None)
    assert empty["cost"] == "0"
    backwards = {"since": "2026-03-02T00:00:00Z", "until": "2026-03-01T00:00:00Z"}
    assert (await client.get(path, params=backwards, headers=admin_headers)).status_code == 400
    naive = {"since": "2026-03-01T00:00:00"}
    assert (await client.get(path, params=naive, headers=admin_headers)).status_code == 422
    assert (await client.get("/api/v1/models/999/stats", headers=admin_headers)).status_code == 404
    huge = await client.get(f"/api/v1/models/{2**40}/stats", headers=admin_headers)
    assert huge.status_code == 422
    beyond = {"until": "9999-12-31T23:30:00Z"}
    assert (await client.get(path, params=beyond, headers=admin_headers)).status_code == 400
