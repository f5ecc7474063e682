"""Anthropic's Messages API, and both SDKs on models of either provider."""

from __future__ import annotations

import anthropic
import httpx
import openai
import pytest

from tests.factories import Member, make_member, make_model
from tests.proxy.test_chat import events
from tokengate.mockprovider import RunningMock
from tokengate.runtime import Runtime

PROMPT = "반도체 산업에 대한 칼럼을 써 주세요."


@pytest.fixture
async def both(runtime: Runtime, upstream: RunningMock) -> Member:
    """A user whose plan allows C1 (OpenAI-compatible) and C7 (an Anthropic deployment)."""
    await make_model(runtime, base_url=upstream.base_url)
    await make_model(
        runtime,
        base_url=upstream.base_url,
        name="C7",
        provider="anthropic",
        upstream_model="claude-c7",
    )
    return await make_member(runtime, allowed_models=["C1", "C7"])


def anthropic_sdk(gateway_url: str, member: Member) -> anthropic.AsyncAnthropic:
    return anthropic.AsyncAnthropic(base_url=gateway_url, api_key=member.key, max_retries=0)


def openai_sdk(gateway_url: str, member: Member) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{gateway_url}/v1", api_key=member.key, max_retries=0)


@pytest.mark.parametrize("model", ["C7", "C1"])
async def test_anthropic_sdk_gets_messages_from_either_provider(
    gateway_url: str, both: Member, runtime: Runtime, upstream: RunningMock, model: str
) -> None:
    sdk = anthropic_sdk(gateway_url, both)
    message = await sdk.messages.create(
        model=model,
        max_tokens=30,
        system="당신은 경제 칼럼니스트입니다.",
        messages=[{"role": "user", "content": PROMPT}],
    )
    async with sdk.messages.stream(
        model=model, max_tokens=12, messages=[{"role": "user", "content": PROMPT}]
    ) as stream:
        text = "".join([t async for t in stream.text_stream])
        final = await stream.get_final_message()
    await sdk.close()

    assert message.model == model and message.content[0].type == "text" and message.content[0].text
    assert message.usage.output_tokens <= 30 and text and final.usage.output_tokens == 12
    sent = upstream.requests[0]
    assert sent.path == ("/v1/messages" if model == "C7" else "/v1/chat/completions")
    streamed, plain = await events(runtime)
    assert (plain.model, plain.endpoint, plain.output_tokens, plain.estimated) == (
        model,
        "messages",
        message.usage.output_tokens,
        False,
    )
    assert (streamed.stream, streamed.output_tokens, streamed.status) == (True, 12, "ok")
    assert plain.input_tokens > 0 and streamed.input_tokens > 0


async def test_openai_sdk_on_an_anthropic_model(
    gateway_url: str, both: Member, runtime: Runtime, upstream: RunningMock
) -> None:
    sdk = openai_sdk(gateway_url, both)
    completion = await sdk.chat.completions.create(
        model="C7",
        max_tokens=20,
        messages=[{"role": "system", "content": "칼럼니스트"}, {"role": "user", "content": PROMPT}],
    )
    stream = await sdk.chat.completions.create(
        model="C7",
        max_tokens=9,
        messages=[{"role": "user", "content": PROMPT}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [c async for c in stream]
    await sdk.close()

    assert completion.model == "C7" and completion.choices[0].message.content
    sent = upstream.requests[0]
    assert (sent.path, sent.body["model"], sent.body["system"]) == (
        "/v1/messages",
        "claude-c7",
        "칼럼니스트",
    )
    assert sent.headers["x-api-key"] == "sk-upstream-secret-1234"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == 9
    streamed, plain = await events(runtime)
    assert completion.usage is not None
    assert (plain.input_tokens, plain.output_tokens) == (
        completion.usage.prompt_tokens,
        completion.usage.completion_tokens,
    )
    assert (streamed.output_tokens, streamed.estimated) == (9, False)


async def test_anthropic_errors_are_the_sdks_own(
    gateway_url: str, both: Member, runtime: Runtime
) -> None:
    sdk = anthropic_sdk(gateway_url, both)
    with pytest.raises(anthropic.BadRequestError) as missing:
        await sdk.messages.create(
            model="C7", max_tokens=0, messages=[{"role": "user", "content": "x"}]
        )
    assert missing.value.body["error"]["type"] == "invalid_request_error"  # type: ignore[index]
    async with httpx.AsyncClient(base_url=gateway_url) as http:
        no_cap = await http.post(
            "/v1/messages",
            json={"model": "C7", "messages": [{"role": "user", "content": "x"}]},
            headers={"x-api-key": both.key},
        )
    assert no_cap.status_code == 400 and no_cap.json()["type"] == "error"
    assert "max_tokens" in no_cap.json()["error"]["message"]
    wrong = anthropic.AsyncAnthropic(base_url=gateway_url, api_key="tg-wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        await wrong.messages.create(
            model="C7", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        )
    async with httpx.AsyncClient(base_url=gateway_url) as http:
        refused = await http.post(
            "/v1/messages",
            json={
                "model": "C7",
                "max_tokens": 10**9,
                "messages": [{"role": "user", "content": "x"}],
            },
            headers={"x-api-key": both.key, "accept-language": "ko"},
        )
    assert refused.status_code == 403
    assert refused.json()["error"]["type"] == "permission_error"
    assert "이번 달 사용 한도를 초과하셨습니다" in refused.json()["error"]["message"]
    await sdk.close()
    await wrong.close()


async def test_embeddings_on_an_anthropic_model_are_refused(gateway_url: str, both: Member) -> None:
    sdk = openai_sdk(gateway_url, both)
    with pytest.raises(openai.BadRequestError) as refused:
        await sdk.embeddings.create(model="C7", input="x")
    await sdk.close()
    assert "only serves chat" in refused.value.message
