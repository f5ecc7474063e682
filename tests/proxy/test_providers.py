"""Azure OpenAI and Gemini (through its OpenAI-compatible API) behind the same gateway."""

from __future__ import annotations

import httpx

from tests.factories import make_member, make_model
from tests.proxy.test_chat import events
from tokengate.catalog.schemas import Route
from tokengate.mockprovider import MockConfig, RunningMock
from tokengate.providers import azure
from tokengate.runtime import Runtime

BODY = {"model": "C1", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}


async def test_azure_deployment_url_api_version_and_key(
    client: httpx.AsyncClient, runtime: Runtime, upstream: RunningMock
) -> None:
    upstream.set_config(MockConfig(api_key="azure-secret-key"))
    await make_model(
        runtime,
        provider="azure",
        base_url=f"{upstream.root_url}?api-version=2025-01-01-preview",
        upstream_model="gpt-4o-prod",
        api_key="azure-secret-key",
    )
    member = await make_member(runtime)
    response = await client.post(
        "/v1/chat/completions", json=BODY, headers={"Authorization": f"Bearer {member.key}"}
    )
    assert response.status_code == 200, response.text
    sent = upstream.requests[-1]
    assert sent.path == "/openai/deployments/gpt-4o-prod/chat/completions"
    assert sent.headers["api-key"] == "azure-secret-key" and "authorization" not in sent.headers
    [event] = await events(runtime)
    assert (event.status, event.output_tokens) == ("ok", 5)


def test_azure_default_api_version() -> None:
    route = Route(
        model_id=1,
        name="C1",
        provider="azure",
        upstream_model="my deployment",
        base_url="https://acme.openai.azure.com/",
        api_key="k",
        input_price=0,
        output_price=0,
        cached_input_price=0,
        cache_write_price=0,
        default_max_tokens=None,
        max_tokens_cap=None,
    )
    request = azure.upstream_request(route=route, path="/embeddings", body=b"{}")
    assert request.url == (
        "https://acme.openai.azure.com/openai/deployments/my%20deployment/embeddings"
        f"?api-version={azure.DEFAULT_API_VERSION}"
    )


async def test_gemini_uses_its_openai_compatible_endpoint(
    client: httpx.AsyncClient, runtime: Runtime, upstream: RunningMock
) -> None:
    await make_model(
        runtime, provider="gemini", base_url=upstream.base_url, upstream_model="gemini-2.5-flash"
    )
    member = await make_member(runtime)
    response = await client.post(
        "/v1/chat/completions", json=BODY, headers={"Authorization": f"Bearer {member.key}"}
    )
    assert response.status_code == 200
    sent = upstream.requests[-1]
    assert (sent.path, sent.body["model"]) == ("/v1/chat/completions", "gemini-2.5-flash")
    assert sent.headers["authorization"] == "Bearer sk-upstream-secret-1234"


async def test_model_parameters_get_their_defaults_and_bounds(
    client: httpx.AsyncClient,
    admin_headers: dict[str, str],
    runtime: Runtime,
    upstream: RunningMock,
) -> None:
    model = await make_model(
        runtime,
        base_url=upstream.base_url,
        params={"temperature": {"default": 0.3, "max": 1.0}, "top_p": {"min": 0.5}},
    )
    member = await make_member(runtime)
    headers = {"Authorization": f"Bearer {member.key}"}
    await client.post("/v1/chat/completions", json=BODY, headers=headers)
    await client.post(
        "/v1/chat/completions", json={**BODY, "temperature": 1.7, "top_p": 0.1}, headers=headers
    )
    bad = await client.post(
        "/v1/chat/completions", json={**BODY, "temperature": "hot"}, headers=headers
    )
    first, second = (r.body for r in upstream.requests)
    assert (first["temperature"], "top_p" in first) == (0.3, False)
    assert (second["temperature"], second["top_p"]) == (1.0, 0.5)
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "temperature"
    listed = (await client.get("/api/v1/models", headers=admin_headers)).json()["items"]
    assert listed[0]["params"]["temperature"] == {"default": 0.3, "min": None, "max": 1.0}
    changed = await client.patch(
        f"/api/v1/models/{model.id}",
        json={"params": {"temperature": {"max": 0.5}}},
        headers=admin_headers,
    )
    assert changed.json()["params"] == {"temperature": {"default": None, "min": None, "max": 0.5}}
    wrong = await client.patch(
        f"/api/v1/models/{model.id}",
        json={"params": {"temperature": {"min": 2, "max": 1}}},
        headers=admin_headers,
    )
    assert wrong.status_code == 422
