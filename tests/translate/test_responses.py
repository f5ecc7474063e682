import orjson
import pytest

from tests.translate import sdk
from tokengate.translate import anthropic_message_to_openai, openai_completion_to_anthropic
from tokengate.translate.fields import JsonObject
from tokengate.translate.responses import finish_reason_of, stop_reason_of

CREATED = 1_760_000_000


def claude_message(**fields: object) -> JsonObject:
    """An Anthropic answer that thought, said something and called two tools."""
    message: JsonObject = {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [
            {"type": "thinking", "thinking": "Two cities.", "signature": "EqQBCgIYAhIM"},
            {"type": "text", "text": "Let me check "},
            {"type": "text", "text": "both."},
            {
                "type": "tool_use",
                "id": "toolu_01A",
                "name": "get_weather",
                "input": {"city": "Paris", "units": ["c"]},
            },
            {"type": "tool_use", "id": "toolu_01B", "name": "get_time", "input": {}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 12,
            "cache_creation_input_tokens": 100,
            "cache_read_input_tokens": 2048,
            "output_tokens": 87,
            "service_tier": "standard",
        },
    }
    return {**message, **fields}


def test_anthropic_message_to_openai() -> None:
    payload = claude_message()
    sdk.anthropic_message(payload)
    result = anthropic_message_to_openai(payload, model="smart", created=CREATED)
    sdk.openai_completion(result)
    assert result == {
        "id": "msg_01XFDUDYJgAACzvnptvVoYEL",
        "object": "chat.completion",
        "created": CREATED,
        "model": "smart",
        "choices": [
            {
                "index": 0,
                "message": {
                    "role": "assistant",
                    "content": "Let me check both.",
                    "refusal": None,
                    "tool_calls": [
                        {
                            "id": "toolu_01A",
                            "type": "function",
                            "function": {
                                "name": "get_weather",
                                "arguments": '{"city":"Paris","units":["c"]}',
                            },
                        },
                        {
                            "id": "toolu_01B",
                            "type": "function",
                            "function": {"name": "get_time", "arguments": "{}"},
                        },
                    ],
                },
                "logprobs": None,
                "finish_reason": "tool_calls",
            }
        ],
        "usage": {
            "prompt_tokens": 2160,
            "completion_tokens": 87,
            "total_tokens": 2247,
            "prompt_tokens_details": {"cached_tokens": 2048, "cache_write_tokens": 100},
        },
    }


def test_tool_only_answer_has_null_content_and_empty_answer_empty_content() -> None:
    tool_only = claude_message(content=claude_message()["content"][3:])
    message = anthropic_message_to_openai(tool_only, model="m")["choices"][0]["message"]
    assert message["content"] is None
    empty = anthropic_message_to_openai(claude_message(content=[]), model="m")
    sdk.openai_completion(empty)
    assert empty["choices"][0]["message"] == {"role": "assistant", "content": "", "refusal": None}


def test_created_defaults_to_now() -> None:
    result = anthropic_message_to_openai(claude_message(), model="m")
    assert abs(result["created"] - CREATED) < 10 * 365 * 86400


@pytest.mark.parametrize(
    ("stop_reason", "finish_reason"),
    [
        ("end_turn", "stop"),
        ("stop_sequence", "stop"),
        ("pause_turn", "stop"),
        ("max_tokens", "length"),
        ("model_context_window_exceeded", "length"),
        ("tool_use", "tool_calls"),
        ("refusal", "content_filter"),
        ("something_new", "stop"),
        (None, "stop"),
    ],
)
def test_finish_reasons(stop_reason: object, finish_reason: str) -> None:
    assert finish_reason_of(stop_reason) == finish_reason


def openai_completion(**message: object) -> JsonObject:
    """An OpenAI chat.completion with the given assistant message fields."""
    return {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "object": "chat.completion",
        "created": CREATED,
        "model": "gpt-4o-2024-08-06",
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": None, "refusal": None, **message},
                "logprobs": None,
                "finish_reason": "tool_calls" if "tool_calls" in message else "stop",
            }
        ],
        "usage": {
            "prompt_tokens": 1500,
            "completion_tokens": 40,
            "total_tokens": 1540,
            "prompt_tokens_details": {"cached_tokens": 1024, "audio_tokens": 0},
            "completion_tokens_details": {"reasoning_tokens": 0},
        },
        "system_fingerprint": "fp_123",
        "service_tier": "default",
    }


