import pytest

from tokengate.translate.fields import JsonObject
from tokengate.translate.tools import (
    anthropic_tool_choice,
    anthropic_tools,
    openai_tool_choice,
    openai_tools,
)


def test_function_tools_become_custom_tools() -> None:
    tools = [
        {"type": "function", "function": {"name": "now"}},
        {
            "type": "function",
            "function": {
                "name": "search",
                "description": "",
                "parameters": {"properties": {"q": {"type": "string"}}, "required": ["q"]},
                "strict": True,
            },
        },
    ]
    assert anthropic_tools(tools) == [
        {"name": "now", "input_schema": {"type": "object", "properties": {}}},
        {
            "name": "search",
            "input_schema": {
                "type": "object",
                "properties": {"q": {"type": "string"}},
                "required": ["q"],
            },
        },
    ]


@pytest.mark.parametrize(
    ("tools", "error"),
    [
        ([{"type": "custom", "custom": {"name": "grammar"}}], "only function tools"),
        ([{"type": "function"}], r"tools.0.function: must be an object"),
        ([{"type": "function", "function": {"name": "f", "parameters": []}}], "parameters"),
        ({"type": "function"}, "tools: must be an array"),
    ],
)
def test_invalid_openai_tools(tools: object, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        anthropic_tools(tools)


@pytest.mark.parametrize(
    ("choice", "parallel", "expected"),
    [
        (None, None, None),
        (None, True, None),
        (None, False, {"type": "auto", "disable_parallel_tool_use": True}),
        ("auto", None, {"type": "auto"}),
        ("none", False, {"type": "none"}),
        ("required", None, {"type": "any"}),
        ("required", False, {"type": "any", "disable_parallel_tool_use": True}),
        (
            {"type": "function", "function": {"name": "f"}},
            None,
            {"type": "tool", "name": "f"},
        ),
    ],
)
def test_tool_choice_to_anthropic(choice: object, parallel: object, expected: object) -> None:
    assert anthropic_tool_choice(choice, parallel=parallel) == expected


@pytest.mark.parametrize(
    "choice",
    ["sometimes", {"type": "allowed_tools", "allowed_tools": {}}, {"type": "function"}],
)
def test_invalid_tool_choice_to_anthropic(choice: object) -> None:
    with pytest.raises(ValueError, match="tool_choice"):
        anthropic_tool_choice(choice, parallel=None)


def test_custom_tools_become_function_tools() -> None:
    schema = {"type": "object", "properties": {}}
    tools = [
        {"name": "a", "input_schema": schema},
        {"type": "custom", "name": "b", "description": "B.", "input_schema": schema},
    ]
    assert openai_tools(tools) == [
        {"type": "function", "function": {"name": "a", "parameters": schema}},
        {"type": "function", "function": {"name": "b", "parameters": schema, "description": "B."}},
    ]


@pytest.mark.parametrize(
    ("tools", "error"),
    [
        ([{"type": "web_search_20250305", "name": "web_search"}], "'web_search_20250305'"),
        ([{"name": "a"}], r"tools.0.input_schema: must be an object"),
        ([{"input_schema": {}}], r"tools.0.name: must be a string"),
    ],
)
def test_invalid_anthropic_tools(tools: object, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        openai_tools(tools)


@pytest.mark.parametrize(
    ("choice", "expected"),
    [
        ({"type": "auto"}, ("auto", True)),
        ({"type": "any", "disable_parallel_tool_use": True}, ("required", False)),
        ({"type": "none"}, ("none", True)),
        (
            {"type": "tool", "name": "f", "disable_parallel_tool_use": False},
            ({"type": "function", "function": {"name": "f"}}, True),
        ),
    ],
)
def test_tool_choice_to_openai(choice: JsonObject, expected: tuple[object, bool]) -> None:
    assert openai_tool_choice(choice) == expected


@pytest.mark.parametrize(
    ("choice", "error"),
    [({"type": "all"}, "tool_choice.type"), ("auto", "tool_choice: must be an object")],
)
def test_invalid_tool_choice_to_openai(choice: object, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        openai_tool_choice(choice)
