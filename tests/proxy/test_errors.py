from __future__ import annotations

import asyncio
from datetime import timedelta

import aiohttp
import httpx
import openai
import pytest
from openai.types.chat import ChatCompletionFunctionToolParam

from tests.factories import Member, make_key, make_member, make_model
from tests.proxy.test_chat import MESSAGES, events
from tokengate.db import transaction, utcnow
from tokengate.mockprovider import MockConfig, RunningMock
from tokengate.runtime import Runtime
from tokengate.tenancy import service as tenancy

CHAT = "/v1/chat/completions"


def auth(key: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}", **extra}


def assert_openai_error(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    error: dict[str, object] = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error


async def test_malformed_json_is_400_and_recorded(
    client: httpx.AsyncClient, member: Member, runtime: Runtime
) -> None:
    response = await client.post(CHAT, content=b'{"model": "C1",', headers=auth(member.key))
    assert_openai_error(response, 400, "invalid_json")
    [event] = await events(runtime)
    assert (event.status, event.http_status, event.error_code) == (
        "client_error",
        400,
        "invalid_json",
    )


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": MESSAGES}, "model"),
        ({"model": "C1"}, "messages"),
        ({"model": "C1", "messages": []}, "messages"),
    ],
)
async def test_missing_fields_are_named(
    client: httpx.AsyncClient, member: Member, body: dict[str, object], param: str
) -> None:
    response = await client.post(CHAT, json=body, headers=auth(member.key))
    assert assert_openai_error(response, 400, "invalid_request")["param"] == param


async def test_body_that_is_not_an_object_is_400(client: httpx.AsyncClient, member: Member) -> None:
    response = await client.post(CHAT, json=["model"], headers=auth(member.key))
    assert_openai_error(response, 400, "invalid_request")


async def test_unknown_model_is_404(
    client: httpx.AsyncClient, member: Member, runtime: Runtime
) -> None:
    response = await client.post(
        CHAT, json={"model": "C9", "messages": MESSAGES}, headers=auth(member.key)
    )
    assert assert_openai_error(response, 404, "model_not_found")["param"] == "model"
    [event] = await events(runtime)
    assert event.model == "C9" and event.error_code == "model_not_found"


async def test_wrong_missing_and_expired_keys_are_401(
    client: httpx.AsyncClient, member: Member, runtime: Runtime
) -> None:
    body = {"model": "C1", "messages": MESSAGES}
    assert_openai_error(
        await client.post(CHAT, json=body, headers=auth("tg-nope")), 401, "invalid_api_key"
    )
    assert_openai_error(await client.post(CHAT, json=body), 401, "invalid_api_key")
    expired = await make_key(
        runtime, user_id=member.user.id, expires_at=utcnow() - timedelta(seconds=1)
    )
    response = await client.post(CHAT, json=body, headers=auth(expired.key))
    assert_openai_error(response, 401, "expired_api_key")
    # the unknown key has no owner to charge; the expired one is recorded against its owner
    [event] = await events(runtime)
    assert (event.user_id, event.key_id, event.status) == (member.user.id, expired.id, "rejected")


async def test_oversize_body_is_413(
    client: httpx.AsyncClient, member: Member, runtime: Runtime
) -> None:
    limit = runtime.settings.max_body_bytes
    big = {"model": "C1", "messages": [{"role": "user", "content": "x" * limit}]}
    response = await client.post(CHAT, json=big, headers=auth(member.key))
    assert_openai_error(response, 413, "body_too_large")


async def test_plan_that_does_not_allow_the_model_is_403(
    gateway_url: str, runtime: Runtime, upstream: RunningMock, member: Member
) -> None:
    await make_model(runtime, base_url=upstream.base_url, name="C2", upstream_model="column-c2")
    sdk = openai.AsyncOpenAI(base_url=f"{gateway_url}/v1", api_key=member.key, max_retries=0)
    with pytest.raises(openai.PermissionDeniedError) as raised:
        await sdk.chat.completions.create(model="C2", messages=MESSAGES)
    await sdk.close()
    assert raised.value.code == "model_not_allowed"
    assert "C2" in raised.value.message
    assert upstream.requests == []


@pytest.mark.parametrize(
    ("language", "text"),
    [(None, "더 이상 채팅을 사용할 수 없습니다"), ("en", "You can no longer use chat")],
)
async def test_blocked_user_gets_403_in_their_language(
    client: httpx.AsyncClient,
    member: Member,
    runtime: Runtime,
    upstream: RunningMock,
    language: str | None,
    text: str,
) -> None:
    async with transaction(runtime.sessions) as session:
        await tenancy.set_user_blocked(
            session=session, user_id=member.user.id, blocked=True, reason="95%"
        )
    headers = auth(member.key, **({"Accept-Language": language} if language else {}))
    response = await client.post(CHAT, json={"model": "C1", "messages": MESSAGES}, headers=headers)
    assert text in str(assert_openai_error(response, 403, "user_blocked")["message"])
    assert upstream.requests == []
    [event] = await events(runtime)
    assert (event.status, event.error_code) == ("rejected", "user_blocked")


