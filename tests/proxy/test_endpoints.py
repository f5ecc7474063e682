from __future__ import annotations

import openai
import pytest

from tests.factories import Member
from tests.proxy.test_chat import events
from tokengate.mockprovider import RunningMock
from tokengate.runtime import Runtime


async def test_legacy_completions_are_relayed_metered_and_capped(
    gateway_url: str, member: Member, runtime: Runtime, upstream: RunningMock
) -> None:
    sdk = openai.AsyncOpenAI(base_url=f"{gateway_url}/v1", api_key=member.key, max_retries=0)
    completion = await sdk.completions.create(model="C1", prompt="오늘의 칼럼:")
    stream = await sdk.completions.create(
        model="C1", prompt="오늘의 칼럼:", stream=True, max_tokens=7
    )
    streamed = "".join([c.choices[0].text async for c in stream if c.choices])
    await sdk.close()

    assert completion.choices[0].text and streamed
    # OpenAI's legacy default of 16 output tokens is what the gateway reserves and sends
    assert upstream.requests[0].body["max_tokens"] == 16
    assert completion.usage is not None and completion.usage.completion_tokens <= 16
    streamed_event, plain_event = await events(runtime)
    assert (plain_event.endpoint, plain_event.output_tokens) == (
        "completions",
        completion.usage.completion_tokens,
    )
    assert (streamed_event.stream, streamed_event.output_tokens, streamed_event.estimated) == (
        True,
        7,
        False,
    )


async def test_embeddings_are_charged_for_their_input(
    gateway_url: str, member: Member, runtime: Runtime, upstream: RunningMock
) -> None:
    sdk = openai.AsyncOpenAI(base_url=f"{gateway_url}/v1", api_key=member.key, max_retries=0)
    result = await sdk.embeddings.create(model="C1", input=["경제 기사", "정치 기사"])
    await sdk.close()
    assert len(result.data) == 2 and result.usage.prompt_tokens > 0
    assert "max_tokens" not in upstream.requests[0].body
    [event] = await events(runtime)
    assert (event.endpoint, event.input_tokens, event.output_tokens) == (
        "embeddings",
        result.usage.prompt_tokens,
        0,
    )
    assert event.cost_micros == (event.input_tokens * 500_000 + 500_000) // 10**6


@pytest.mark.parametrize(
    ("path", "body"),
    [("/v1/completions", {"model": "C1"}), ("/v1/embeddings", {"model": "C1", "input": ""})],
)
async def test_missing_prompt_is_named(
    gateway_url: str, member: Member, path: str, body: dict[str, object]
) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=gateway_url) as http:
        response = await http.post(
            path, json=body, headers={"Authorization": f"Bearer {member.key}"}
        )
    assert response.status_code == 400
    assert response.json()["error"]["param"] in ("prompt", "input")
