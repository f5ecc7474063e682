import anthropic
import pytest
from anthropic.types import Message, ToolUseBlock

from tests.translate import sdk
from tokengate.translate import JsonObject, OpenAIToAnthropicStream, StreamUsage

CHUNK_ID = "chatcmpl-AZ1vH8lLXoGkQ3xYp"
Event = tuple[str, JsonObject]

USAGE: JsonObject = {
    "prompt_tokens": 1200,
    "completion_tokens": 31,
    "total_tokens": 1231,
    "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
    "completion_tokens_details": {"reasoning_tokens": 0, "audio_tokens": 0},
}


def chunk(delta: JsonObject | None, finish_reason: str | None = None) -> JsonObject:
    """One recorded-style OpenAI chunk, as gpt-4o sends them with include_usage."""
    choices = (
        []
        if delta is None
        else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
    )
    return {
        "id": CHUNK_ID,
        "object": "chat.completion.chunk",
        "created": 1_760_000_000,
        "model": "gpt-4o-2024-08-06",
        "system_fingerprint": "fp_f33640a400",
        "choices": choices,
        "usage": None,
    }


def usage_chunk(usage: JsonObject = USAGE) -> JsonObject:
    return {**chunk(None), "usage": usage}


def call_delta(
    index: int, *, call_id: str | None = None, name: str | None = None, arguments: str = ""
) -> JsonObject:
    call: JsonObject = {"index": index, "function": {"arguments": arguments}}
    if call_id is not None:
        call["id"] = call_id
        call["type"] = "function"
        call["function"]["name"] = name
    return {"tool_calls": [call]}


TEXT_CHUNKS = [
    chunk({"role": "assistant", "content": "", "refusal": None}),
    chunk({"content": "Hello"}),
    chunk({"content": ", world!"}),
    chunk({}, "stop"),
    usage_chunk(),
]

TOOL_CHUNKS = [
    chunk({"role": "assistant", "content": None, "refusal": None}),
    chunk({"content": "Checking."}),
    chunk(call_delta(0, call_id="call_abc", name="get_weather")),
    chunk(call_delta(0, arguments='{"ci')),
    chunk(call_delta(0, arguments='ty": "Paris"}')),
    chunk(call_delta(1, call_id="call_def", name="get_time")),
    chunk({}, "tool_calls"),
    usage_chunk(),
]


def translate(
    chunks: list[JsonObject], *, finish: bool = True, standard: bool = True
) -> list[Event]:
    stream = OpenAIToAnthropicStream(model="smart")
    events: list[Event] = []
    for item in chunks:
        if standard and "error" not in item:
            sdk.openai_chunk(item)
        events.extend(stream.feed(item))
    if finish:
        events.extend(stream.finish())
        assert stream.finish() == []
    for event, data in events:
        sdk.anthropic_event(event, data)
    return events


def block_delta(index: int, delta: JsonObject) -> Event:
    return "content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}


def block_stop(index: int) -> Event:
    return "content_block_stop", {"type": "content_block_stop", "index": index}


def message_start() -> Event:
    message: JsonObject = {
        "id": CHUNK_ID,
        "type": "message",
        "role": "assistant",
        "model": "smart",
        "content": [],
        "stop_reason": None,
        "stop_sequence": None,
        "usage": {"input_tokens": 0, "output_tokens": 0},
    }
    return "message_start", {"type": "message_start", "message": message}


def ending(stop_reason: str, usage: JsonObject) -> list[Event]:
    delta = {"stop_reason": stop_reason, "stop_sequence": None}
    return [
        ("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}),
        ("message_stop", {"type": "message_stop"}),
    ]


ANTHROPIC_USAGE = {
    "input_tokens": 176,
    "cache_creation_input_tokens": 0,
    "cache_read_input_tokens": 1024,
    "output_tokens": 31,
}


def blocks(message: Message) -> list[JsonObject]:
    """The content the SDK accumulated, without its own empty extras."""
    return [block.model_dump(exclude_none=True) for block in message.content]


def test_text_stream() -> None:
    events = translate(TEXT_CHUNKS)
    assert events == [
        message_start(),
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        block_delta(0, {"type": "text_delta", "text": "Hello"}),
        block_delta(0, {"type": "text_delta", "text": ", world!"}),
        block_stop(0),
        *ending("end_turn", ANTHROPIC_USAGE),
    ]


def test_text_stream_read_by_the_anthropic_sdk() -> None:
    client = sdk.anthropic_client_reading(translate(TEXT_CHUNKS))
    with client.messages.stream(model="smart", max_tokens=50, messages=[]) as stream:
        message = stream.get_final_message()
    assert blocks(message) == [{"type": "text", "text": "Hello, world!"}]
    assert message.stop_reason == "end_turn"
    # the input count given only in message_delta reaches the final message
    assert message.usage.input_tokens == 176
    assert message.usage.cache_read_input_tokens == 1024
    assert message.usage.output_tokens == 31


def test_tool_stream() -> None:
    events = translate(TOOL_CHUNKS)
    tool_a = {"type": "tool_use", "id": "call_abc", "name": "get_weather", "input": {}}
    tool_b = {"type": "tool_use", "id": "call_def", "name": "get_time", "input": {}}
    assert events[1:] == [
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "text", "text": ""},
            },
        ),
        block_delta(0, {"type": "text_delta", "text": "Checking."}),
        block_stop(0),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 1, "content_block": tool_a},
        ),
        block_delta(1, {"type": "input_json_delta", "partial_json": '{"ci'}),
        block_delta(1, {"type": "input_json_delta", "partial_json": 'ty": "Paris"}'}),
        block_stop(1),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 2, "content_block": tool_b},
        ),
        block_stop(2),
        *ending("tool_use", ANTHROPIC_USAGE),
    ]


