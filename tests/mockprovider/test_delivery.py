import time

import aiohttp
import openai
import orjson
import pytest

from tokengate.mockprovider import MockConfig, RunningMock, count_tokens

pytestmark = pytest.mark.asyncio(loop_scope="package")

CHAT = {"model": "c1", "messages": [{"role": "user", "content": "hi"}]}
STREAM_CHAT = {**CHAT, "stream": True, "stream_options": {"include_usage": True}}
MESSAGE = {"model": "c1", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}


async def post_raw(http: aiohttp.ClientSession, path: str, body: object) -> bytes:
    async with http.post(path, json=body) as response:
        assert response.status == 200
        return await response.read()


async def test_paced_stream_sends_chunks_over_time(
    mock: RunningMock, http: aiohttp.ClientSession
) -> None:
    mock.set_config(MockConfig(ttft_ms=40, tokens_per_second=200, completion_tokens=10))
    started = time.monotonic()
    arrivals = []
    async with http.post("/v1/chat/completions", json=STREAM_CHAT) as response:
        async for _ in response.content.iter_any():
            arrivals.append(time.monotonic() - started)
    assert arrivals[0] >= 0.04
    # Nine gaps of one token at 200 tokens/s after the first content chunk.
    assert arrivals[-1] - arrivals[0] >= 0.04
    assert len(arrivals) >= 3


async def test_paced_json_answer_waits_for_generation(
    mock: RunningMock, http: aiohttp.ClientSession
) -> None:
    mock.set_config(MockConfig(ttft_ms=20, tokens_per_second=500, completion_tokens=20))
    started = time.monotonic()
    await post_raw(http, "/v1/chat/completions", CHAT)
    assert time.monotonic() - started >= 0.02 + 20 / 500


@pytest.mark.parametrize("paced", [False, True])
async def test_cut_chat_stream_has_no_end(
    mock: RunningMock, http: aiohttp.ClientSession, paced: bool
) -> None:
    rate = 5000 if paced else 0
    mock.set_config(MockConfig(cut_after_chunks=3, tokens_per_second=rate))
    raw = await post_raw(http, "/v1/chat/completions", STREAM_CHAT)
    assert raw.endswith(b"\n\n")
    assert b"[DONE]" not in raw
    chunks = [orjson.loads(event.removeprefix(b"data: ")) for event in raw[:-2].split(b"\n\n")]
    assert len(chunks) == 1 + 3
    assert all(chunk["choices"][0]["finish_reason"] is None for chunk in chunks)
    assert all(chunk["usage"] is None for chunk in chunks)


async def test_cut_stream_seen_through_sdk(mock: RunningMock, oai: openai.AsyncOpenAI) -> None:
    mock.set_config(MockConfig(cut_after_chunks=5))
    stream = await oai.chat.completions.create(
        model="c1",
        messages=[{"role": "user", "content": "hi"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = [chunk async for chunk in stream]
    text = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert count_tokens(text) == 5
    assert all(chunk.usage is None for chunk in chunks)


async def test_cut_anthropic_stream_has_no_stop(
    mock: RunningMock, http: aiohttp.ClientSession
) -> None:
    mock.set_config(MockConfig(cut_after_chunks=2))
    raw = await post_raw(http, "/v1/messages", {**MESSAGE, "stream": True})
    assert raw.count(b"event: content_block_delta") == 2
    assert b"message_delta" not in raw
    assert b"message_stop" not in raw
    assert b"content_block_stop" not in raw


async def test_cut_beyond_the_answer_changes_nothing(
    mock: RunningMock, http: aiohttp.ClientSession
) -> None:
    mock.set_config(MockConfig(cut_after_chunks=1000))
    raw = await post_raw(http, "/v1/chat/completions", STREAM_CHAT)
    assert raw.endswith(b"data: [DONE]\n\n")


async def test_omit_usage_everywhere(mock: RunningMock, http: aiohttp.ClientSession) -> None:
    mock.set_config(MockConfig(omit_usage=True))
    assert b"usage" not in await post_raw(http, "/v1/chat/completions", CHAT)
    streamed = await post_raw(http, "/v1/chat/completions", STREAM_CHAT)
    assert b"usage" not in streamed
    assert streamed.endswith(b"data: [DONE]\n\n")
    completion = {
        "model": "m",
        "prompt": "x",
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    assert b"usage" not in await post_raw(http, "/v1/completions", completion)
    assert b"usage" not in await post_raw(http, "/v1/completions", {"model": "m", "prompt": "x"})
    assert b"usage" not in await post_raw(http, "/v1/embeddings", {"model": "e", "input": "x"})
    assert b"usage" not in await post_raw(http, "/v1/messages", MESSAGE)
    streamed = await post_raw(http, "/v1/messages", {**MESSAGE, "stream": True})
    assert b"usage" not in streamed
    assert streamed.endswith(b'event: message_stop\ndata: {"type":"message_stop"}\n\n')


async def test_client_leaving_a_paced_stream(
    mock: RunningMock, http: aiohttp.ClientSession
) -> None:
    mock.set_config(MockConfig(tokens_per_second=50, completion_tokens=500))
    async with http.post("/v1/messages", json={**MESSAGE, "max_tokens": 1000, "stream": True}) as r:
        first = await r.content.readuntil(b"\n\n")
        assert first.startswith(b"event: message_start")
    mock.set_config(MockConfig())
    assert (await post_raw(http, "/v1/messages", MESSAGE)).startswith(b"{")
