"""Request bodies in each format: OpenAI chat completions and Anthropic messages."""

from __future__ import annotations

from typing import Literal

from tokengate.translate.fields import JsonObject, count_at, list_at, object_at, text_at
from tokengate.translate.messages import anthropic_conversation, openai_conversation
from tokengate.translate.tools import (
    anthropic_tool_choice,
    anthropic_tools,
    openai_tool_choice,
    openai_tools,
)

# OpenAI's temperature runs 0..2, Anthropic's 0..1; both default to 1
MAX_ANTHROPIC_TEMPERATURE = 1.0
NUMBER = (int, float)
CapField = Literal["max_tokens", "max_completion_tokens"]


def openai_chat_to_anthropic(body: JsonObject, *, sampling: bool = True) -> JsonObject:
    """Translate an OpenAI chat completion request into an Anthropic Messages request."""
    _refuse_unsupported(body)
    system, messages = anthropic_conversation(body.get("messages"))
    result: JsonObject = {
        "model": body.get("model"),
        "max_tokens": _max_tokens(body),
        "messages": messages,
    }
    if system:
        result["system"] = system[0]["text"] if len(system) == 1 else system
    if sampling:
        result.update(_sampling(body))
    stop = _stop_sequences(body.get("stop"))
    if stop:
        result["stop_sequences"] = stop
    if body.get("stream") is True:
        result["stream"] = True
    user = body.get("user") or body.get("safety_identifier")
    if isinstance(user, str) and user:
        result["metadata"] = {"user_id": user}
    if body.get("tools"):
        result["tools"] = anthropic_tools(body["tools"])
        choice = anthropic_tool_choice(
            body.get("tool_choice"), parallel=body.get("parallel_tool_calls")
        )
        if choice is not None:
            result["tool_choice"] = choice
    return result


def _sampling(body: JsonObject) -> JsonObject:
    # recent Claude models refuse temperature and top_p together: temperature wins
    temperature = _number(body, "temperature")
    top_p = _number(body, "top_p")
    if temperature is not None:
        return {"temperature": min(max(temperature, 0.0), MAX_ANTHROPIC_TEMPERATURE)}
    return {} if top_p is None else {"top_p": top_p}


def _refuse_unsupported(body: JsonObject) -> None:
    n = body.get("n")
    if isinstance(n, int) and n > 1:
        raise ValueError("n > 1 is not supported for Anthropic models")
    if body.get("functions") or body.get("function_call"):
        raise ValueError("functions and function_call are deprecated: send tools instead")


def _max_tokens(body: JsonObject) -> int:
    for name in ("max_completion_tokens", "max_tokens"):
        if body.get(name) is not None:
            return count_at(body[name], name)
    raise ValueError("max_tokens or max_completion_tokens is required for Anthropic models")


def _number(body: JsonObject, name: str) -> float | None:
    value = body.get(name)
    if value is None:
        return None
    if not isinstance(value, NUMBER) or isinstance(value, bool):
        raise ValueError(f"{name}: must be a number")
    return float(value)


def _stop_sequences(stop: object) -> list[str]:
    if stop is None:
        return []
    items = [stop] if isinstance(stop, str) else list_at(stop, "stop")
    # Anthropic refuses empty stop sequences, which stop nothing anyway
    return [text for i, item in enumerate(items) if (text := text_at(item, f"stop.{i}"))]


def anthropic_to_openai_chat(body: JsonObject, *, cap_field: CapField = "max_tokens") -> JsonObject:
    """Translate an Anthropic Messages request into an OpenAI chat completion request."""
    result: JsonObject = {
        "model": body.get("model"),
        "messages": openai_conversation(body.get("system"), body.get("messages")),
        cap_field: count_at(body.get("max_tokens"), "max_tokens"),
    }
    for name in ("temperature", "top_p"):
        value = _number(body, name)
        if value is not None:
            result[name] = value
    stop = body.get("stop_sequences")
    if stop:
        result["stop"] = [
            text_at(s, f"stop_sequences.{i}") for i, s in enumerate(list_at(stop, "stop_sequences"))
        ]
    if body.get("stream") is True:
        result["stream"] = True
        # the gateway meters every stream, so it always asks for the final usage chunk
        result["stream_options"] = {"include_usage": True}
    metadata = body.get("metadata")
    user = object_at(metadata, "metadata").get("user_id") if metadata is not None else None
    if isinstance(user, str) and user:
        result["user"] = user
    if body.get("tools"):
        result["tools"] = openai_tools(body["tools"])
        if body.get("tool_choice") is not None:
            choice, parallel = openai_tool_choice(body["tool_choice"])
            result["tool_choice"] = choice
            if not parallel:
                result["parallel_tool_calls"] = False
    return result
