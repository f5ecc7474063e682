"""Several deployments behind one model: balancing, failover before the first byte, breakers."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from tests.factories import Member, make_member, make_model
from tests.proxy.test_chat import events
from tokengate.mockprovider import MockConfig, RunningMock, running_mock_provider
from tokengate.runtime import Runtime

BODY = {"model": "C1", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}


@pytest.fixture
async def second() -> AsyncIterator[RunningMock]:
    async with running_mock_provider() as mock:
        yield mock


async def deploy(
    client: httpx.AsyncClient, admin: dict[str, str], model_id: int, base_url: str, weight: int = 1
) -> dict[str, object]:
    response = await client.post(
        f"/api/v1/models/{model_id}/deployments",
        json={
            "upstream_model": "column-c1-b",
            "base_url": base_url,
            "api_key": "sk-second-5678",
            "weight": weight,
        },
        headers=admin,
    )
    assert response.status_code == 201, response.text
    created: dict[str, object] = response.json()
    return created


async def test_weights_spread_requests_exactly(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    runtime: Runtime,
    upstream: RunningMock,
    second: RunningMock,
) -> None:
    model = await make_model(runtime, base_url=upstream.base_url)
    member = await make_member(runtime)
    await deploy(client, admin_headers, model.id, second.base_url, weight=2)
    headers = {"Authorization": f"Bearer {member.key}"}
    for _ in range(30):
        assert (
            await client.post("/v1/chat/completions", json=BODY, headers=headers)
        ).status_code == 200
    assert (len(upstream.requests), len(second.requests)) == (10, 20)
    assert second.requests[0].headers["authorization"] == "Bearer sk-second-5678"
    assert second.requests[0].body["model"] == "column-c1-b"
    listed = (
        await client.get(f"/api/v1/models/{model.id}/deployments", headers=admin_headers)
    ).json()
    assert [(d["primary"], d["weight"], d["api_key"]) for d in listed["items"]] == [
        (True, 1, "****1234"),
        (False, 2, "****5678"),
    ]


async def test_a_dead_deployment_fails_over_and_its_breaker_opens(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime, second: RunningMock
) -> None:
    model = await make_model(runtime, base_url="http://127.0.0.1:9/v1")  # nothing listens there
    member = await make_member(runtime)
    await deploy(client, admin_headers, model.id, second.base_url)
    headers = {"Authorization": f"Bearer {member.key}"}
    statuses = [
        (await client.post("/v1/chat/completions", json=BODY, headers=headers)).status_code
        for _ in range(20)
    ]
    assert statuses == [200] * 20
    assert len(second.requests) == 20
    listed = (
        await client.get(f"/api/v1/models/{model.id}/deployments", headers=admin_headers)
    ).json()
    assert [d["circuit"] for d in listed["items"]] == ["open", "closed"]
    assert all(e.status == "ok" for e in await events(runtime))
    metrics = (await client.get("/metrics")).text
    assert f'tokengate_circuit_state{{deployment="-{model.id}"}} 2.0' in metrics


async def test_a_hanging_deployment_times_out_and_the_request_moves_on(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    runtime: Runtime,
    upstream: RunningMock,
    second: RunningMock,
) -> None:
    upstream.set_config(MockConfig(hang=True))
    runtime.settings = runtime.settings.model_copy(update={"upstream_read_timeout": 0.3})
    model = await make_model(runtime, base_url=upstream.base_url)
    member = await make_member(runtime)
    await deploy(client, admin_headers, model.id, second.base_url)
    headers = {"Authorization": f"Bearer {member.key}"}
    responses = [
        await client.post("/v1/chat/completions", json=BODY, headers=headers) for _ in range(4)
    ]
    assert [r.status_code for r in responses] == [200] * 4


async def test_when_every_deployment_fails_the_last_error_is_returned(
    client: httpx.AsyncClient, runtime: Runtime, upstream: RunningMock, member: Member
) -> None:
    upstream.set_config(MockConfig(fail_status=503))
    response = await client.post(
        "/v1/chat/completions", json=BODY, headers={"Authorization": f"Bearer {member.key}"}
    )
    assert response.status_code == 502 and response.json()["error"]["code"] == "upstream_status"
    # the single deployment was tried three times (the retry policy's cap)
    assert len(upstream.requests) == 3


async def test_model_status_and_routing_can_be_changed(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime, member: Member
) -> None:
    models = (await client.get("/api/v1/models", headers=admin_headers)).json()["items"]
    path = f"/api/v1/models/{models[0]['id']}"
    changed = await client.patch(
        path, json={"routing": "least_busy", "status": "inactive"}, headers=admin_headers
    )
    assert (changed.json()["routing"], changed.json()["status"]) == ("least_busy", "inactive")
    refused = await client.post(
        "/v1/chat/completions", json=BODY, headers={"Authorization": f"Bearer {member.key}"}
    )
    assert refused.status_code == 404
    assert (
        await client.patch("/api/v1/models/999", json={"status": "active"}, headers=admin_headers)
    ).status_code == 404


async def test_fallback_models_take_over_when_every_deployment_fails(
    client: httpx.AsyncClient, admin_headers: dict[str, str], runtime: Runtime, second: RunningMock
) -> None:
    primary = await make_model(runtime, base_url="http://127.0.0.1:9/v1")  # dead
    await make_model(
        runtime,
        base_url=second.base_url,
        name="C1-lite",
        upstream_model="lite",
        input_price_per_mtok="0.1",
        output_price_per_mtok="0.5",
    )
    pricey = await make_model(
        runtime,
        base_url=second.base_url,
        name="C9",
        upstream_model="big",
        input_price_per_mtok="9",
        output_price_per_mtok="9",
    )
    path = f"/api/v1/models/{primary.id}"
    refused = await client.patch(path, json={"fallbacks": [pricey.name]}, headers=admin_headers)
    assert refused.status_code == 400 and "costs more" in refused.json()["error"]["message"]
    unknown = await client.patch(path, json={"fallbacks": ["nope"]}, headers=admin_headers)
    assert unknown.status_code == 400
    changed = await client.patch(path, json={"fallbacks": ["C1-lite"]}, headers=admin_headers)
    assert changed.json()["fallbacks"] == ["C1-lite"]

    allowed = await make_member(runtime, allowed_models=["C1", "C1-lite"])
    response = await client.post(
        "/v1/chat/completions", json=BODY, headers={"Authorization": f"Bearer {allowed.key}"}
    )
    assert response.status_code == 200 and response.json()["model"] == "C1-lite"
    assert second.requests[-1].body["model"] == "lite"
    [event] = await events(runtime)
    assert (event.model, event.status) == ("C1-lite", "ok")

    # a fallback the caller's plan does not allow is not used
    plain = await make_member(runtime, allowed_models=["C1"])
    blocked = await client.post(
        "/v1/chat/completions", json=BODY, headers={"Authorization": f"Bearer {plain.key}"}
    )
    assert blocked.status_code == 502