def test_openai_completion_to_anthropic() -> None:
    payload = openai_completion(
        content="Checking.",
        tool_calls=[
            {
                "id": "call_abc",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
            },
            {
                "id": "call_def",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "Os'},
            },
        ],
    )
    sdk.openai_completion(payload)
    result = openai_completion_to_anthropic(payload, model="fast")
    sdk.anthropic_message(result)
    assert result == {
        "id": "chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
        "type": "message",
        "role": "assistant",
        "model": "fast",
        "content": [
            {"type": "text", "text": "Checking."},
            {
                "type": "tool_use",
                "id": "call_abc",
                "name": "get_weather",
                "input": {"city": "Oslo"},
            },
            # truncated arguments cannot be an input object
            {"type": "tool_use", "id": "call_def", "name": "get_weather", "input": {}},
        ],
        "stop_reason": "tool_use",
        "stop_sequence": None,
        "usage": {
            "input_tokens": 476,
            "cache_creation_input_tokens": 0,
            "cache_read_input_tokens": 1024,
            "output_tokens": 40,
        },
    }


def test_foreign_tool_ids_are_made_anthropic_safe() -> None:
    kimi_call = {
        "id": "functions.get_weather:0",
        "type": "function",
        "function": {"name": "get_weather", "arguments": "{}"},
    }
    result = openai_completion_to_anthropic(openai_completion(tool_calls=[kimi_call]), model="m")
    assert result["content"][0]["id"].startswith("functions_get_weather_0_")


def test_refusal_becomes_text_with_a_refusal_stop() -> None:
    payload = openai_completion(refusal="I can't help with that.")
    result = openai_completion_to_anthropic(payload, model="m")
    sdk.anthropic_message(result)
    assert result["content"] == [{"type": "text", "text": "I can't help with that."}]
    assert result["stop_reason"] == "refusal"


def test_malformed_completion_is_an_empty_message() -> None:
    payloads: list[JsonObject] = [
        {},
        {"choices": []},
        {"choices": ["x"]},
        {"choices": [{"message": 3}]},
    ]
    for payload in payloads:
        result = openai_completion_to_anthropic(payload, model="m")
        sdk.anthropic_message(result)
        assert result["content"] == []
        assert result["stop_reason"] == "end_turn"


@pytest.mark.parametrize(
    ("finish_reason", "stop_reason"),
    [
        ("stop", "end_turn"),
        ("length", "max_tokens"),
        ("tool_calls", "tool_use"),
        ("function_call", "tool_use"),
        ("content_filter", "refusal"),
        ("eos", "end_turn"),
        (None, "end_turn"),
    ],
)
def test_stop_reasons(finish_reason: object, stop_reason: str) -> None:
    assert stop_reason_of(finish_reason) == stop_reason


def test_anthropic_round_trip_keeps_meaning() -> None:
    original = claude_message(stop_reason="max_tokens")
    back = openai_completion_to_anthropic(
        anthropic_message_to_openai(original, model="m"), model=original["model"]
    )
    sdk.anthropic_message(back)
    assert back["content"] == [
        {"type": "text", "text": "Let me check both."},
        *original["content"][3:],
    ]
    assert back["stop_reason"] == "max_tokens"
    usage = {key: value for key, value in original["usage"].items() if key != "service_tier"}
    assert back["usage"] == usage


def test_openai_round_trip_keeps_meaning() -> None:
    call = {
        "id": "call_abc",
        "type": "function",
        "function": {"name": "f", "arguments": '{"a": 1}'},
    }
    original = openai_completion(content="Hi.", tool_calls=[call])
    back = anthropic_message_to_openai(
        openai_completion_to_anthropic(original, model="m"), model="m", created=CREATED
    )
    sdk.openai_completion(back)
    message = back["choices"][0]["message"]
    assert message["content"] == "Hi."
    assert orjson.loads(message["tool_calls"][0]["function"]["arguments"]) == {"a": 1}
    assert back["choices"][0]["finish_reason"] == "tool_calls"
    assert back["usage"]["prompt_tokens"] == 1500
    assert back["usage"]["prompt_tokens_details"]["cached_tokens"] == 1024
