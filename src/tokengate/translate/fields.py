"""Hand-written checks of the JSON the translators read; a wrong shape is a ValueError."""

from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson

JsonObject = dict[str, Any]
ANTHROPIC_TOOL_ID = re.compile(r"[a-zA-Z0-9_-]+")
NOT_IN_TOOL_ID = re.compile(r"[^a-zA-Z0-9_-]")


def object_at(value: object, where: str) -> JsonObject:
    """Return value as a JSON object, or raise naming where it was."""
    if not isinstance(value, dict):
        raise ValueError(f"{where}: must be an object")
    return value


def list_at(value: object, where: str) -> list[Any]:
    """Return value as a JSON array, or raise naming where it was."""
    if not isinstance(value, list):
        raise ValueError(f"{where}: must be an array")
    return value


def text_at(value: object, where: str) -> str:
    """Return value as a string, or raise naming where it was."""
    if not isinstance(value, str):
        raise ValueError(f"{where}: must be a string")
    return value


def count_at(value: object, where: str) -> int:
    """Return value as a positive integer, or raise naming where it was."""
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise ValueError(f"{where}: must be an integer of at least 1")
    return value


def tokens_of(value: object) -> int:
    """Return a token count from an upstream payload, 0 when missing or malformed."""
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def dumps_text(value: object) -> str:
    """Serialize a JSON value to a compact string."""
    return orjson.dumps(value).decode()


def parse_arguments(raw: object) -> JsonObject:
    """Parse OpenAI tool-call arguments into an Anthropic tool input: {} unless a JSON object."""
    if isinstance(raw, dict):
        return raw
    if not isinstance(raw, str) or not raw.strip():
        return {}
    try:
        parsed = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return {}
    return parsed if isinstance(parsed, dict) else {}


def anthropic_tool_id(raw: str) -> str:
    """Make a tool call id one Anthropic accepts; the same id always maps to the same result."""
    if ANTHROPIC_TOOL_ID.fullmatch(raw):
        return raw
    # other providers' ids ("functions.get_weather:0") would be refused; the digest keeps them apart
    digest = hashlib.sha256(raw.encode()).hexdigest()[:8]
    return f"{NOT_IN_TOOL_ID.sub('_', raw)}_{digest}"
