"""Conversations in each format: OpenAI chat messages and Anthropic system plus turns."""

from __future__ import annotations

from collections.abc import Callable

from tokengate.translate.content import anthropic_block, openai_part
from tokengate.translate.fields import (
    JsonObject,
    anthropic_tool_id,
    dumps_text,
    list_at,
    object_at,
    parse_arguments,
    text_at,
)

SYSTEM_ROLES = frozenset({"system", "developer"})
SKIPPED_BLOCKS = frozenset({"thinking", "redacted_thinking"})
ERROR_PREFIX = "Error: "

Converter = Callable[[JsonObject, str], tuple[str, list[JsonObject]]]


def anthropic_conversation(messages: object) -> tuple[list[JsonObject], list[JsonObject]]:
    """Turn OpenAI chat messages into Anthropic system blocks and alternating turns."""
    system: list[JsonObject] = []
    turns: list[JsonObject] = []
    for index, message in enumerate(list_at(messages, "messages")):
        where = f"messages.{index}"
        message = object_at(message, where)
        role = message.get("role")
        if role in SYSTEM_ROLES:
            system.extend(_text_blocks(message.get("content"), f"{where}.content"))
        elif isinstance(role, str) and role in CONVERTERS:
            turn_role, blocks = CONVERTERS[role](message, where)
            _append(turns, turn_role, blocks)
        else:
            raise ValueError(f"{where}.role: {role!r} is not supported for Anthropic models")
    _trim_prefill(turns)
    if not turns:
        raise ValueError("messages: Anthropic models need a user or assistant message with content")
    for turn in turns:
        # Anthropic wants a turn's tool results before anything else it says
        if turn["role"] == "user":
            turn["content"].sort(key=lambda block: block["type"] != "tool_result")
    return system, turns


def _text_blocks(content: object, where: str) -> list[JsonObject]:
    if content is None:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}] if content else []
    blocks = []
    for index, part in enumerate(list_at(content, where)):
        part = object_at(part, f"{where}.{index}")
        kind = part.get("type")
        if kind not in ("text", "refusal"):
            raise ValueError(f"{where}.{index}: only text content is allowed here")
        text = text_at(part.get(kind), f"{where}.{index}.{kind}")
        if text:
            blocks.append({"type": "text", "text": text})
    return blocks


def _user(message: JsonObject, where: str) -> tuple[str, list[JsonObject]]:
    content = message.get("content")
    if isinstance(content, str):
        return "user", _text_blocks(content, f"{where}.content")
    parts = list_at(content, f"{where}.content")
    blocks = [anthropic_block(part, f"{where}.content.{i}") for i, part in enumerate(parts)]
    return "user", [block for block in blocks if block is not None]


def _assistant(message: JsonObject, where: str) -> tuple[str, list[JsonObject]]:
    if message.get("function_call") is not None:
        raise ValueError(f"{where}.function_call: deprecated, send tool_calls instead")
    blocks = _text_blocks(message.get("content"), f"{where}.content")
    blocks.extend(_text_blocks(message.get("refusal"), f"{where}.refusal"))
    calls = message.get("tool_calls") or []
    for index, call in enumerate(list_at(calls, f"{where}.tool_calls")):
        call_where = f"{where}.tool_calls.{index}"
        call = object_at(call, call_where)
        function = object_at(call.get("function"), f"{call_where}.function")
        blocks.append(
            {
                "type": "tool_use",
                "id": anthropic_tool_id(text_at(call.get("id"), f"{call_where}.id")),
                "name": text_at(function.get("name"), f"{call_where}.function.name"),
                "input": parse_arguments(function.get("arguments")),
            }
        )
    return "assistant", blocks


def _tool(message: JsonObject, where: str) -> tuple[str, list[JsonObject]]:
    tool_call_id = text_at(message.get("tool_call_id"), f"{where}.tool_call_id")
    result: JsonObject = {"type": "tool_result", "tool_use_id": anthropic_tool_id(tool_call_id)}
    content = message.get("content")
    blocks = _text_blocks(content, f"{where}.content")
    if blocks:
        result["content"] = content if isinstance(content, str) else blocks
    return "user", [result]


CONVERTERS: dict[str, Converter] = {"user": _user, "assistant": _assistant, "tool": _tool}


