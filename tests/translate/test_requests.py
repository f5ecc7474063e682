import orjson
import pytest

from tests.translate import sdk
from tokengate.translate import (
    JsonObject,
    anthropic_to_openai_chat,
    openai_chat_to_anthropic,
)

# a 1x1 PNG
PNG = (
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAC"
    "hwGA60e6kgAAAABJRU5ErkJggg=="
)
WEATHER_TOOL: JsonObject = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather of a city.",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def agent_request() -> JsonObject:
    """An OpenAI chat request from a tool-using agent, midway through its loop."""
    return {
        "model": "claude-sonnet",
        "messages": [
            {"role": "system", "content": "You are terse."},
            {"role": "developer", "content": [{"type": "text", "text": "Use metric units."}]},
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Weather in Paris and Oslo? And what is this?"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                    {"type": "image_url", "image_url": {"url": "https://example.com/cat.jpg"}},
                ],
            },
            {
                "role": "assistant",
                "content": "Checking both.",
                "tool_calls": [
                    {
                        "id": "call_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'},
                    },
                    {
                        "id": "call_2",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "Oslo"}'},
                    },
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": "18°C, sunny"},
            {
                "role": "tool",
                "tool_call_id": "call_2",
                "content": [{"type": "text", "text": "4°C"}],
            },
        ],
        "tools": [WEATHER_TOOL],
        "tool_choice": "auto",
        "max_completion_tokens": 512,
        "temperature": 0.3,
        "top_p": 0.9,
        "stop": ["\n\nHuman:"],
        "user": "user-42",
        "logprobs": True,
        "response_format": {"type": "text"},
        "seed": 7,
    }


def test_agent_request_to_anthropic() -> None:
    body = agent_request()
    sdk.openai_request(body)
    result = openai_chat_to_anthropic(body)
    sdk.anthropic_request(result)
    assert result == {
        "model": "claude-sonnet",
        "max_tokens": 512,
        "system": [
            {"type": "text", "text": "You are terse."},
            {"type": "text", "text": "Use metric units."},
        ],
        "messages": [
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "Weather in Paris and Oslo? And what is this?"},
                    {
                        "type": "image",
                        "source": {"type": "base64", "media_type": "image/png", "data": PNG},
                    },
                    {
                        "type": "image",
                        "source": {"type": "url", "url": "https://example.com/cat.jpg"},
                    },
                ],
            },
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Checking both."},
                    {
                        "type": "tool_use",
                        "id": "call_1",
                        "name": "get_weather",
                        "input": {"city": "Paris"},
                    },
                    {
                        "type": "tool_use",
                        "id": "call_2",
                        "name": "get_weather",
                        "input": {"city": "Oslo"},
                    },
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "call_1", "content": "18°C, sunny"},
                    {
                        "type": "tool_result",
                        "tool_use_id": "call_2",
                        "content": [{"type": "text", "text": "4°C"}],
                    },
                ],
            },
        ],
        "tools": [
            {
                "name": "get_weather",
                "description": "Current weather of a city.",
                "input_schema": {
                    "type": "object",
                    "properties": {"city": {"type": "string"}},
                    "required": ["city"],
                },
            }
        ],
        "tool_choice": {"type": "auto"},
        # recent Claude models refuse temperature with top_p: temperature wins
        "temperature": 0.3,
        "stop_sequences": ["\n\nHuman:"],
        "metadata": {"user_id": "user-42"},
    }


def test_empty_stop_sequences_are_dropped() -> None:
    assert "stop_sequences" not in openai_chat_to_anthropic(minimal(max_tokens=5, stop=""))
    result = openai_chat_to_anthropic(minimal(max_tokens=5, stop=["", "END"]))
    assert result["stop_sequences"] == ["END"]


def test_single_system_message_becomes_a_string() -> None:
    body = {
        "model": "m",
        "max_tokens": 10,
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        "stream": True,
        "stream_options": {"include_usage": True},
        "stop": "END",
    }
    result = openai_chat_to_anthropic(body)
    sdk.anthropic_request(result)
    assert result == {
        "model": "m",
        "max_tokens": 10,
        "system": "Be brief.",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
        "stop_sequences": ["END"],
        "stream": True,
    }


