import pytest

from tokengate.translate.fields import (
    anthropic_tool_id,
    count_at,
    dumps_text,
    list_at,
    object_at,
    parse_arguments,
    text_at,
    tokens_of,
)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ('{"a": 1}', {"a": 1}),
        ({"a": 1}, {"a": 1}),
        ("", {}),
        ("   ", {}),
        (None, {}),
        ('{"a": ', {}),
        ("[1]", {}),
        ('"text"', {}),
        (12, {}),
    ],
)
def test_parse_arguments(raw: object, expected: object) -> None:
    assert parse_arguments(raw) == expected


def test_checks_name_the_place() -> None:
    with pytest.raises(ValueError, match="here: must be an object"):
        object_at([], "here")
    with pytest.raises(ValueError, match="here: must be an array"):
        list_at({}, "here")
    with pytest.raises(ValueError, match="here: must be a string"):
        text_at(1, "here")
    for bad in (True, 0, 1.5, "2"):
        with pytest.raises(ValueError, match="here: must be an integer of at least 1"):
            count_at(bad, "here")
    assert count_at(3, "here") == 3


def test_tokens_of_tolerates_junk() -> None:
    assert [tokens_of(v) for v in (5, 0, -1, None, "7", True)] == [5, 0, 0, 0, 0, 0]


def test_dumps_text_is_compact() -> None:
    assert dumps_text({"a": [1, "é"]}) == '{"a":[1,"é"]}'


def test_anthropic_tool_ids() -> None:
    assert anthropic_tool_id("call_Ab-9") == "call_Ab-9"
    kimi = anthropic_tool_id("functions.get_weather:0")
    assert kimi.startswith("functions_get_weather_0_")
    assert kimi == anthropic_tool_id("functions.get_weather:0")
    # ids that differ only in a replaced character stay apart
    assert anthropic_tool_id("a.b") != anthropic_tool_id("a:b")
    assert anthropic_tool_id("")[0] == "_"