def test_tool_stream_read_by_the_anthropic_sdk() -> None:
    client = sdk.anthropic_client_reading(translate(TOOL_CHUNKS))
    with client.messages.stream(model="smart", max_tokens=50, messages=[]) as stream:
        message = stream.get_final_message()
    assert blocks(message) == [
        {"type": "text", "text": "Checking."},
        {"type": "tool_use", "id": "call_abc", "name": "get_weather", "input": {"city": "Paris"}},
        {"type": "tool_use", "id": "call_def", "name": "get_time", "input": {}},
    ]
    assert message.stop_reason == "tool_use"


def test_usage_arrives_after_the_finish_reason() -> None:
    stream = OpenAIToAnthropicStream(model="smart")
    for item in TEXT_CHUNKS[:-1]:
        events = stream.feed(item)
    # the finish_reason chunk closes the block; the message waits for the usage chunk
    assert events == [block_stop(0)]
    finished_early = stream.finished
    assert not finished_early
    assert [event for event, _ in stream.feed(TEXT_CHUNKS[-1])] == ["message_delta", "message_stop"]
    assert stream.finished
    assert stream.usage == StreamUsage(input_tokens=1200, output_tokens=31, cached_tokens=1024)
    assert stream.feed(chunk({"content": "late"})) == []


def test_usage_on_the_finish_chunk_ends_at_once() -> None:
    last = {**chunk({}, "length"), "usage": USAGE}
    stream = OpenAIToAnthropicStream(model="smart")
    stream.feed(TEXT_CHUNKS[1])
    events = stream.feed(last)
    assert events[-2:] == ending("max_tokens", ANTHROPIC_USAGE)
    assert stream.finished


def test_max_tokens_without_usage_closes_on_finish() -> None:
    events = translate([TEXT_CHUNKS[1], chunk({}, "length")])
    assert events[-2:] == ending("max_tokens", {"output_tokens": 0})


def test_finish_without_finish_reason_is_end_turn() -> None:
    events = translate([TEXT_CHUNKS[1]])
    assert events[-3:] == [block_stop(0), *ending("end_turn", {"output_tokens": 0})]


def test_message_start_can_announce_an_estimated_input() -> None:
    stream = OpenAIToAnthropicStream(model="smart", input_tokens=1180)
    [(event, data)] = stream.feed(TEXT_CHUNKS[0])
    assert event == "message_start"
    assert data["message"]["usage"] == {"input_tokens": 1180, "output_tokens": 0}


def test_finish_of_an_empty_stream_emits_nothing() -> None:
    stream = OpenAIToAnthropicStream(model="smart")
    assert stream.finish() == []
    assert stream.finished


