from __future__ import annotations

import socket

import httpx
import pytest

from tests.catalog.conftest import audit_events
from tests.factories import make_model
from tokengate.catalog import probe
from tokengate.catalog.schemas import ProbeTarget
from tokengate.mockprovider import MockConfig, RunningMock
from tokengate.providers.base import Timeouts
from tokengate.runtime import Runtime

QUICK = Timeouts(connect=0.5, read=0.3, total=0.3)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


async def test_each_deployment_is_tested_and_a_dead_one_is_reported(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    runtime: Runtime,
    upstream: RunningMock,
    closed_port: int,
) -> None:
    model = await make_model(runtime, base_url=upstream.base_url)
    dead = await client.post(
        f"/api/v1/models/{model.id}/deployments",
        json={"upstream_model": "column-c1", "base_url": f"http://127.0.0.1:{closed_port}/v1"},
        headers=admin_headers,
    )
    response = await client.post(f"/api/v1/models/{model.id}/test", headers=admin_headers)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["model_id"], result["ok"]) == (model.id, False)
    primary, second = result["deployments"]
    assert (primary["deployment_id"], primary["ok"], primary["status"]) == (-model.id, True, 200)
    assert primary["error"] is None and primary["latency_ms"] >= 0
    assert (second["deployment_id"], second["ok"], second["status"]) == (
        dead.json()["id"],
        False,
        None,
    )
    assert "unreachable" in second["error"] and str(closed_port) in second["error"]
    # the provider got one tiny request, with the model's key
    [sent] = upstream.requests
    assert sent.path == "/v1/chat/completions" and sent.body["max_tokens"] == 1
    assert sent.headers["authorization"] == "Bearer sk-upstream-secret-1234"
    [event] = await audit_events(runtime, "model.test")
    assert event.after is not None and event.after["ok"] is False


async def test_a_refused_key_is_reported_without_the_key(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    runtime: Runtime,
    upstream: RunningMock,
) -> None:
    upstream.set_config(MockConfig(api_key="the-right-key"))
    model = await make_model(runtime, base_url=upstream.base_url)
    result = (await client.post(f"/api/v1/models/{model.id}/test", headers=admin_headers)).json()
    [only] = result["deployments"]
    assert (result["ok"], only["ok"], only["status"]) == (False, False, 401)
    assert "401" in only["error"] and "check the API key" in only["error"]
    assert "sk-upstream-secret-1234" not in str(result)

    upstream.set_config(MockConfig(fail_status=503))
    [failing] = (
        await client.post(f"/api/v1/models/{model.id}/test", headers=admin_headers)
    ).json()["deployments"]
    assert (failing["ok"], failing["status"]) == (False, 503)


async def test_an_unsaved_configuration_can_be_tried_first(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    runtime: Runtime,
    upstream: RunningMock,
) -> None:
    upstream.set_config(MockConfig(api_key="anthropic-key-1234"))
    target = {
        "provider": "anthropic",
        "upstream_model": "claude-c7",
        "base_url": upstream.base_url,
        "api_key": "anthropic-key-1234",
    }
    response = await client.post("/api/v1/models/test", json=target, headers=admin_headers)
    assert response.status_code == 200, response.text
    assert response.json()["ok"] is True
    [sent] = upstream.requests
    assert (sent.path, sent.body["model"], sent.body["max_tokens"]) == (
        "/v1/messages",
        "claude-c7",
        1,
    )
    assert sent.headers["x-api-key"] == "anthropic-key-1234"
    assert (await client.get("/api/v1/models", headers=admin_headers)).json()["items"] == []
    [event] = await audit_events(runtime, "model.test")
    assert event.target_id is None and event.after is not None
    assert event.after["base_url"] == upstream.base_url and "api_key" not in event.after

    refused = await client.post(
        "/api/v1/models/test", json={**target, "api_key": "wrong"}, headers=admin_headers
    )
    assert refused.json()["deployments"][0]["status"] == 401
    invalid = await client.post(
        "/api/v1/models/test", json={**target, "base_url": "nope"}, headers=admin_headers
    )
    assert invalid.status_code == 422


async def test_a_silent_or_unknown_host_fails_within_the_time_limit(
    runtime: Runtime, upstream: RunningMock
) -> None:
    upstream.set_config(MockConfig(hang=True))
    silent = ProbeTarget.model_validate(
        {"provider": "openai", "upstream_model": "gpt-x", "base_url": upstream.base_url}
    )
    [hung] = (
        await probe.probe_configuration(http=runtime.http, target=silent, timeouts=QUICK)
    ).deployments
    assert (hung.ok, hung.status, hung.error) == (False, None, "no answer within 0.3 seconds")
    assert hung.latency_ms < 2_000

    unknown = ProbeTarget.model_validate(
        {**silent.model_dump(), "base_url": "http://tokengate-nowhere.invalid/v1"}
    )
    [lost] = (
        await probe.probe_configuration(http=runtime.http, target=unknown, timeouts=QUICK)
    ).deployments
    assert not lost.ok and lost.error is not None and "tokengate-nowhere.invalid" in lost.error
