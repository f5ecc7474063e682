import pytest

from tests.translate import sdk
from tokengate.translate.fields import JsonObject
from tokengate.translate.messages import anthropic_conversation, openai_conversation

PNG = "iVBORw0KGgo="


def text(value: str) -> JsonObject:
    return {"type": "text", "text": value}


def call(call_id: str, name: str, arguments: str) -> JsonObject:
    function = {"name": name, "arguments": arguments}
    return {"id": call_id, "type": "function", "function": function}


def to_anthropic(messages: list[JsonObject]) -> tuple[list[JsonObject], list[JsonObject]]:
    sdk.openai_request({"model": "m", "messages": messages})
    system, turns = anthropic_conversation(messages)
    body: JsonObject = {"model": "m", "max_tokens": 5, "messages": turns}
    if system:
        body["system"] = system
    sdk.anthropic_request(body)
    return system, turns


def test_consecutive_same_role_messages_merge() -> None:
    _, turns = to_anthropic(
        [
            {"role": "user", "content": "one"},
            {"role": "user", "content": [text("two")]},
            {"role": "assistant", "content": "three"},
            {"role": "assistant", "content": "four"},
            {"role": "user", "content": "five"},
        ]
    )
    assert turns == [
        {"role": "user", "content": [text("one"), text("two")]},
        {"role": "assistant", "content": [text("three"), text("four")]},
        {"role": "user", "content": [text("five")]},
    ]


def test_system_messages_anywhere_are_hoisted() -> None:
    system, turns = to_anthropic(
        [
            {"role": "user", "content": "hi"},
            {"role": "system", "content": "late rule"},
            {"role": "developer", "content": [text("dev rule"), text("")]},
            {"role": "user", "content": "again"},
        ]
    )
    assert system == [text("late rule"), text("dev rule")]
    # with the system message gone, the two user messages are one turn
    assert turns == [{"role": "user", "content": [text("hi"), text("again")]}]


def test_tool_results_merge_into_one_user_turn_ahead_of_text() -> None:
    _, turns = to_anthropic(
        [
            {"role": "user", "content": "go"},
            {"role": "assistant", "content": None, "tool_calls": [call("a", "f", "{}")]},
            {"role": "user", "content": "also this"},
            {"role": "tool", "tool_call_id": "a", "content": "done"},
            {"role": "tool", "tool_call_id": "b", "content": ""},
        ]
    )
    assert turns[2] == {
        "role": "user",
        "content": [
            {"type": "tool_result", "tool_use_id": "a", "content": "done"},
            {"type": "tool_result", "tool_use_id": "b"},
            text("also this"),
        ],
    }


def test_tool_call_arguments() -> None:
    _, turns = to_anthropic(
        [
            {"role": "user", "content": "go"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    call("ok", "f", '{"a": [1, {"b": null}]}'),
                    call("empty", "f", ""),
                    call("truncated", "f", '{"a": "unfinish'),
                    call("array", "f", "[1, 2]"),
                ],
            },
        ]
    )
    inputs = {block["id"]: block["input"] for block in turns[1]["content"]}
    assert inputs == {"ok": {"a": [1, {"b": None}]}, "empty": {}, "truncated": {}, "array": {}}


def test_foreign_tool_ids_are_made_anthropic_safe_on_both_sides() -> None:
    _, turns = to_anthropic(
        [
            {"role": "user", "content": "go"},
            {"role": "assistant", "tool_calls": [call("functions.f:0", "f", "{}")]},
            {"role": "tool", "tool_call_id": "functions.f:0", "content": "ok"},
        ]
    )
    tool_use_id = turns[1]["content"][0]["id"]
    assert tool_use_id.startswith("functions_f_0_")
    assert turns[2]["content"][0]["tool_use_id"] == tool_use_id


def test_a_conversation_with_nothing_to_say_is_refused() -> None:
    for messages in ([{"role": "system", "content": "rules"}], [{"role": "user", "content": ""}]):
        with pytest.raises(ValueError, match="need a user or assistant message"):
            anthropic_conversation(messages)


def test_refusals_and_empty_messages() -> None:
    _, turns = to_anthropic(
        [
            {"role": "user", "content": "q"},
            {"role": "assistant", "content": None, "refusal": "I can't help with that."},
            {"role": "user", "content": ""},
            {"role": "assistant", "content": [{"type": "refusal", "refusal": "No."}]},
            {"role": "assistant", "content": ""},
            {"role": "user", "content": "ok"},
        ]
    )
    assert turns == [
        {"role": "user", "content": [text("q")]},
        {"role": "assistant", "content": [text("I can't help with that."), text("No.")]},
        {"role": "user", "content": [text("ok")]},
    ]


def test_final_assistant_prefill_loses_trailing_whitespace() -> None:
    _, turns = to_anthropic(
        [{"role": "user", "content": "Answer in JSON"}, {"role": "assistant", "content": "{\n  "}]
    )
    assert turns[-1] == {"role": "assistant", "content": [text("{")]}


def test_whitespace_only_prefill_is_dropped() -> None:
    _, turns = to_anthropic(
        [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "  \n"}]
    )
    assert turns == [{"role": "user", "content": [text("hi")]}]


