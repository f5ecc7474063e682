import aiohttp
import openai
import orjson
import pytest
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionFunctionToolParam,
    ChatCompletionMessageFunctionToolCall,
    ChatCompletionMessageParam,
    ChatCompletionToolChoiceOptionParam,
)

from tokengate.mockprovider import MockConfig, RunningMock, count_tokens

pytestmark = pytest.mark.asyncio(loop_scope="package")

MESSAGES: list[ChatCompletionMessageParam] = [
    {"role": "system", "content": "You are a columnist."},
    {"role": "user", "content": "경제 칼럼을 한 편 써 주세요."},
]
WEATHER_TOOL: ChatCompletionFunctionToolParam = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {
                "city": {"type": "string"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
                "days": {"type": "integer"},
            },
        },
    },
}


def function_call(completion: ChatCompletion) -> ChatCompletionMessageFunctionToolCall:
    calls = completion.choices[0].message.tool_calls
    assert calls is not None
    assert len(calls) == 1
    assert isinstance(calls[0], ChatCompletionMessageFunctionToolCall)
    return calls[0]


def parse_sse(raw: bytes) -> list[bytes]:
    assert raw.endswith(b"\n\n")
    events = raw[:-2].split(b"\n\n")
    assert all(event.startswith(b"data: ") for event in events)
    return [event.removeprefix(b"data: ") for event in events]


async def test_chat_completion_via_sdk(oai: openai.AsyncOpenAI) -> None:
    completion = await oai.chat.completions.create(model="c1", messages=MESSAGES)
    assert completion.object == "chat.completion"
    assert completion.id.startswith("chatcmpl-")
    assert completion.model == "c1"
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert choice.message.role == "assistant"
    text = choice.message.content or ""
    assert count_tokens(text) == 40
    assert sum("가" <= char <= "힣" for char in text) > 20
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 40
    assert completion.usage.prompt_tokens > 10
    assert completion.usage.total_tokens == completion.usage.prompt_tokens + 40


async def test_english_for_gpt_models(oai: openai.AsyncOpenAI) -> None:
    completion = await oai.chat.completions.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": "Write a column."}]
    )
    text = completion.choices[0].message.content or ""
    assert text.isascii()
    assert text[0].isupper()


async def test_same_request_same_answer(oai: openai.AsyncOpenAI) -> None:
    first = await oai.chat.completions.create(model="c2", messages=MESSAGES)
    second = await oai.chat.completions.create(model="c2", messages=MESSAGES)
    other = await oai.chat.completions.create(
        model="c2", messages=[{"role": "user", "content": "다른 질문"}]
    )
    assert first.choices[0].message.content == second.choices[0].message.content
    assert first.choices[0].message.content != other.choices[0].message.content


async def test_max_tokens_caps_with_length(oai: openai.AsyncOpenAI) -> None:
    completion = await oai.chat.completions.create(
        model="c1",
        messages=MESSAGES,
        max_completion_tokens=7,
    )
    assert completion.choices[0].finish_reason == "length"
    assert completion.usage is not None
    assert completion.usage.completion_tokens == 7
    assert count_tokens(completion.choices[0].message.content or "") == 7


async def test_stream_matches_json_answer(oai: openai.AsyncOpenAI) -> None:
    whole = await oai.chat.completions.create(model="c7", messages=MESSAGES, max_tokens=12)
    stream = await oai.chat.completions.create(
        model="c7",
        messages=MESSAGES,
        max_tokens=12,
        stream=True,
        stream_options={"include_usage": True},
    )
    parts, usage, finish = [], None, None
    async for chunk in stream:
        assert chunk.object == "chat.completion.chunk"
        if chunk.usage is not None:
            assert chunk.choices == []
            usage = chunk.usage
        for choice in chunk.choices:
            parts.append(choice.delta.content or "")
            finish = choice.finish_reason or finish
    assert "".join(parts) == whole.choices[0].message.content
    assert finish == "length"
    assert usage is not None
    assert whole.usage is not None
    assert usage.model_dump() == whole.usage.model_dump()


async def test_stream_helper_of_sdk(oai: openai.AsyncOpenAI) -> None:
    async with oai.chat.completions.stream(
        model="gpt-4o",
        messages=MESSAGES,
        stream_options={"include_usage": True},
    ) as stream:
        final = await stream.get_final_completion()
    assert count_tokens(final.choices[0].message.content or "") == 40
    assert final.usage is not None
    assert final.usage.completion_tokens == 40