def test_error_mid_stream() -> None:
    error = {
        "error": {
            "message": "The server had an error while processing your request.",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    }
    events = translate([*TEXT_CHUNKS[:2], error], finish=False)
    assert events[-1] == (
        "error",
        {
            "type": "error",
            "error": {
                "type": "api_error",
                "message": "The server had an error while processing your request.",
            },
        },
    )
    client = sdk.anthropic_client_reading(events)
    with pytest.raises(anthropic.APIError, match="server had an error"):
        list(client.messages.create(model="smart", max_tokens=50, messages=[], stream=True))


@pytest.mark.parametrize(
    ("error", "error_type"),
    [
        (
            {"message": "slow down", "type": "requests", "code": "rate_limit_exceeded"},
            "rate_limit_error",
        ),
        ({"message": "bad", "type": "invalid_request_error"}, "invalid_request_error"),
        ({"message": "pay", "type": "insufficient_quota"}, "billing_error"),
        ({"type": 3}, "api_error"),
    ],
)
def test_error_types(error: JsonObject, error_type: str) -> None:
    stream = OpenAIToAnthropicStream(model="smart")
    [(event, data)] = stream.feed({"error": error})
    sdk.anthropic_event(event, data)
    assert data["error"]["type"] == error_type
    assert stream.finished


def test_fail_ends_the_stream_with_an_error_event() -> None:
    stream = OpenAIToAnthropicStream(model="smart")
    stream.feed(TEXT_CHUNKS[1])
    events = stream.fail("upstream cut", error_type="overloaded_error")
    assert events == [
        (
            "error",
            {"type": "error", "error": {"type": "overloaded_error", "message": "upstream cut"}},
        )
    ]
    assert stream.finish() == []


def test_refusal_stream() -> None:
    events = translate(
        [chunk({"refusal": "I can't help"}), chunk({"refusal": " with that."}), chunk({}, "stop")]
    )
    texts = [data["delta"]["text"] for event, data in events if event == "content_block_delta"]
    assert texts == ["I can't help", " with that."]
    assert events[-2][1]["delta"]["stop_reason"] == "refusal"


def test_tool_name_arriving_late_holds_the_arguments() -> None:
    events = translate(
        [
            chunk(
                {"tool_calls": [{"index": 0, "id": "call_1", "function": {"arguments": '{"a"'}}]}
            ),
            chunk({"tool_calls": [{"index": 0, "function": {"name": "f", "arguments": ": 1}"}}]}),
            chunk({}, "tool_calls"),
        ]
    )
    assert events[1:4] == [
        (
            "content_block_start",
            {
                "type": "content_block_start",
                "index": 0,
                "content_block": {"type": "tool_use", "id": "call_1", "name": "f", "input": {}},
            },
        ),
        block_delta(0, {"type": "input_json_delta", "partial_json": '{"a": 1}'}),
        block_stop(0),
    ]


def test_whole_tool_calls_in_one_chunk() -> None:
    # some OpenAI-compatible servers send each call whole, without index and id, args as an object
    whole = {
        "tool_calls": [
            {"function": {"name": "f", "arguments": {"a": 1}}},
            {"function": {"name": "g", "arguments": "{}"}},
        ]
    }
    events = translate([chunk(whole, "tool_calls")], standard=False)
    starts = [data["content_block"] for event, data in events if event == "content_block_start"]
    assert starts == [
        {"type": "tool_use", "id": f"toolu_{CHUNK_ID}_0", "name": "f", "input": {}},
        {"type": "tool_use", "id": f"toolu_{CHUNK_ID}_1", "name": "g", "input": {}},
    ]
    client = sdk.anthropic_client_reading(events)
    with client.messages.stream(model="smart", max_tokens=50, messages=[]) as stream:
        message = stream.get_final_message()
    assert [block.input for block in message.content if isinstance(block, ToolUseBlock)] == [
        {"a": 1},
        {},
    ]


def test_interleaved_fragments_go_to_their_own_block() -> None:
    events = translate(
        [
            chunk(call_delta(0, call_id="a", name="f", arguments='{"x"')),
            chunk(call_delta(1, call_id="b", name="g", arguments='{"y": 2}')),
            chunk(call_delta(0, arguments=": 1}")),
            chunk({}, "tool_calls"),
        ]
    )
    fragments = [
        (data["index"], data["delta"]["partial_json"])
        for event, data in events
        if event == "content_block_delta"
    ]
    assert fragments == [(0, '{"x"'), (1, '{"y": 2}'), (0, ": 1}")]


def test_a_leading_chunk_without_choices_waits_for_the_real_id() -> None:
    azure_filter = {
        "id": "",
        "object": "",
        "created": 0,
        "model": "",
        "choices": [],
        "prompt_filter_results": [],
    }
    stream = OpenAIToAnthropicStream(model="smart")
    assert stream.feed(azure_filter) == []
    [(event, data), *_] = stream.feed(TEXT_CHUNKS[1])
    assert (event, data["message"]["id"]) == ("message_start", CHUNK_ID)


def test_other_choices_and_junk_are_ignored() -> None:
    stream = OpenAIToAnthropicStream(model="smart")
    noisy = {
        **chunk({"content": "a"}),
        "choices": [
            {"index": 1, "delta": {"content": "other"}},
            "junk",
            {"index": 0, "delta": None},
            {"index": 0, "delta": {"content": "a", "tool_calls": ["junk"]}},
        ],
    }
    events = stream.feed(noisy)
    texts = [data["delta"]["text"] for event, data in events if event == "content_block_delta"]
    assert texts == ["a"]