def _append(turns: list[JsonObject], role: str, blocks: list[JsonObject]) -> None:
    if not blocks:
        return
    if turns and turns[-1]["role"] == role:
        turns[-1]["content"].extend(blocks)
    else:
        turns.append({"role": role, "content": blocks})


def _trim_prefill(turns: list[JsonObject]) -> None:
    # Anthropic refuses a final assistant turn (a prefill) that ends in whitespace
    if not turns or turns[-1]["role"] != "assistant":
        return
    blocks = turns[-1]["content"]
    if blocks[-1]["type"] == "text":
        blocks[-1]["text"] = blocks[-1]["text"].rstrip()
        if not blocks[-1]["text"]:
            blocks.pop()
    if not blocks:
        turns.pop()


def openai_conversation(system: object, messages: object) -> list[JsonObject]:
    """Turn an Anthropic system prompt and turns into OpenAI chat messages."""
    result: list[JsonObject] = []
    if system is not None:
        blocks = _anthropic_blocks(system, "system")
        text = "\n\n".join(text_at(b.get("text"), "system.text") for b in blocks if b.get("text"))
        if text:
            result.append({"role": "system", "content": text})
    for index, message in enumerate(list_at(messages, "messages")):
        where = f"messages.{index}"
        message = object_at(message, where)
        blocks = _anthropic_blocks(message.get("content"), f"{where}.content")
        role = message.get("role")
        if role == "user":
            result.extend(_from_user(blocks, f"{where}.content"))
        elif role == "assistant":
            result.extend(_from_assistant(blocks, f"{where}.content"))
        else:
            raise ValueError(f"{where}.role: must be user or assistant")
    return result


def _anthropic_blocks(content: object, where: str) -> list[JsonObject]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    return [object_at(block, f"{where}.{i}") for i, block in enumerate(list_at(content, where))]


def _from_user(blocks: list[JsonObject], where: str) -> list[JsonObject]:
    messages: list[JsonObject] = []
    images: list[JsonObject] = []
    parts: list[JsonObject] = []
    for index, block in enumerate(blocks):
        if block.get("type") == "tool_result":
            message, returned = _tool_message(block, f"{where}.{index}")
            messages.append(message)
            images.extend(returned)
        else:
            parts.append(openai_part(block, f"{where}.{index}"))
    # OpenAI tool messages carry text only: images a tool returned follow in a user message
    parts = images + parts
    if len(parts) == 1 and parts[0]["type"] == "text":
        messages.append({"role": "user", "content": parts[0]["text"]})
    elif parts:
        messages.append({"role": "user", "content": parts})
    return messages


def _tool_message(block: JsonObject, where: str) -> tuple[JsonObject, list[JsonObject]]:
    texts: list[str] = []
    images: list[JsonObject] = []
    content = block.get("content")
    for index, item in enumerate(_anthropic_blocks(content or "", f"{where}.content")):
        part = openai_part(item, f"{where}.content.{index}")
        if part["type"] == "text":
            texts.append(part["text"])
        elif part["type"] == "image_url":
            images.append(part)
        else:
            raise ValueError(f"{where}.content.{index}: a tool result holds text and images only")
    text = "\n".join(texts)
    if block.get("is_error") is True:
        text = ERROR_PREFIX + text if text else ERROR_PREFIX.rstrip(": ")
    tool_call_id = text_at(block.get("tool_use_id"), f"{where}.tool_use_id")
    return {"role": "tool", "tool_call_id": tool_call_id, "content": text}, images


def _from_assistant(blocks: list[JsonObject], where: str) -> list[JsonObject]:
    texts: list[str] = []
    calls: list[JsonObject] = []
    for index, block in enumerate(blocks):
        kind = block.get("type")
        if kind == "text":
            texts.append(text_at(block.get("text"), f"{where}.{index}.text"))
        elif kind == "tool_use":
            function = {
                "name": text_at(block.get("name"), f"{where}.{index}.name"),
                "arguments": dumps_text(object_at(block.get("input"), f"{where}.{index}.input")),
            }
            call_id = text_at(block.get("id"), f"{where}.{index}.id")
            calls.append({"id": call_id, "type": "function", "function": function})
        elif kind not in SKIPPED_BLOCKS:
            raise ValueError(f"{where}.{index}: content type {kind!r} is not supported here")
    message: JsonObject = {"role": "assistant", "content": "".join(texts) if texts else None}
    if calls:
        message["tool_calls"] = calls
    return [message] if texts or calls else []