async def test_stream_wire_format(mock: RunningMock, http: aiohttp.ClientSession) -> None:
    mock.set_config(MockConfig(completion_tokens=5, chunk_tokens=2))
    body = {"model": "c1", "messages": MESSAGES, "stream": True}
    async with http.post("/v1/chat/completions", json=body) as response:
        assert response.status == 200
        assert response.headers["content-type"] == "text/event-stream; charset=utf-8"
        assert response.headers["transfer-encoding"] == "chunked"
        events = parse_sse(await response.read())
    assert events[-1] == b"[DONE]"
    chunks = [orjson.loads(event) for event in events[:-1]]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    contents = [chunk["choices"][0]["delta"]["content"] for chunk in chunks[1:-1]]
    assert [count_tokens(text) for text in contents] == [2, 2, 1]
    assert chunks[-1]["choices"][0] == {
        "index": 0,
        "delta": {},
        "logprobs": None,
        "finish_reason": "stop",
    }
    assert all("usage" not in chunk for chunk in chunks)
    assert len({chunk["id"] for chunk in chunks}) == 1


async def test_usage_chunk_only_when_asked(http: aiohttp.ClientSession) -> None:
    body = {"model": "c1", "messages": MESSAGES, "stream": True}
    body["stream_options"] = {"include_usage": True}
    async with http.post("/v1/chat/completions", json=body) as response:
        events = parse_sse(await response.read())
    chunks = [orjson.loads(event) for event in events[:-1]]
    assert all(chunk["usage"] is None for chunk in chunks[:-1])
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"]["completion_tokens"] == 40


async def test_tool_call_when_required(oai: openai.AsyncOpenAI) -> None:
    completion = await oai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "How warm is Seoul?"}],
        tools=[WEATHER_TOOL],
        tool_choice="required",
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert choice.message.content is None
    call = function_call(completion)
    assert call.type == "function"
    assert call.id.startswith("call_")
    assert call.function.name == "get_weather"
    arguments = orjson.loads(call.function.arguments)
    assert arguments == {"city": "example", "unit": "celsius", "days": 1}
    assert completion.usage is not None
    assert completion.usage.completion_tokens == count_tokens("get_weather") + count_tokens(
        call.function.arguments
    )


async def test_tool_call_streamed(oai: openai.AsyncOpenAI) -> None:
    async with oai.chat.completions.stream(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Use get_weather for Seoul"}],
        tools=[WEATHER_TOOL],
    ) as stream:
        final = await stream.get_final_completion()
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = function_call(final)
    assert call.function.name == "get_weather"
    assert orjson.loads(call.function.arguments)["unit"] == "celsius"


@pytest.mark.parametrize(
    ("tool_choice", "content"),
    [("none", "Use get_weather"), ("auto", "Hello there"), (None, "Hello there")],
)
async def test_text_when_no_tool_is_asked_for(
    oai: openai.AsyncOpenAI, tool_choice: ChatCompletionToolChoiceOptionParam | None, content: str
) -> None:
    completion = await oai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": content}],
        tools=[WEATHER_TOOL],
        tool_choice=openai.omit if tool_choice is None else tool_choice,
    )
    assert completion.choices[0].finish_reason == "stop"
    assert completion.choices[0].message.tool_calls is None


async def test_named_tool_choice(oai: openai.AsyncOpenAI) -> None:
    other: ChatCompletionFunctionToolParam = {"type": "function", "function": {"name": "noop"}}
    completion = await oai.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "hi"}],
        tools=[other, WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    assert function_call(completion).function.name == "get_weather"
    with pytest.raises(openai.BadRequestError) as caught:
        await oai.chat.completions.create(
            model="gpt-4o",
            messages=[{"role": "user", "content": "hi"}],
            tools=[other],
            tool_choice={"type": "function", "function": {"name": "missing"}},
        )
    assert caught.value.param == "tool_choice"


async def test_no_tool_call_after_tool_result(oai: openai.AsyncOpenAI) -> None:
    completion = await oai.chat.completions.create(
        model="gpt-4o",
        messages=[
            {"role": "user", "content": "get_weather please"},
            {"role": "tool", "tool_call_id": "call_1", "content": "20 degrees"},
        ],
        tools=[WEATHER_TOOL],
    )
    assert completion.choices[0].finish_reason == "stop"


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"messages": MESSAGES}, "model"),
        ({"model": "c1"}, "messages"),
        ({"model": "c1", "messages": []}, "messages"),
        ({"model": "c1", "messages": [{"content": "no role"}]}, "messages"),
        ({"model": "c1", "messages": MESSAGES, "max_tokens": 0}, "max_tokens"),
        ({"model": "c1", "messages": MESSAGES, "max_tokens": True}, "max_tokens"),
        ({"model": "c1", "messages": MESSAGES, "stream": "yes"}, "stream"),
        ({"model": "c1", "messages": MESSAGES, "stream_options": []}, "stream_options"),
    ],
)
async def test_invalid_body_is_400(
    http: aiohttp.ClientSession, body: dict[str, object], param: str
) -> None:
    async with http.post("/v1/chat/completions", json=body) as response:
        assert response.status == 400
        error = (await response.json())["error"]
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param
    assert set(error) == {"message", "type", "param", "code"}
