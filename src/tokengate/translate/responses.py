"""Non-streamed answers in each format: OpenAI chat completions and Anthropic messages."""

from __future__ import annotations

import time

from tokengate.translate.fields import (
    JsonObject,
    anthropic_tool_id,
    dumps_text,
    parse_arguments,
)
from tokengate.translate.usage import anthropic_usage, openai_usage

FINISH_REASONS = {
    "end_turn": "stop",
    "stop_sequence": "stop",
    "pause_turn": "stop",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
STOP_REASONS = {
    "stop": "end_turn",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "function_call": "tool_use",
    "content_filter": "refusal",
}


def finish_reason_of(stop_reason: object) -> str:
    """Map an Anthropic stop_reason to an OpenAI finish_reason."""
    return FINISH_REASONS.get(stop_reason, "stop") if isinstance(stop_reason, str) else "stop"


def stop_reason_of(finish_reason: object) -> str:
    """Map an OpenAI finish_reason to an Anthropic stop_reason."""
    if isinstance(finish_reason, str):
        return STOP_REASONS.get(finish_reason, "end_turn")
    return "end_turn"


def anthropic_message_to_openai(
    payload: JsonObject, *, model: str, created: int | None = None
) -> JsonObject:
    """Translate an Anthropic Message into an OpenAI chat.completion."""
    texts: list[str] = []
    calls: list[JsonObject] = []
    for block in payload.get("content") or []:
        if not isinstance(block, dict):
            continue
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            texts.append(block["text"])
        elif block.get("type") == "tool_use":
            calls.append(_tool_call(block))
    message: JsonObject = {
        "role": "assistant",
        "content": "".join(texts) if texts or not calls else None,
        "refusal": None,
    }
    if calls:
        message["tool_calls"] = calls
    choice = {
        "index": 0,
        "message": message,
        "logprobs": None,
        "finish_reason": finish_reason_of(payload.get("stop_reason")),
    }
    return {
        "id": str(payload.get("id") or ""),
        "object": "chat.completion",
        "created": int(time.time()) if created is None else created,
        "model": model,
        "choices": [choice],
        "usage": openai_usage(payload.get("usage")),
    }


def _tool_call(block: JsonObject) -> JsonObject:
    arguments = block.get("input")
    return {
        "id": str(block.get("id") or ""),
        "type": "function",
        "function": {
            "name": str(block.get("name") or ""),
            "arguments": dumps_text(arguments if isinstance(arguments, dict) else {}),
        },
    }


def openai_completion_to_anthropic(payload: JsonObject, *, model: str) -> JsonObject:
    """Translate an OpenAI chat.completion into an Anthropic Message."""
    choices = payload.get("choices")
    choice = choices[0] if isinstance(choices, list) and choices else {}
    choice = choice if isinstance(choice, dict) else {}
    message = choice.get("message")
    message = message if isinstance(message, dict) else {}
    content: list[JsonObject] = []
    for key in ("content", "refusal"):
        if isinstance(message.get(key), str) and message[key]:
            content.append({"type": "text", "text": message[key]})
    for call in message.get("tool_calls") or []:
        function = call.get("function") if isinstance(call, dict) else None
        if isinstance(function, dict):
            content.append(_tool_use(call, function))
    stop_reason = stop_reason_of(choice.get("finish_reason"))
    if message.get("refusal"):
        stop_reason = "refusal"
    return {
        "id": str(payload.get("id") or ""),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": content,
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": anthropic_usage(payload.get("usage")),
    }


def _tool_use(call: JsonObject, function: JsonObject) -> JsonObject:
    return {
        "type": "tool_use",
        "id": anthropic_tool_id(str(call.get("id") or "")),
        "name": str(function.get("name") or ""),
        "input": parse_arguments(function.get("arguments")),
    }
