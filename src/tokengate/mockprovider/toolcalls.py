"""The mock's simple take on function calling: which tool to call and with which arguments."""

import secrets
from dataclasses import dataclass

import orjson

from tokengate.mockprovider.errors import InvalidRequest
from tokengate.mockprovider.fields import JsonObject
from tokengate.mockprovider.tokens import count_tokens, split_pieces

PLACEHOLDERS: dict[str, object] = {
    "string": "example",
    "integer": 1,
    "number": 1.5,
    "boolean": True,
    "array": [],
    "object": {},
}


@dataclass(frozen=True, slots=True)
class ToolCall:
    """One function call the mock answers with."""

    id: str
    name: str
    arguments: str
    argument_pieces: list[str]

    @property
    def tokens(self) -> int:
        """The completion tokens the call costs: its name and its arguments."""
        return count_tokens(self.name) + len(self.argument_pieces)


def pick_tool_call(*, body: JsonObject, messages: list[JsonObject]) -> ToolCall | None:
    """Decide whether the request gets a tool call instead of text, and build it."""
    functions = _functions(body.get("tools"))
    if not functions:
        return None
    name = _chosen_name(body.get("tool_choice"), functions=functions, last=messages[-1])
    if name is None:
        return None
    arguments = orjson.dumps(_arguments_for(functions[name])).decode()
    return ToolCall(
        id=f"call_{secrets.token_hex(12)}",
        name=name,
        arguments=arguments,
        argument_pieces=split_pieces(arguments),
    )


def _functions(tools: object) -> dict[str, object]:
    if not isinstance(tools, list):
        return {}
    functions: dict[str, object] = {}
    for tool in tools:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and isinstance(function.get("name"), str):
            functions[function["name"]] = function.get("parameters")
    return functions


def _chosen_name(choice: object, *, functions: dict[str, object], last: JsonObject) -> str | None:
    if choice == "none":
        return None
    if choice == "required":
        return next(iter(functions))
    if isinstance(choice, dict):
        function = choice.get("function")
        name = function.get("name") if isinstance(function, dict) else None
        if not isinstance(name, str) or name not in functions:
            raise InvalidRequest("tool_choice names a function not in tools", param="tool_choice")
        return name
    # With tool_choice "auto", call a tool only when the user's last message names it.
    if last.get("role") != "user":
        return None
    text = str(last.get("content"))
    return next((name for name in functions if name in text), None)


def _arguments_for(parameters: object) -> dict[str, object]:
    properties = parameters.get("properties") if isinstance(parameters, dict) else None
    if not isinstance(properties, dict):
        return {}
    arguments: dict[str, object] = {}
    for name, schema in properties.items():
        spec = schema if isinstance(schema, dict) else {}
        enum = spec.get("enum")
        if isinstance(enum, list) and enum:
            arguments[name] = enum[0]
        else:
            arguments[name] = PLACEHOLDERS.get(str(spec.get("type")))
    return arguments
