"""Event filters for streams that start or end in Anthropic's format."""

from __future__ import annotations

from typing import Any

import orjson

from tokengate.catalog.schemas import TokenUsage
from tokengate.errors import Locale, TokengateError, UpstreamError
from tokengate.metering.tokens import estimate_tokens
from tokengate.providers.anthropic import usage_from_payload
from tokengate.proxy.errors import anthropic_error_body, openai_error_body
from tokengate.proxy.sse_openai import text_of_chunk
from tokengate.translate import (
    OPENAI_DONE,
    AnthropicToOpenAIStream,
    OpenAIToAnthropicStream,
    StreamUsage,
    sse_bytes_anthropic,
    sse_bytes_openai,
)

MESSAGE_STOP = b'event: message_stop\ndata: {"type":"message_stop"}\n\n'


def parse_event(event: bytes) -> tuple[str, dict[str, Any]]:
    """The type and JSON data of one named server-sent event."""
    kind, data = "", b""
    for line in event.split(b"\n"):
        if line.startswith(b"event:"):
            kind = line[6:].strip().decode()
        elif line.startswith(b"data:"):
            data = line[5:].strip()
    try:
        payload = orjson.loads(data) if data else {}
    except orjson.JSONDecodeError:
        payload = {}
    if not isinstance(payload, dict):
        payload = {}
    return kind or str(payload.get("type", "")), payload


def _upstream_failure(data: dict[str, Any]) -> UpstreamError:
    error = data.get("error")
    detail = error.get("message", "error") if isinstance(error, dict) else "error"
    return UpstreamError(f"The model provider failed mid-stream: {detail}")


def _as_usage(counts: StreamUsage) -> TokenUsage | None:
    if counts.input_tokens == 0 and counts.output_tokens == 0:
        return None
    return TokenUsage(
        input_tokens=counts.input_tokens,
        output_tokens=counts.output_tokens,
        cached_tokens=counts.cached_tokens,
    )


class AnthropicEvents:
    """Passes an Anthropic stream through to an Anthropic client, noting the usage."""

    def __init__(self, *, model_swap: tuple[bytes, bytes] | None) -> None:
        self.model_swap = model_swap
        self.usage: TokenUsage | None = None
        self.done = False
        self.saw_output = False
        self.output_events = 0
        self._input: dict[str, Any] = {}
        self._text: list[str] = []

    def take(self, event: bytes) -> bytes | None:
        """Forward the event; hold message_stop back until the request is recorded."""
        kind, data = parse_event(event)
        if kind == "error":
            raise _upstream_failure(data)
        if kind == "message_stop":
            self.done = True
            return None
        if kind == "message_start":
            message = data.get("message")
            usage = message.get("usage") if isinstance(message, dict) else None
            self._input = dict(usage) if isinstance(usage, dict) else {}
            if self.model_swap is not None:
                event = event.replace(*self.model_swap)
        elif kind == "message_delta":
            self._input.update(data.get("usage") or {})
            self.usage = usage_from_payload({"usage": self._input})
        elif kind == "content_block_delta":
            self.saw_output = True
            delta = data.get("delta") or {}
            text = str(delta.get("text") or delta.get("partial_json") or "")
            self.output_events += 1 if text else 0
            self._text.append(text)
        return event

    def terminator(self) -> bytes:
        """Anthropic's last event."""
        return MESSAGE_STOP

    def error_event(self, error: TokengateError, locale: Locale) -> bytes:
        """An Anthropic-shaped error event."""
        return sse_bytes_anthropic("error", anthropic_error_body(error, locale))

    def output_tokens_estimate(self) -> int:
        """Estimate the output relayed so far."""
        return estimate_tokens("".join(self._text))


class AnthropicToOpenAIEvents:
    """Translates an Anthropic stream for an OpenAI client."""

    def __init__(self, *, model: str, client_wants_usage: bool) -> None:
        self._stream = AnthropicToOpenAIStream(model=model, include_usage=client_wants_usage)
        self.usage: TokenUsage | None = None
        self.done = False
        self.saw_output = False
        self.output_events = 0
        self._chunks: list[dict[str, Any]] = []

    def take(self, event: bytes) -> bytes | None:
        """Translate one event into zero or more OpenAI chunks."""
        kind, data = parse_event(event)
        if kind == "error":
            raise _upstream_failure(data)
        chunks = self._stream.feed(kind, data)
        self.usage = _as_usage(self._stream.usage)
        if kind == "content_block_delta":
            self.saw_output = True
            delta = data.get("delta") or {}
            self.output_events += 1 if (delta.get("text") or delta.get("partial_json")) else 0
        if kind == "message_stop":
            self.done = True
        self._chunks.extend(chunks)
        return b"".join(sse_bytes_openai(chunk) for chunk in chunks) or None

    def terminator(self) -> bytes:
        """OpenAI's last frame."""
        return OPENAI_DONE

    def error_event(self, error: TokengateError, locale: Locale) -> bytes:
        """An OpenAI-shaped error event."""
        return sse_bytes_openai(openai_error_body(error, locale))

    def output_tokens_estimate(self) -> int:
        """Estimate the output relayed so far."""
        return estimate_tokens("".join(text_of_chunk(c) for c in self._chunks))


class OpenAIToAnthropicEvents:
    """Translates an OpenAI stream for an Anthropic client."""

    def __init__(self, *, model: str, input_estimate: int) -> None:
        self._stream = OpenAIToAnthropicStream(model=model, input_tokens=input_estimate)
        self.usage: TokenUsage | None = None
        self.done = False
        self.saw_output = False
        self.output_events = 0
        self._held = MESSAGE_STOP
        self._text: list[str] = []

    def take(self, event: bytes) -> bytes | None:
        """Translate one OpenAI chunk into zero or more Anthropic events."""
        if event.startswith(b"data: [DONE]"):
            self.done = True
            pairs = self._stream.finish()
        else:
            _, data = parse_event(event)
            if "error" in data:
                raise _upstream_failure(data)
            text = text_of_chunk(data)
            self.output_events += 1 if text else 0
            self._text.append(text)
            pairs = self._stream.feed(data)
            self.usage = _as_usage(self._stream.usage) if data.get("usage") else self.usage
        if any(kind == "content_block_delta" for kind, _ in pairs):
            self.saw_output = True
        if pairs and pairs[-1][0] == "message_stop":
            self._held = sse_bytes_anthropic(*pairs[-1])
            pairs = pairs[:-1]
        return b"".join(sse_bytes_anthropic(kind, data) for kind, data in pairs) or None

    def terminator(self) -> bytes:
        """Anthropic's last event (as the translator produced it)."""
        return self._held

    def error_event(self, error: TokengateError, locale: Locale) -> bytes:
        """An Anthropic-shaped error event."""
        return sse_bytes_anthropic("error", anthropic_error_body(error, locale))

    def output_tokens_estimate(self) -> int:
        """Estimate the output relayed so far."""
        return estimate_tokens("".join(self._text))
