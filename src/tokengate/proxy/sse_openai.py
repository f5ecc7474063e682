"""Reading an OpenAI-style event stream on its way to an OpenAI client."""

from __future__ import annotations

from typing import Any

import orjson

from tokengate.catalog.schemas import TokenUsage
from tokengate.errors import Locale, TokengateError
from tokengate.metering.tokens import estimate_tokens
from tokengate.providers.openai import usage_from_payload
from tokengate.proxy.errors import openai_error_body

DONE = b"data: [DONE]"


class OpenAIEvents:
    """Passes OpenAI chunks through; keeps the usage chunk only when the client asked for it."""

    def __init__(self, *, client_wants_usage: bool, model_swap: tuple[bytes, bytes] | None) -> None:
        self.client_wants_usage = client_wants_usage
        self.model_swap = model_swap
        self.usage: TokenUsage | None = None
        self.done = False
        self.saw_output = False
        # events that carried generated text: each holds at least one token
        self.output_events = 0
        self._relayed: list[bytes] = []

    def take(self, event: bytes) -> bytes | None:
        """Return what to forward of one event (None: nothing); notes usage and the end."""
        if event.startswith(DONE):
            # held back: the relay sends the terminator once the request is recorded
            self.done = True
            return None
        if b'"usage":{' in event or b'"usage": {' in event:
            payload = payload_of(event)
            usage = usage_from_payload(payload) if payload else None
            if usage is not None:
                self.usage = usage
                if payload and payload.get("choices") == [] and not self.client_wants_usage:
                    return None
        else:
            self.saw_output = True
            if carries_output(event):
                self.output_events += 1
        self._relayed.append(event)
        if self.model_swap is not None:
            event = event.replace(*self.model_swap)
        return event

    def terminator(self) -> bytes:
        """The end of a complete stream."""
        return DONE + b"\n\n"

    def error_event(self, error: TokengateError, locale: Locale) -> bytes:
        """An OpenAI-shaped error event ending a failed stream."""
        return b"data: " + orjson.dumps(openai_error_body(error, locale)) + b"\n\n"

    def output_tokens_estimate(self) -> int:
        """Estimate the output tokens of the content relayed so far."""
        text = [
            content_of(line[6:])
            for event in self._relayed
            for line in event.split(b"\n")
            if line.startswith(b"data: {")
        ]
        return estimate_tokens("".join(text))


_OUTPUT_MARKS = (b'"content":"', b'"text":"', b'"arguments":"', b'"reasoning_content":"')
_EMPTY_MARKS = (b'"content":""', b'"text":""', b'"arguments":""', b'"reasoning_content":""')


_MARK_PAIRS = tuple(zip(_OUTPUT_MARKS, _EMPTY_MARKS, strict=True))


def carries_output(event: bytes) -> bool:
    """Whether an OpenAI chunk holds generated text (cheaply: no JSON parsing).

    It does when one of its output fields is present and not empty. Called for every event of
    every stream: a plain loop, no generator.
    """
    for mark, empty in _MARK_PAIRS:  # noqa: SIM110 - no generator on the per-event path
        if mark in event and empty not in event:
            return True
    return False


def payload_of(event: bytes) -> dict[str, object] | None:
    """The JSON object of an event's ``data:`` line, if it has one."""
    for line in event.split(b"\n"):
        if line.startswith(b"data: {"):
            try:
                payload = orjson.loads(line[6:])
            except orjson.JSONDecodeError:
                return None
            return payload if isinstance(payload, dict) else None
    return None


def content_of(data: bytes) -> str:
    """The generated text of one chunk's JSON (content, reasoning, tool arguments, legacy text)."""
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        return ""
    return text_of_chunk(payload) if isinstance(payload, dict) else ""


def text_of_chunk(payload: dict[str, Any]) -> str:
    """The generated text of one parsed chunk."""
    parts: list[str] = []
    for choice in payload.get("choices") or []:
        if isinstance(choice.get("text"), str):
            parts.append(choice["text"])
        delta = choice.get("delta") or {}
        for key in ("content", "reasoning_content"):
            if isinstance(delta.get(key), str):
                parts.append(delta[key])
        for call in delta.get("tool_calls") or []:
            arguments = (call.get("function") or {}).get("arguments")
            if isinstance(arguments, str):
                parts.append(arguments)
    return "".join(parts)