def minimal(**fields: object) -> JsonObject:
    return {"model": "m", "messages": [{"role": "user", "content": "Hi"}], **fields}


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"max_tokens": 100}, 100),
        ({"max_completion_tokens": 200}, 200),
        ({"max_tokens": 100, "max_completion_tokens": 200}, 200),
        ({"max_tokens": None, "max_completion_tokens": 300}, 300),
    ],
)
def test_max_tokens(fields: JsonObject, expected: int) -> None:
    assert openai_chat_to_anthropic(minimal(**fields))["max_tokens"] == expected


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "max_tokens or max_completion_tokens is required"),
        ({"max_tokens": 0}, "max_tokens: must be an integer"),
        ({"max_tokens": "10"}, "max_tokens: must be an integer"),
        ({"max_tokens": 10, "n": 2}, "n > 1 is not supported for Anthropic models"),
        ({"max_tokens": 10, "temperature": "hot"}, "temperature: must be a number"),
        ({"max_tokens": 10, "stop": [1]}, "stop.0: must be a string"),
        ({"max_tokens": 10, "functions": [{"name": "f"}]}, "functions and function_call"),
        ({"max_tokens": 10, "messages": "Hi"}, "messages: must be an array"),
    ],
)
def test_invalid_openai_requests(fields: JsonObject, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        openai_chat_to_anthropic(minimal(**fields))


def test_n_of_one_and_openai_only_fields_are_ignored() -> None:
    body = minimal(
        max_tokens=5,
        n=1,
        presence_penalty=0.5,
        frequency_penalty=0.5,
        logit_bias={"50256": -100},
        top_logprobs=2,
        response_format={"type": "json_object"},
        store=True,
        reasoning_effort="low",
        stream=False,
    )
    result = openai_chat_to_anthropic(body)
    assert set(result) == {"model", "max_tokens", "messages"}


@pytest.mark.parametrize(("given", "sent"), [(0, 0.0), (0.7, 0.7), (1.0, 1.0), (1.6, 1.0)])
def test_temperature_is_clamped_to_anthropic_range(given: float, sent: float) -> None:
    assert openai_chat_to_anthropic(minimal(max_tokens=5, temperature=given))["temperature"] == sent


def test_top_p_alone_is_kept() -> None:
    result = openai_chat_to_anthropic(minimal(max_tokens=5, top_p=0.5))
    sdk.anthropic_request(result)
    assert result["top_p"] == 0.5


def test_sampling_can_be_left_out_for_models_that_refuse_it() -> None:
    body = minimal(max_tokens=5, temperature=0.2, top_p=0.5)
    result = openai_chat_to_anthropic(body, sampling=False)
    assert "temperature" not in result
    assert "top_p" not in result


def test_safety_identifier_is_the_user_when_user_is_absent() -> None:
    result = openai_chat_to_anthropic(minimal(max_tokens=5, safety_identifier="hash-1"))
    assert result["metadata"] == {"user_id": "hash-1"}


def test_tool_choice_is_dropped_without_tools() -> None:
    result = openai_chat_to_anthropic(minimal(max_tokens=5, tool_choice="none", tools=[]))
    assert "tool_choice" not in result
    assert "tools" not in result


def claude_code_request() -> JsonObject:
    """An Anthropic request from a coding agent: cached system blocks, tools, a tool result."""
    return {
        "model": "gpt-5-mini",
        "max_tokens": 4096,
        "system": [
            {
                "type": "text",
                "text": "You are a coding agent.",
                "cache_control": {"type": "ephemeral"},
            },
            {"type": "text", "text": "Repository: tokengate."},
        ],
        "messages": [
            {"role": "user", "content": "List the files."},
            {
                "role": "assistant",
                "content": [
                    {"type": "thinking", "thinking": "I should use ls.", "signature": "sig"},
                    {"type": "text", "text": "Running ls."},
                    {"type": "tool_use", "id": "toolu_01", "name": "bash", "input": {"cmd": "ls"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_01", "content": "README.md\nsrc"},
                    {
                        "type": "text",
                        "text": "Now summarise.",
                        "cache_control": {"type": "ephemeral"},
                    },
                ],
            },
        ],
        "tools": [
            {
                "name": "bash",
                "description": "Run a shell command.",
                "input_schema": {"type": "object", "properties": {"cmd": {"type": "string"}}},
                "cache_control": {"type": "ephemeral"},
            }
        ],
        "tool_choice": {"type": "any", "disable_parallel_tool_use": True},
        "stop_sequences": ["</done>"],
        "temperature": 0.2,
        "top_p": 0.95,
        "top_k": 40,
        "metadata": {"user_id": "dev-7"},
        "stream": True,
        "thinking": {"type": "enabled", "budget_tokens": 1024},
    }


def test_claude_code_request_to_openai() -> None:
    body = claude_code_request()
    sdk.anthropic_request(body)
    result = anthropic_to_openai_chat(body)
    sdk.openai_request(result)
    assert result == {
        "model": "gpt-5-mini",
        "max_tokens": 4096,
        "messages": [
            {"role": "system", "content": "You are a coding agent.\n\nRepository: tokengate."},
            {"role": "user", "content": "List the files."},
            {
                "role": "assistant",
                "content": "Running ls.",
                "tool_calls": [
                    {
                        "id": "toolu_01",
                        "type": "function",
                        "function": {"name": "bash", "arguments": '{"cmd":"ls"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "toolu_01", "content": "README.md\nsrc"},
            {"role": "user", "content": "Now summarise."},
        ],
        "tools": [
            {
                "type": "function",
                "function": {
                    "name": "bash",
                    "description": "Run a shell command.",
                    "parameters": {"type": "object", "properties": {"cmd": {"type": "string"}}},
                },
            }
        ],
        "tool_choice": "required",
        "parallel_tool_calls": False,
        "stop": ["</done>"],
        "temperature": 0.2,
        "top_p": 0.95,
        "user": "dev-7",
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_cap_field_names_the_openai_output_cap() -> None:
    body = {"model": "o4", "max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}]}
    result = anthropic_to_openai_chat(body, cap_field="max_completion_tokens")
    sdk.openai_request(result)
    assert result["max_completion_tokens"] == 5
    assert "max_tokens" not in result


def test_non_streaming_anthropic_request_asks_no_stream_options() -> None:
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}]}
    result = anthropic_to_openai_chat(body)
    sdk.openai_request(result)
    assert result == {
        "model": "m",
        "max_tokens": 5,
        "messages": [{"role": "user", "content": "Hi"}],
    }


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"max_tokens": None}, "max_tokens: must be an integer"),
        ({"metadata": "x"}, "metadata: must be an object"),
        ({"stop_sequences": "END"}, "stop_sequences: must be an array"),
        ({"temperature": True}, "temperature: must be a number"),
        ({"messages": [{"role": "system", "content": "x"}]}, r"messages.0.role: must be user"),
        ({"system": 7}, "system: must be an array"),
    ],
)
def test_invalid_anthropic_requests(fields: JsonObject, message: str) -> None:
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "Hi"}]}
    with pytest.raises(ValueError, match=message):
        anthropic_to_openai_chat({**body, **fields})


