from __future__ import annotations

import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionMessageParam

from tests.factories import Member
from tokengate.mockprovider import RunningMock
from tokengate.pagination import PageRequest
from tokengate.runtime import Runtime
from tokengate.usage import service as usage_service
from tokengate.usage.schemas import UsageEventPublic

MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "user", "content": "경제 칼럼을 한 단락 써 주세요."}
]


async def events(runtime: Runtime) -> list[UsageEventPublic]:
    async with runtime.sessions() as session:
        page = await usage_service.list_usage(
            session=session, tenant_id=None, user_id=None, since=None, page=PageRequest(None, 100)
        )
    return page.items


async def test_sdk_completion_is_relayed_metered_and_priced(
    gateway_url: str, member: Member, runtime: Runtime, upstream: RunningMock
) -> None:
    sdk = openai.AsyncOpenAI(base_url=f"{gateway_url}/v1", api_key=member.key, max_retries=0)
    completion = await sdk.chat.completions.create(model="C1", messages=MESSAGES)
    await sdk.close()

    assert completion.model == "C1"
    assert completion.choices[0].message.content
    assert completion.usage is not None
    [event] = await events(runtime)
    assert event.status == "ok" and event.http_status == 200 and not event.estimated
    assert event.input_tokens == completion.usage.prompt_tokens
    assert event.output_tokens == completion.usage.completion_tokens
    # 0.5 $/Mtok in, 1.5 $/Mtok out, in micro-dollars, rounded once
    expected = (event.input_tokens * 500_000 + event.output_tokens * 1_500_000 + 500_000) // 10**6
    assert event.cost_micros == expected > 0
    # the provider got the upstream model name and the decrypted provider key
    sent = upstream.requests[-1]
    assert sent.body["model"] == "column-c1"
    assert sent.headers["authorization"] == "Bearer sk-upstream-secret-1234"


async def test_sdk_stream_is_relayed_and_metered_from_provider_usage(
    gateway_url: str, member: Member, runtime: Runtime, upstream: RunningMock
) -> None:
    sdk = openai.AsyncOpenAI(base_url=f"{gateway_url}/v1", api_key=member.key, max_retries=0)
    stream = await sdk.chat.completions.create(model="C1", messages=MESSAGES, stream=True)
    chunks = [chunk async for chunk in stream]
    await sdk.close()

    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text
    # the client did not ask for usage: the extra usage chunk is stripped again
    assert all(c.usage is None for c in chunks)
    assert {c.model for c in chunks} == {"C1"}
    # but the gateway asked the provider for it and metered from it
    assert upstream.requests[-1].body["stream_options"] == {"include_usage": True}
    [event] = await events(runtime)
    assert event.stream and event.status == "ok" and not event.estimated
    assert event.output_tokens == len(chunks) - 2 > 0  # role chunk and finish chunk carry no text
    assert event.ttft_ms is not None


async def test_stream_keeps_usage_chunk_when_client_asks(
    gateway_url: str, member: Member, runtime: Runtime
) -> None:
    sdk = openai.AsyncOpenAI(base_url=f"{gateway_url}/v1", api_key=member.key, max_retries=0)
    stream = await sdk.chat.completions.create(
        model="C1",
        messages=MESSAGES,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    await sdk.close()
    usage = chunks[-1].usage
    assert usage is not None and chunks[-1].choices == []
    [event] = await events(runtime)
    assert (event.input_tokens, event.output_tokens) == (
        usage.prompt_tokens,
        usage.completion_tokens,
    )


async def test_stream_and_non_stream_of_same_request_cost_the_same(
    client: httpx.AsyncClient, member: Member, runtime: Runtime
) -> None:
    headers = {"Authorization": f"Bearer {member.key}"}
    body = {"model": "C1", "messages": MESSAGES, "max_tokens": 25}
    plain = await client.post("/v1/chat/completions", json=body, headers=headers)
    streamed = await client.post(
        "/v1/chat/completions", json={**body, "stream": True}, headers=headers
    )
    assert plain.status_code == streamed.status_code == 200
    assert streamed.text.endswith("data: [DONE]\n\n")
    second, first = await events(runtime)
    assert (first.input_tokens, first.output_tokens, first.cost_micros) == (
        second.input_tokens,
        second.output_tokens,
        second.cost_micros,
    )
    assert first.output_tokens == 25


async def test_models_lists_only_what_the_plan_allows(
    client: httpx.AsyncClient, member: Member, runtime: Runtime, upstream: RunningMock
) -> None:
    from tests.factories import make_model

    await make_model(runtime, base_url=upstream.base_url, name="C2", upstream_model="column-c2")
    response = await client.get("/v1/models", headers={"Authorization": f"Bearer {member.key}"})
    assert response.status_code == 200
    assert [m["id"] for m in response.json()["data"]] == ["C1"]


@pytest.mark.parametrize("max_tokens", [0, -3, "many"])
async def test_bad_max_tokens_is_refused(
    client: httpx.AsyncClient, member: Member, max_tokens: object
) -> None:
    response = await client.post(
        "/v1/chat/completions",
        json={"model": "C1", "messages": MESSAGES, "max_tokens": max_tokens},
        headers={"Authorization": f"Bearer {member.key}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "max_tokens"


async def test_metrics_count_requests_tokens_and_ledger_decisions(
    client: httpx.AsyncClient, member: Member
) -> None:
    headers = {"Authorization": f"Bearer {member.key}"}
    body = {"model": "C1", "messages": MESSAGES, "max_tokens": 5}
    assert (
        await client.post("/v1/chat/completions", json=body, headers=headers)
    ).status_code == 200
    text = (await client.get("/metrics")).text
    tenant = member.tenant.id
    assert (
        f'tokengate_requests_total{{endpoint="chat.completions",model="C1",status="ok",'
        f'tenant="{tenant}"}} 1.0' in text
    )
    assert f'tokengate_tokens_total{{kind="output",model="C1",tenant="{tenant}"}} 5.0' in text
    assert 'tokengate_ledger_decisions_total{decision="admitted"} 1.0' in text
    assert "tokengate_gateway_overhead_seconds_bucket" in text
