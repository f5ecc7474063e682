import asyncio
import time
from collections.abc import Callable

import aiohttp
import anthropic
import openai
import pytest

from tokengate.mockprovider import MockConfig, RunningMock
from tokengate.mockprovider.state import get_state

pytestmark = pytest.mark.asyncio(loop_scope="package")

CHAT = {"model": "c1", "messages": [{"role": "user", "content": "hi"}]}
MESSAGE = {"model": "c1", "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}


async def eventually(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("condition never became true")


async def test_wrong_key_is_401_in_each_shape(
    mock: RunningMock, http: aiohttp.ClientSession
) -> None:
    mock.set_config(MockConfig(api_key="secret"))
    async with http.post("/v1/chat/completions", json=CHAT) as response:
        assert response.status == 401
        error = (await response.json())["error"]
    assert error["code"] == "invalid_api_key"
    assert error["type"] == "invalid_request_error"
    headers = {"x-api-key": "wrong"}
    async with http.post("/v1/messages", json=MESSAGE, headers=headers) as response:
        assert response.status == 401
        assert (await response.json())["error"]["type"] == "authentication_error"
    async with http.get("/v1/models", headers={"authorization": "Bearer secret"}) as response:
        assert response.status == 200
    async with http.post("/v1/messages", json=MESSAGE, headers={"x-api-key": "secret"}) as response:
        assert response.status == 200


async def test_sdks_see_authentication_errors(mock: RunningMock) -> None:
    mock.set_config(MockConfig(api_key="secret"))
    async with openai.AsyncOpenAI(base_url=mock.base_url, api_key="nope", max_retries=0) as oai:
        with pytest.raises(openai.AuthenticationError):
            await oai.models.list()
    async with anthropic.AsyncAnthropic(
        base_url=mock.root_url, api_key="secret", max_retries=0
    ) as claude:
        message = await claude.messages.create(
            model="c1", max_tokens=3, messages=[{"role": "user", "content": "hi"}]
        )
    assert message.usage.output_tokens == 3


@pytest.mark.parametrize(
    ("status", "kind", "code"),
    [
        (429, "requests", "rate_limit_exceeded"),
        (500, "server_error", None),
        (503, "server_error", None),
        (502, "server_error", None),
        (418, "invalid_request_error", None),
    ],
)
async def test_fail_status_openai_shape(
    mock: RunningMock, http: aiohttp.ClientSession, status: int, kind: str, code: str | None
) -> None:
    mock.set_config(MockConfig(fail_status=status))
    async with http.post("/v1/chat/completions", json={**CHAT, "stream": True}) as response:
        assert response.status == status
        assert response.headers["content-type"] == "application/json"
        error = (await response.json())["error"]
    assert error["type"] == kind
    assert error["code"] == code
    assert error["message"]
    assert error["param"] is None


@pytest.mark.parametrize(
    ("status", "kind"),
    [(429, "rate_limit_error"), (529, "overloaded_error"), (500, "api_error"), (502, "api_error")],
)
async def test_fail_status_anthropic_shape(
    mock: RunningMock, http: aiohttp.ClientSession, status: int, kind: str
) -> None:
    mock.set_config(MockConfig(fail_status=status))
    async with http.post("/v1/messages", json=MESSAGE) as response:
        assert response.status == status
        payload = await response.json()
    assert payload["type"] == "error"
    assert payload["error"]["type"] == kind


async def test_sdks_map_scripted_failures(
    mock: RunningMock, oai: openai.AsyncOpenAI, claude: anthropic.AsyncAnthropic
) -> None:
    mock.set_config(MockConfig(fail_status=429))
    with pytest.raises(openai.RateLimitError):
        await oai.chat.completions.create(model="c1", messages=[{"role": "user", "content": "x"}])
    mock.set_config(MockConfig(fail_status=529))
    with pytest.raises(anthropic.OverloadedError):
        await claude.messages.create(
            model="c1", max_tokens=3, messages=[{"role": "user", "content": "x"}]
        )


async def test_malformed_json_is_400(http: aiohttp.ClientSession) -> None:
    async with http.post("/v1/chat/completions", data=b"{not json") as response:
        assert response.status == 400
        assert (await response.json())["error"]["type"] == "invalid_request_error"
    async with http.post("/v1/messages", data=b"[1, 2]") as response:
        assert response.status == 400
        payload = await response.json()
    assert payload["type"] == "error"
    assert payload["error"]["type"] == "invalid_request_error"


async def test_latency_delays_headers(mock: RunningMock, http: aiohttp.ClientSession) -> None:
    mock.set_config(MockConfig(latency_ms=60))
    started = time.monotonic()
    async with http.post("/v1/chat/completions", json=CHAT) as response:
        assert response.status == 200
    assert time.monotonic() - started >= 0.06


async def test_hang_times_out_without_blocking_others(
    mock: RunningMock, http: aiohttp.ClientSession
) -> None:
    mock.set_config(MockConfig(hang=True))
    state = get_state(mock.app)

    async def hung_call() -> None:
        timeout = aiohttp.ClientTimeout(total=0.15)
        async with http.post("/v1/chat/completions", json=CHAT, timeout=timeout):
            pass  # pragma: no cover

    hung = asyncio.create_task(hung_call())
    await eventually(lambda: len(state.hanging) == 1)
    async with http.get("/_mock/config") as response:
        assert response.status == 200
    mock.set_config(MockConfig())
    async with http.post("/v1/chat/completions", json=CHAT) as response:
        assert response.status == 200
    with pytest.raises(TimeoutError):
        await hung
    await eventually(lambda: not state.hanging)


async def test_hang_gives_sdk_timeout(mock: RunningMock) -> None:
    mock.set_config(MockConfig(hang=True))
    async with openai.AsyncOpenAI(
        base_url=mock.base_url, api_key="k", max_retries=0, timeout=0.1
    ) as oai:
        with pytest.raises(openai.APITimeoutError):
            await oai.chat.completions.create(
                model="c1", messages=[{"role": "user", "content": "x"}]
            )


async def test_requests_are_recorded(mock: RunningMock, http: aiohttp.ClientSession) -> None:
    headers = {"Authorization": "Bearer abc", "X-Custom": "1"}
    async with http.post("/v1/chat/completions", json=CHAT, headers=headers) as response:
        assert response.headers["x-request-id"].startswith("req_")
    async with http.post("/v1/messages", data=b"oops") as response:
        assert response.headers["request-id"].startswith("req_")
    first, second = mock.requests
    assert (first.method, first.path, first.body) == ("POST", "/v1/chat/completions", CHAT)
    assert first.headers["authorization"] == "Bearer abc"
    assert first.headers["x-custom"] == "1"
    assert (second.path, second.body) == ("/v1/messages", None)


async def test_recording_is_bounded_and_optional(
    mock: RunningMock, http: aiohttp.ClientSession
) -> None:
    for _ in range(102):
        async with http.get("/v1/models") as response:
            assert response.status == 200
    assert len(mock.requests) == 100
    mock.clear_requests()
    mock.set_config(MockConfig(record_requests=False))
    async with http.get("/v1/models") as response:
        assert response.status == 200
    assert mock.requests == []


async def test_azure_layout_needs_an_api_version_and_takes_api_key(mock: RunningMock) -> None:
    mock.set_config(MockConfig(api_key="azure-key"))
    url = f"{mock.root_url}/openai/deployments/prod/chat/completions"
    body = {"model": "prod", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 3}
    async with aiohttp.ClientSession() as http:
        async with http.post(url, json=body, headers={"api-key": "azure-key"}) as missing:
            assert missing.status == 400
            assert "api-version" in (await missing.json())["error"]["message"]
        async with http.post(
            url, params={"api-version": "2024-10-21"}, json=body, headers={"api-key": "azure-key"}
        ) as answered:
            assert answered.status == 200
            assert (await answered.json())["usage"]["completion_tokens"] == 3
        async with http.post(
            url, params={"api-version": "2024-10-21"}, json=body, headers={"api-key": "wrong"}
        ) as refused:
            assert refused.status == 401