@pytest.mark.parametrize(
    ("message", "error"),
    [
        ({"role": "function", "name": "f", "content": "x"}, "'function' is not supported"),
        ({"role": "critic", "content": "x"}, "'critic' is not supported"),
        ("hello", "messages.0: must be an object"),
        ({"role": "user", "content": None}, r"messages.0.content: must be an array"),
        ({"role": "system", "content": [{"type": "image_url"}]}, "only text content"),
        ({"role": "tool", "content": "x"}, "tool_call_id: must be a string"),
        (
            {"role": "assistant", "function_call": {"name": "f", "arguments": "{}"}},
            "deprecated, send tool_calls",
        ),
        (
            {"role": "assistant", "tool_calls": [{"id": "a", "type": "function"}]},
            r"tool_calls.0.function: must be an object",
        ),
    ],
)
def test_invalid_openai_messages(message: object, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        anthropic_conversation([message])


def to_openai(system: object, turns: list[JsonObject]) -> list[JsonObject]:
    body: JsonObject = {"model": "m", "max_tokens": 5, "messages": turns}
    if system is not None:
        body["system"] = system
    sdk.anthropic_request(body)
    messages = openai_conversation(system, turns)
    sdk.openai_request({"model": "m", "messages": messages})
    return messages


def test_tool_result_images_follow_in_a_user_message() -> None:
    image = {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}}
    messages = to_openai(
        None,
        [
            {"role": "user", "content": "Take a screenshot"},
            {
                "role": "assistant",
                "content": [{"type": "tool_use", "id": "t1", "name": "shot", "input": {}}],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "t1",
                        "content": [text("Here it is."), image, text("1024x768")],
                    },
                    text("What do you see?"),
                ],
            },
        ],
    )
    assert messages[1:] == [
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [call("t1", "shot", "{}")],
        },
        {"role": "tool", "tool_call_id": "t1", "content": "Here it is.\n1024x768"},
        {
            "role": "user",
            "content": [
                {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}},
                text("What do you see?"),
            ],
        },
    ]


def test_tool_result_errors_and_empty_results() -> None:
    messages = to_openai(
        "",
        [
            {"role": "user", "content": "go"},
            {
                "role": "assistant",
                "content": [
                    {"type": "tool_use", "id": "a", "name": "f", "input": {"x": 1}},
                    {"type": "tool_use", "id": "b", "name": "f", "input": {}},
                    {"type": "tool_use", "id": "c", "name": "f", "input": {}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {
                        "type": "tool_result",
                        "tool_use_id": "a",
                        "content": "boom",
                        "is_error": True,
                    },
                    {"type": "tool_result", "tool_use_id": "b", "is_error": True},
                    {"type": "tool_result", "tool_use_id": "c"},
                ],
            },
        ],
    )
    # an empty system prompt is no system message at all
    assert messages[0] == {"role": "user", "content": "go"}
    assert messages[2:] == [
        {"role": "tool", "tool_call_id": "a", "content": "Error: boom"},
        {"role": "tool", "tool_call_id": "b", "content": "Error"},
        {"role": "tool", "tool_call_id": "c", "content": ""},
    ]


def test_thinking_only_assistant_turn_is_dropped() -> None:
    thinking = {"type": "thinking", "thinking": "hmm", "signature": "s"}
    messages = to_openai(
        [text("Rule one."), text("Rule two.")],
        [
            {"role": "user", "content": "a"},
            {
                "role": "assistant",
                "content": [thinking, {"type": "redacted_thinking", "data": "x"}],
            },
            {"role": "user", "content": [text("b"), text("c")]},
        ],
    )
    assert messages == [
        {"role": "system", "content": "Rule one.\n\nRule two."},
        {"role": "user", "content": "a"},
        {"role": "user", "content": [text("b"), text("c")]},
    ]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        (
            [{"type": "tool_result", "tool_use_id": "a", "content": [{"type": "document"}]}],
            "source: must be an object",
        ),
        (
            [
                {
                    "type": "tool_result",
                    "tool_use_id": "a",
                    "content": [
                        {
                            "type": "document",
                            "source": {
                                "type": "base64",
                                "media_type": "application/pdf",
                                "data": "x",
                            },
                        }
                    ],
                }
            ],
            "a tool result holds text and images only",
        ),
        ([{"type": "search_result", "source": "s", "title": "t", "content": []}], "not supported"),
        ([{"type": "tool_result"}], "tool_use_id: must be a string"),
        (7, r"messages.0.content: must be an array"),
    ],
)
def test_invalid_anthropic_user_content(content: object, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        openai_conversation(None, [{"role": "user", "content": content}])


@pytest.mark.parametrize(
    ("block", "error"),
    [
        (
            {"type": "server_tool_use", "id": "s", "name": "web_search", "input": {}},
            "not supported",
        ),
        ({"type": "image", "source": {"type": "url", "url": "https://x"}}, "not supported"),
        ({"type": "tool_use", "id": "a", "name": "f", "input": "{}"}, "input: must be an object"),
    ],
)
def test_invalid_anthropic_assistant_content(block: JsonObject, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        openai_conversation(None, [{"role": "assistant", "content": [block]}])


def test_invalid_system_blocks() -> None:
    turns = [{"role": "user", "content": "hi"}]
    with pytest.raises(ValueError, match=r"system\.text: must be a string"):
        openai_conversation([{"type": "text", "text": 5}], turns)
    assert openai_conversation([{"type": "text"}], turns) == [{"role": "user", "content": "hi"}]