async def test_provider_down_is_502(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_model(runtime, base_url="http://127.0.0.1:9/v1")
    member = await make_member(runtime)
    response = await client.post(
        CHAT, json={"model": "C1", "messages": MESSAGES}, headers=auth(member.key)
    )
    assert_openai_error(response, 502, "upstream_unavailable")
    [event] = await events(runtime)
    assert (event.status, event.input_tokens, event.estimated) == ("upstream_error", 0, False)


async def test_provider_error_status_is_relayed(
    client: httpx.AsyncClient, member: Member, upstream: RunningMock
) -> None:
    upstream.set_config(MockConfig(fail_status=503))
    response = await client.post(
        CHAT, json={"model": "C1", "messages": MESSAGES}, headers=auth(member.key)
    )
    assert_openai_error(response, 502, "upstream_status")
    upstream.set_config(MockConfig(fail_status=400))
    response = await client.post(
        CHAT, json={"model": "C1", "messages": MESSAGES}, headers=auth(member.key)
    )
    assert_openai_error(response, 400, "upstream_status")


async def test_provider_timeout_is_504_and_charges_the_estimated_prompt(
    client: httpx.AsyncClient, member: Member, upstream: RunningMock, runtime: Runtime
) -> None:
    upstream.set_config(MockConfig(hang=True))
    runtime.settings = runtime.settings.model_copy(update={"upstream_read_timeout": 0.3})
    response = await client.post(
        CHAT, json={"model": "C1", "messages": MESSAGES}, headers=auth(member.key)
    )
    assert_openai_error(response, 504, "upstream_timeout")
    [event] = await events(runtime)
    assert event.status == "timeout" and event.estimated and event.input_tokens > 0


async def test_stream_cut_midway_ends_with_an_error_event_and_an_estimate(
    gateway_url: str, member: Member, upstream: RunningMock, runtime: Runtime
) -> None:
    upstream.set_config(MockConfig(cut_after_chunks=5))
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{gateway_url}{CHAT}",
            json={"model": "C1", "messages": MESSAGES, "stream": True},
            headers=auth(member.key),
        ) as response,
    ):
        assert response.status == 200
        body = (await response.read()).decode()
    assert "[DONE]" not in body
    assert body.rstrip().splitlines()[-1].startswith('data: {"error"')
    assert "upstream_stream_cut" in body
    [event] = await events(runtime)
    assert (event.status, event.error_code, event.estimated) == (
        "upstream_error",
        "upstream_stream_cut",
        True,
    )
    assert event.output_tokens > 0 and event.input_tokens > 0


async def test_client_disconnect_midstream_is_charged_for_what_was_relayed(
    gateway_url: str, member: Member, upstream: RunningMock, runtime: Runtime
) -> None:
    upstream.set_config(MockConfig(tokens_per_second=50, completion_tokens=400))
    async with (
        aiohttp.ClientSession() as http,
        http.post(
            f"{gateway_url}{CHAT}",
            json={"model": "C1", "messages": MESSAGES, "stream": True},
            headers=auth(member.key),
        ) as response,
    ):
        received = 0
        async for _ in response.content.iter_any():
            received += 1
            if received >= 5:
                break
    for _ in range(100):
        if await events(runtime):
            break
        await asyncio.sleep(0.05)
    [event] = await events(runtime)
    assert (event.status, event.estimated) == ("cancelled", True)
    assert 0 < event.output_tokens < 400


async def test_refusals_are_typed_sdk_errors_without_retries(
    gateway_url: str, member: Member, runtime: Runtime, upstream: RunningMock
) -> None:
    async with transaction(runtime.sessions) as session:
        await tenancy.set_user_blocked(session=session, user_id=member.user.id, blocked=True)
    # the SDK's default retry policy: it must not retry a refusal
    sdk = openai.AsyncOpenAI(base_url=f"{gateway_url}/v1", api_key=member.key)
    with pytest.raises(openai.PermissionDeniedError) as refused:
        await sdk.chat.completions.create(model="C1", messages=MESSAGES)
    await sdk.close()
    assert refused.value.response.headers["x-should-retry"] == "false"
    assert len(await events(runtime)) == 1


async def test_tool_calls_round_trip_through_the_gateway(gateway_url: str, member: Member) -> None:
    sdk = openai.AsyncOpenAI(base_url=f"{gateway_url}/v1", api_key=member.key, max_retries=0)
    tools: list[ChatCompletionFunctionToolParam] = [
        {
            "type": "function",
            "function": {
                "name": "find_articles",
                "description": "Search the newspaper archive",
                "parameters": {"type": "object", "properties": {"query": {"type": "string"}}},
            },
        }
    ]
    completion = await sdk.chat.completions.create(
        model="C1",
        messages=MESSAGES,
        tools=tools,
        tool_choice="required",
    )
    await sdk.close()
    call = completion.choices[0].message.tool_calls
    assert completion.choices[0].finish_reason == "tool_calls" and call
    assert call[0].type == "function" and call[0].function.name == "find_articles"