def without_none(value: object) -> object:
    if isinstance(value, dict):
        return {key: without_none(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [without_none(item) for item in value]
    return value


def parsed_arguments(messages: list[JsonObject]) -> list[JsonObject]:
    """The messages with each tool call's arguments parsed, as JSON spacing is no meaning."""
    result = []
    for message in messages:
        calls = [
            {
                **call,
                "function": {
                    **call["function"],
                    "arguments": orjson.loads(call["function"]["arguments"]),
                },
            }
            for call in message.get("tool_calls", [])
        ]
        result.append({**message, "tool_calls": calls} if calls else message)
    return result


def test_openai_round_trip_keeps_meaning() -> None:
    body = agent_request()
    back = anthropic_to_openai_chat(openai_chat_to_anthropic(body))
    sdk.openai_request(back)
    messages = body["messages"]
    assert parsed_arguments(back["messages"]) == [
        # system and developer messages become one system prompt
        {"role": "system", "content": "You are terse.\n\nUse metric units."},
        messages[2],
        *parsed_arguments([messages[3]]),
        messages[4],
        {"role": "tool", "tool_call_id": "call_2", "content": "4°C"},
    ]
    assert back["tools"] == body["tools"]
    assert back["tool_choice"] == "auto"
    assert back["max_tokens"] == body["max_completion_tokens"]
    for name in ("temperature", "stop", "user"):
        assert back[name] == body[name]


def test_anthropic_round_trip_keeps_meaning() -> None:
    body = claude_code_request()
    back = openai_chat_to_anthropic(anthropic_to_openai_chat(body))
    sdk.anthropic_request(back)
    assert back["system"] == "You are a coding agent.\n\nRepository: tokengate."
    original = body["messages"]
    assert back["messages"] == [
        {"role": "user", "content": [{"type": "text", "text": "List the files."}]},
        # the thinking block has no OpenAI counterpart
        {"role": "assistant", "content": original[1]["content"][1:]},
        # cache_control is Anthropic-only
        {
            "role": "user",
            "content": [original[2]["content"][0], {"type": "text", "text": "Now summarise."}],
        },
    ]
    assert back["tools"] == [
        {key: value for key, value in body["tools"][0].items() if key != "cache_control"}
    ]
    assert back["tool_choice"] == body["tool_choice"]
    for name in ("max_tokens", "stop_sequences", "temperature", "metadata", "stream"):
        assert back[name] == body[name]
    # top_k has no OpenAI counterpart; top_p yields to temperature on the way back
    assert "top_k" not in back
    assert "top_p" not in back
    assert without_none(back) == back
