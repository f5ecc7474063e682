import openai
import pytest

from tests.translate import sdk
from tokengate.translate import AnthropicToOpenAIStream, JsonObject, StreamUsage

CREATED = 1_760_000_000
MESSAGE_ID = "msg_01Xy8nfVHK8sVBBtBGVm7Zqq"
Event = tuple[str, JsonObject]


def message_start(*, input_tokens: int = 25, cache_read: int = 0) -> Event:
    message: JsonObject = {
        "id": MESSAGE_ID,
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {
            "input_tokens": input_tokens,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": cache_read,
            "output_tokens": 1,
            "service_tier": "standard",
        },
    }
    return "message_start", {"type": "message_start", "message": message}


def block_start(index: int, block: JsonObject) -> Event:
    return "content_block_start", {
        "type": "content_block_start",
        "index": index,
        "content_block": block,
    }


def block_delta(index: int, delta: JsonObject) -> Event:
    return "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}


def text_delta(index: int, text: str) -> Event:
    return block_delta(index, {"type": "text_delta", "text": text})


def json_delta(index: int, partial: str) -> Event:
    return block_delta(index, {"type": "input_json_delta", "partial_json": partial})


def block_stop(index: int) -> Event:
    return "content_block_stop", {"type": "content_block_stop", "index": index}


def message_delta(stop_reason: str, output_tokens: int, **usage: int) -> Event:
    return "message_delta", {
        "type": "message_delta",
        "delta": {"stop_reason": stop_reason, "stop_sequence": None},
        "usage": {"output_tokens": output_tokens, **usage},
    }


PING: Event = ("ping", {"type": "ping"})
MESSAGE_STOP: Event = ("message_stop", {"type": "message_stop"})

TEXT_EVENTS: list[Event] = [
    message_start(input_tokens=25, cache_read=100),
    block_start(0, {"type": "text", "text": ""}),
    PING,
    text_delta(0, "Hello"),
    text_delta(0, ", world!"),
    block_stop(0),
    message_delta("end_turn", 15),
    MESSAGE_STOP,
]

TOOL_EVENTS: list[Event] = [
    message_start(input_tokens=472),
    block_start(0, {"type": "thinking", "thinking": "", "signature": ""}),
    block_delta(0, {"type": "thinking_delta", "thinking": "Weather first."}),
    block_delta(0, {"type": "signature_delta", "signature": "EqQBCgIYAhIM"}),
    block_stop(0),
    block_start(1, {"type": "text", "text": ""}),
    text_delta(1, "Okay, checking."),
    block_stop(1),
    block_start(2, {"type": "tool_use", "id": "toolu_01T1x", "name": "get_weather", "input": {}}),
    json_delta(2, ""),
    json_delta(2, '{"location":'),
    json_delta(2, ' "San Francisco, CA"}'),
    block_stop(2),
    block_start(3, {"type": "tool_use", "id": "toolu_01T2y", "name": "get_time", "input": {}}),
    block_stop(3),
    message_delta("tool_use", 89),
    MESSAGE_STOP,
]


def translate(events: list[Event], *, include_usage: bool = True) -> list[JsonObject]:
    stream = AnthropicToOpenAIStream(model="smart", include_usage=include_usage, created=CREATED)
    chunks: list[JsonObject] = []
    for event, data in events:
        # the SDK's event union leaves out ping, which carries nothing
        if event != "ping":
            sdk.anthropic_event(event, data)
        chunks.extend(stream.feed(event, data))
    assert stream.finished
    for chunk in chunks:
        if "error" not in chunk:
            sdk.openai_chunk(chunk)
    return chunks


def chunk(delta: JsonObject, finish_reason: str | None = None, **extra: object) -> JsonObject:
    choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
    return {
        "id": MESSAGE_ID,
        "object": "chat.completion.chunk",
        "created": CREATED,
        "model": "smart",
        "choices": [choice],
        **extra,
    }


def test_text_stream() -> None:
    chunks = translate(TEXT_EVENTS)
    assert chunks == [
        chunk({"role": "assistant", "content": ""}, usage=None),
        chunk({"content": "Hello"}, usage=None),
        chunk({"content": ", world!"}, usage=None),
        chunk({}, "stop", usage=None),
        {
            "id": MESSAGE_ID,
            "object": "chat.completion.chunk",
            "created": CREATED,
            "model": "smart",
            "choices": [],
            "usage": {
                "prompt_tokens": 125,
                "completion_tokens": 15,
                "total_tokens": 140,
                "prompt_tokens_details": {"cached_tokens": 100, "cache_write_tokens": 0},
            },
        },
    ]


def test_text_stream_read_by_the_openai_sdk() -> None:
    client = sdk.openai_client_reading(translate(TEXT_EVENTS))
    with client.chat.completions.stream(model="smart", messages=[]) as stream:
        completion = stream.get_final_completion()
    assert completion.choices[0].message.content == "Hello, world!"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 125


