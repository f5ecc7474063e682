"""Hand-written checks of request bodies: cheaper than a pydantic model on the hot path."""

from typing import TypeGuard

import orjson

from tokengate.mockprovider.errors import InvalidRequest
from tokengate.mockprovider.tokens import count_tokens

JsonObject = dict[str, object]


def read_model(body: JsonObject) -> str:
    """Return the requested model name."""
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise InvalidRequest("you must provide a model parameter", param="model")
    return model


def read_cap(body: JsonObject, *names: str) -> int | None:
    """Return the first max-tokens style field present, checked to be a positive integer."""
    for name in names:
        value = body.get(name)
        if value is None:
            continue
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise InvalidRequest(f"{name}: must be an integer of at least 1", param=name)
        return value
    return None


def read_flag(body: JsonObject, name: str) -> bool:
    """Return an optional boolean field."""
    value = body.get(name, False)
    if value is None:
        return False
    if not isinstance(value, bool):
        raise InvalidRequest(f"{name}: must be a boolean", param=name)
    return value


def read_include_usage(body: JsonObject) -> bool:
    """Return stream_options.include_usage."""
    options = body.get("stream_options")
    if options is None:
        return False
    if not isinstance(options, dict):
        raise InvalidRequest("stream_options: must be an object", param="stream_options")
    return read_flag(options, "include_usage")


def read_messages(body: JsonObject, *, roles: frozenset[str] | None = None) -> list[JsonObject]:
    """Return the non-empty list of messages, each an object with a known role."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidRequest("messages: must be a non-empty array", param="messages")
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if not isinstance(role, str) or (roles is not None and role not in roles):
            raise InvalidRequest(f"messages.{index}.role: invalid role", param="messages")
    return messages


def read_inputs(value: object, *, param: str, allow_empty: bool) -> list[tuple[bytes, int]]:
    """Return each input's identity bytes and token count; an input is a text or token ids."""
    message = f"{param}: must be a string, an array of strings or an array of token arrays"
    if isinstance(value, str) or is_token_array(value):
        value = [value]
    if not isinstance(value, list) or not value:
        raise InvalidRequest(message, param=param)
    inputs: list[tuple[bytes, int]] = []
    for item in value:
        if isinstance(item, str) and (item or allow_empty):
            inputs.append((item.encode(), count_tokens(item)))
        elif is_token_array(item):
            inputs.append((orjson.dumps(item), len(item)))
        else:
            raise InvalidRequest(message, param=param)
    return inputs


def is_token_array(value: object) -> TypeGuard[list[int]]:
    """Tell whether value is a non-empty list of token ids."""
    return (
        isinstance(value, list)
        and bool(value)
        and all(isinstance(item, int) and not isinstance(item, bool) for item in value)
    )
