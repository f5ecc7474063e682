"""Tool definitions and tool choice in each format: OpenAI functions and Anthropic tools."""

from __future__ import annotations

from tokengate.translate.fields import JsonObject, list_at, object_at, text_at

EMPTY_SCHEMA: JsonObject = {"type": "object", "properties": {}}
NAMED_CHOICES = {"auto": "auto", "none": "none", "required": "any"}
OPENAI_CHOICES = {value: key for key, value in NAMED_CHOICES.items()}


def anthropic_tools(tools: object) -> list[JsonObject]:
    """Turn OpenAI function tools into Anthropic custom tools."""
    result = []
    for index, tool in enumerate(list_at(tools, "tools")):
        where = f"tools.{index}"
        tool = object_at(tool, where)
        if tool.get("type", "function") != "function":
            raise ValueError(f"{where}: only function tools are supported for Anthropic models")
        function = object_at(tool.get("function"), f"{where}.function")
        schema = function.get("parameters")
        schema = EMPTY_SCHEMA if schema is None else object_at(schema, f"{where}.parameters")
        converted: JsonObject = {
            "name": text_at(function.get("name"), f"{where}.function.name"),
            "input_schema": {"type": "object", **schema},
        }
        if isinstance(function.get("description"), str) and function["description"]:
            converted["description"] = function["description"]
        result.append(converted)
    return result


def anthropic_tool_choice(choice: object, *, parallel: object) -> JsonObject | None:
    """Turn OpenAI tool_choice and parallel_tool_calls into an Anthropic tool_choice."""
    converted: JsonObject
    if choice is None:
        if parallel is not False:
            return None
        converted = {"type": "auto"}
    elif isinstance(choice, str) and choice in NAMED_CHOICES:
        converted = {"type": NAMED_CHOICES[choice]}
    elif isinstance(choice, dict) and choice.get("type") == "function":
        function = object_at(choice.get("function"), "tool_choice.function")
        name = text_at(function.get("name"), "tool_choice.function.name")
        converted = {"type": "tool", "name": name}
    else:
        raise ValueError("tool_choice: must be auto, none, required or a named function")
    if parallel is False and converted["type"] != "none":
        converted["disable_parallel_tool_use"] = True
    return converted


def openai_tools(tools: object) -> list[JsonObject]:
    """Turn Anthropic custom tools into OpenAI function tools."""
    result = []
    for index, tool in enumerate(list_at(tools, "tools")):
        where = f"tools.{index}"
        tool = object_at(tool, where)
        if tool.get("type") not in (None, "custom"):
            raise ValueError(f"{where}: tool type {tool['type']!r} is not supported here")
        function: JsonObject = {
            "name": text_at(tool.get("name"), f"{where}.name"),
            "parameters": object_at(tool.get("input_schema"), f"{where}.input_schema"),
        }
        if isinstance(tool.get("description"), str) and tool["description"]:
            function["description"] = tool["description"]
        result.append({"type": "function", "function": function})
    return result


def openai_tool_choice(choice: object) -> tuple[object, bool]:
    """Turn an Anthropic tool_choice into OpenAI's, and whether calls may run in parallel."""
    choice = object_at(choice, "tool_choice")
    kind = choice.get("type")
    parallel = choice.get("disable_parallel_tool_use") is not True
    if kind == "tool":
        name = text_at(choice.get("name"), "tool_choice.name")
        return {"type": "function", "function": {"name": name}}, parallel
    if isinstance(kind, str) and kind in OPENAI_CHOICES:
        return OPENAI_CHOICES[kind], parallel
    raise ValueError("tool_choice.type: must be auto, any, tool or none")