def test_tool_stream() -> None:
    chunks = translate(TOOL_EVENTS, include_usage=False)
    assert chunks == [
        chunk({"role": "assistant", "content": ""}),
        chunk({"content": "Okay, checking."}),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 0,
                        "id": "toolu_01T1x",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": ""},
                    }
                ]
            }
        ),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": '{"location":'}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": ' "San Francisco, CA"}'}}]}),
        chunk(
            {
                "tool_calls": [
                    {
                        "index": 1,
                        "id": "toolu_01T2y",
                        "type": "function",
                        "function": {"name": "get_time", "arguments": ""},
                    }
                ]
            }
        ),
        # a call that streamed no arguments still needs valid JSON
        chunk({"tool_calls": [{"index": 1, "function": {"arguments": "{}"}}]}),
        chunk({}, "tool_calls"),
    ]


def test_tool_stream_read_by_the_openai_sdk() -> None:
    client = sdk.openai_client_reading(translate(TOOL_EVENTS))
    with client.chat.completions.stream(model="smart", messages=[]) as stream:
        completion = stream.get_final_completion()
    message = completion.choices[0].message
    assert message.content == "Okay, checking."
    assert message.tool_calls is not None
    calls = [(call.id, call.function.name, call.function.arguments) for call in message.tool_calls]
    assert calls == [
        ("toolu_01T1x", "get_weather", '{"location": "San Francisco, CA"}'),
        ("toolu_01T2y", "get_time", "{}"),
    ]
    assert completion.choices[0].finish_reason == "tool_calls"


def test_tool_input_already_in_block_start_is_sent_whole() -> None:
    events = [
        message_start(),
        block_start(0, {"type": "tool_use", "id": "t", "name": "f", "input": {"a": 1}}),
        block_stop(0),
        message_delta("tool_use", 5),
        MESSAGE_STOP,
    ]
    chunks = translate(events, include_usage=False)
    arguments = [
        call["function"]["arguments"]
        for c in chunks
        for call in c["choices"][0]["delta"].get("tool_calls", [])
    ]
    assert arguments == ["", '{"a":1}']


def test_error_mid_stream() -> None:
    error: Event = (
        "error",
        {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}},
    )
    stream = AnthropicToOpenAIStream(model="smart", include_usage=True, created=CREATED)
    chunks: list[JsonObject] = []
    for event, data in [*TEXT_EVENTS[:4], error]:
        chunks.extend(stream.feed(event, data))
    assert chunks[-1] == {
        "error": {"message": "Overloaded", "type": "overloaded_error", "param": None, "code": None}
    }
    assert stream.finished
    assert stream.feed(*TEXT_EVENTS[4]) == []
    assert stream.usage == StreamUsage(input_tokens=125, output_tokens=1, cached_tokens=100)
    client = sdk.openai_client_reading(chunks)
    with pytest.raises(openai.APIError, match="Overloaded"):
        list(client.chat.completions.create(model="smart", messages=[], stream=True))


def test_malformed_error_event_still_ends_the_stream() -> None:
    stream = AnthropicToOpenAIStream(model="smart", include_usage=False)
    assert stream.feed("error", {"type": "error"}) == [
        {
            "error": {
                "message": "upstream stream error",
                "type": "api_error",
                "param": None,
                "code": None,
            }
        }
    ]
    assert stream.finished


def test_max_tokens_stop() -> None:
    events = [*TEXT_EVENTS[:5], block_stop(0), message_delta("max_tokens", 2), MESSAGE_STOP]
    chunks = translate(events, include_usage=False)
    assert chunks[-1] == chunk({}, "length")
    assert all("usage" not in c for c in chunks)


def test_usage_follows_message_delta_totals() -> None:
    stream = AnthropicToOpenAIStream(model="smart", include_usage=False)
    assert stream.usage == (0, 0, 0)
    stream.feed(*message_start(input_tokens=10, cache_read=90))
    assert stream.usage == StreamUsage(input_tokens=100, output_tokens=1, cached_tokens=90)
    # message_delta counts are running totals, and may restate the input
    stream.feed(*message_delta("end_turn", 40, input_tokens=12))
    assert stream.usage == StreamUsage(input_tokens=102, output_tokens=40, cached_tokens=90)


def test_stop_without_message_delta_still_finishes_the_choice() -> None:
    chunks = translate([message_start(), text_delta(0, "Hi"), MESSAGE_STOP], include_usage=False)
    assert chunks[-1] == chunk({}, "stop")


def test_unknown_and_malformed_events_are_skipped() -> None:
    stream = AnthropicToOpenAIStream(model="smart", include_usage=False, created=CREATED)
    assert stream.feed("future_event", {"type": "future_event"}) == []
    assert stream.feed("message_start", {"type": "message_start", "message": None}) == [
        {**chunk({"role": "assistant", "content": ""}), "id": ""}
    ]
    stream = AnthropicToOpenAIStream(model="smart", include_usage=False, created=CREATED)
    stream.feed(*message_start())
    assert stream.feed("content_block_start", {"type": "content_block_start"}) == []
    assert stream.feed("content_block_delta", {"type": "content_block_delta"}) == []
    # deltas of blocks that were never started as tool calls are not tool arguments
    assert stream.feed(*json_delta(5, '{"x": 1}')) == []
    assert stream.feed(*block_start(0, {"type": "text", "text": "Pre"})) == [
        chunk({"content": "Pre"})
    ]
    # with no SSE event name, the data's own type is used
    assert stream.feed("", text_delta(0, "fix")[1]) == [chunk({"content": "fix"})]
