"""Server-sent event frames in each format."""

from __future__ import annotations

import orjson

from tokengate.translate.fields import JsonObject

# OpenAI ends a stream with this frame; Anthropic ends with its message_stop event
OPENAI_DONE = b"data: [DONE]\n\n"


def sse_bytes_openai(chunk: JsonObject) -> bytes:
    """Frame an OpenAI stream chunk (or error object) as a server-sent event."""
    return b"data: " + orjson.dumps(chunk) + b"\n\n"


def sse_bytes_anthropic(event: str, data: JsonObject) -> bytes:
    """Frame an Anthropic stream event as a named server-sent event."""
    return b"event: " + event.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"
