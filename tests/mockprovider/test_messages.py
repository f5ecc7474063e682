import aiohttp
import anthropic
import orjson
import pytest
from anthropic.types import MessageParam, TextBlock, TextBlockParam

from tokengate.mockprovider import MockConfig, RunningMock, count_tokens

pytestmark = pytest.mark.asyncio(loop_scope="package")

PROMPT = "오늘의 칼럼을 써 주세요."
MESSAGES: list[MessageParam] = [{"role": "user", "content": PROMPT}]


def text_of(message: anthropic.types.Message) -> str:
    block = message.content[0]
    assert isinstance(block, TextBlock)
    return block.text


def parse_events(raw: bytes) -> list[tuple[str, dict[str, object]]]:
    assert raw.endswith(b"\n\n")
    events = []
    for frame in raw[:-2].split(b"\n\n"):
        event_line, data_line = frame.split(b"\n")
        assert event_line.startswith(b"event: ")
        assert data_line.startswith(b"data: ")
        data = orjson.loads(data_line.removeprefix(b"data: "))
        assert data["type"] == event_line.removeprefix(b"event: ").decode()
        events.append((data["type"], data))
    return events


async def test_message_via_sdk(claude: anthropic.AsyncAnthropic) -> None:
    message = await claude.messages.create(
        model="claude-sonnet-5", max_tokens=1024, messages=MESSAGES
    )
    assert message.id.startswith("msg_")
    assert message.type == "message"
    assert message.role == "assistant"
    assert message.model == "claude-sonnet-5"
    assert message.stop_reason == "end_turn"
    assert message.stop_sequence is None
    assert count_tokens(text_of(message)) == 40
    assert "가" <= text_of(message)[0] <= "힣"
    assert message.usage.output_tokens == 40
    assert message.usage.input_tokens > 5


async def test_max_tokens_stop_reason(claude: anthropic.AsyncAnthropic) -> None:
    message = await claude.messages.create(model="c1", max_tokens=6, messages=MESSAGES)
    assert message.stop_reason == "max_tokens"
    assert message.usage.output_tokens == 6
    assert count_tokens(text_of(message)) == 6


async def test_system_string_and_blocks_count_alike(claude: anthropic.AsyncAnthropic) -> None:
    plain = await claude.messages.create(
        model="c1", max_tokens=5, system="칼럼니스트처럼 써라", messages=MESSAGES
    )
    content: list[TextBlockParam] = [{"type": "text", "text": PROMPT}]
    blocks = await claude.messages.create(
        model="c1",
        max_tokens=5,
        system=[{"type": "text", "text": "칼럼니스트처럼 써라"}],
        messages=[{"role": "user", "content": content}],
    )
    bare = await claude.messages.create(model="c1", max_tokens=5, messages=MESSAGES)
    assert plain.usage.input_tokens > bare.usage.input_tokens
    assert abs(plain.usage.input_tokens - blocks.usage.input_tokens) <= 3


async def test_stream_helper_matches_json(claude: anthropic.AsyncAnthropic) -> None:
    whole = await claude.messages.create(model="c7", max_tokens=15, messages=MESSAGES)
    async with claude.messages.stream(model="c7", max_tokens=15, messages=MESSAGES) as stream:
        streamed = "".join([text async for text in stream.text_stream])
        final = await stream.get_final_message()
    assert streamed == text_of(whole)
    assert text_of(final) == streamed
    assert final.stop_reason == "max_tokens"
    assert final.usage.output_tokens == 15
    assert final.usage.input_tokens == whole.usage.input_tokens


async def test_stream_wire_sequence(mock: RunningMock, http: aiohttp.ClientSession) -> None:
    mock.set_config(MockConfig(completion_tokens=4, chunk_tokens=3))
    body = {"model": "c1", "max_tokens": 100, "messages": MESSAGES, "stream": True}
    async with http.post("/v1/messages", json=body) as response:
        assert response.status == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert "request-id" in response.headers
        events = parse_events(await response.read())
    assert [kind for kind, _ in events] == [
        "message_start",
        "content_block_start",
        "ping",
        "content_block_delta",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
    ]
    start = events[0][1]["message"]
    assert isinstance(start, dict)
    assert start["content"] == []
    assert start["stop_reason"] is None
    assert start["usage"]["output_tokens"] == 1
    delta = events[6][1]
    assert delta["delta"] == {"stop_reason": "end_turn", "stop_sequence": None}
    assert delta["usage"] == {"output_tokens": 4}


@pytest.mark.parametrize(
    "body",
    [
        {"model": "c1", "messages": MESSAGES},
        {"model": "c1", "max_tokens": 10},
        {"model": "c1", "max_tokens": 10, "messages": [{"role": "tool", "content": "x"}]},
        {"model": "c1", "max_tokens": 10, "messages": MESSAGES, "system": 3},
        {"max_tokens": 10, "messages": MESSAGES},
    ],
)
async def test_invalid_body_is_400(http: aiohttp.ClientSession, body: dict[str, object]) -> None:
    async with http.post("/v1/messages", json=body) as response:
        assert response.status == 400
        payload = await response.json()
    assert payload["type"] == "error"
    assert payload["error"]["type"] == "invalid_request_error"
    assert set(payload["error"]) == {"type", "message"}
