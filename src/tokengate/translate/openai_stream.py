"""Reading an OpenAI chat.completion.chunk stream as Anthropic Messages events."""

from __future__ import annotations

from dataclasses import dataclass

from tokengate.translate.fields import JsonObject, anthropic_tool_id, dumps_text
from tokengate.translate.responses import stop_reason_of
from tokengate.translate.usage import StreamUsage, anthropic_usage, stream_usage

Event = tuple[str, JsonObject]

ERROR_TYPES = frozenset(
    {
        "invalid_request_error",
        "authentication_error",
        "billing_error",
        "permission_error",
        "not_found_error",
        "rate_limit_error",
        "timeout_error",
        "api_error",
        "overloaded_error",
    }
)
ERROR_ALIASES = {
    "server_error": "api_error",
    "rate_limit_exceeded": "rate_limit_error",
    "insufficient_quota": "billing_error",
}


@dataclass
class _ToolCall:
    block: int | None = None
    id: str = ""
    name: str = ""
    pending: str = ""


class OpenAIToAnthropicStream:
    """Turns OpenAI chunks, one at a time, into Anthropic stream events."""

    def __init__(self, *, model: str, input_tokens: int = 0) -> None:
        self.finished = False
        self._model = model
        # what message_start announces: the real count comes only with the last chunk
        self._input_tokens = input_tokens
        self._id = ""
        self._started = False
        self._blocks = 0
        self._open: int | None = None
        self._open_is_text = False
        self._tools: dict[int, _ToolCall] = {}
        self._stop_reason: str | None = None
        self._refused = False
        self._usage: JsonObject | None = None

    @property
    def usage(self) -> StreamUsage:
        """The input (cached included), output and cached tokens reported so far."""
        return stream_usage(self._usage or {})

    def feed(self, chunk: JsonObject) -> list[Event]:
        """Translate one chunk into zero or more (event type, data) pairs."""
        if self.finished:
            return []
        error = chunk.get("error")
        if isinstance(error, dict):
            message = str(error.get("message") or "upstream stream error")
            return self.fail(message, error_type=_error_type(error))
        if not chunk.get("choices") and not isinstance(chunk.get("usage"), dict):
            # e.g. Azure's leading prompt_filter_results chunk, which has no id yet
            return []
        events = self._start(chunk)
        if isinstance(chunk.get("usage"), dict):
            self._usage = chunk["usage"]
        for choice in chunk.get("choices") or []:
            if isinstance(choice, dict) and choice.get("index", 0) == 0:
                events.extend(self._choice(choice))
        # the usage chunk comes after the one with finish_reason (or with it)
        if self._stop_reason is not None and self._usage is not None:
            events.extend(self._end())
        return events

    def finish(self) -> list[Event]:
        """Close the message once the upstream stream ended; safe to call more than once."""
        if self.finished:
            return []
        if not self._started:
            self.finished = True
            return []
        return self._end()

    def fail(self, message: str, *, error_type: str = "api_error") -> list[Event]:
        """End the stream with an Anthropic error event."""
        self.finished = True
        error = {"type": error_type, "message": message}
        return [("error", {"type": "error", "error": error})]

    def _start(self, chunk: JsonObject) -> list[Event]:
        if self._started:
            return []
        self._started = True
        self._id = str(chunk.get("id") or "")
        message: JsonObject = {
            "id": self._id,
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": {"input_tokens": self._input_tokens, "output_tokens": 0},
        }
        return [("message_start", {"type": "message_start", "message": message})]

    def _choice(self, choice: JsonObject) -> list[Event]:
        delta = choice.get("delta")
        delta = delta if isinstance(delta, dict) else {}
        events: list[Event] = []
        for key in ("content", "refusal"):
            text = delta.get(key)
            if isinstance(text, str) and text:
                self._refused = self._refused or key == "refusal"
                events.extend(self._text(text))
        calls = delta.get("tool_calls")
        for position, call in enumerate(calls if isinstance(calls, list) else []):
            if isinstance(call, dict):
                events.extend(self._tool_delta(call, position))
        finish_reason = choice.get("finish_reason")
        if finish_reason is not None:
            self._stop_reason = stop_reason_of(finish_reason)
            events.extend(self._close())
        return events

    def _text(self, text: str) -> list[Event]:
        events: list[Event] = []
        if self._open is None or not self._open_is_text:
            events.extend(self._close())
            events.extend(self._open_block({"type": "text", "text": ""}, is_text=True))
        delta = {"type": "text_delta", "text": text}
        events.append(_block_delta(self._open, delta))
        return events

    def _tool_delta(self, call: JsonObject, position: int) -> list[Event]:
        index = call["index"] if isinstance(call.get("index"), int) else position
        state = self._tools.setdefault(index, _ToolCall())
        function = call.get("function")
        function = function if isinstance(function, dict) else {}
        state.id = state.id or _text_of(call.get("id"))
        state.name = state.name or _text_of(function.get("name"))
        arguments = function.get("arguments")
        fragment = arguments if isinstance(arguments, str) else _json_of(arguments)
        events: list[Event] = []
        if state.block is None:
            if not state.name:
                # a block cannot start without its tool's name: hold the arguments until then
                state.pending += fragment
                return []
            block = {
                "type": "tool_use",
                "id": anthropic_tool_id(state.id or f"toolu_{self._id}_{index}"),
                "name": state.name,
                "input": {},
            }
            events.extend(self._close())
            events.extend(self._open_block(block, is_text=False))
            state.block = self._open
            fragment, state.pending = state.pending + fragment, ""
        if fragment:
            # fragments of an earlier call that arrive late still go to that call's block
            events.append(
                _block_delta(state.block, {"type": "input_json_delta", "partial_json": fragment})
            )
        return events

    def _open_block(self, block: JsonObject, *, is_text: bool) -> list[Event]:
        index = self._blocks
        self._blocks += 1
        self._open = index
        self._open_is_text = is_text
        data = {"type": "content_block_start", "index": index, "content_block": block}
        return [("content_block_start", data)]

    def _close(self) -> list[Event]:
        if self._open is None:
            return []
        index, self._open = self._open, None
        return [("content_block_stop", {"type": "content_block_stop", "index": index})]

    def _end(self) -> list[Event]:
        events = self._close()
        stop_reason = self._stop_reason or "end_turn"
        if self._refused and stop_reason == "end_turn":
            stop_reason = "refusal"
        usage = anthropic_usage(self._usage) if self._usage is not None else {"output_tokens": 0}
        delta = {"stop_reason": stop_reason, "stop_sequence": None}
        events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": usage}))
        events.append(("message_stop", {"type": "message_stop"}))
        self.finished = True
        return events


def _block_delta(index: int | None, delta: JsonObject) -> Event:
    return ("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta})


def _text_of(value: object) -> str:
    return value if isinstance(value, str) else ""


def _json_of(value: object) -> str:
    # a few OpenAI-compatible servers send the arguments as an object, not as a string
    return dumps_text(value) if isinstance(value, dict) else ""


def _error_type(error: JsonObject) -> str:
    for value in (error.get("type"), error.get("code")):
        if isinstance(value, str) and value in ERROR_TYPES:
            return value
        if isinstance(value, str) and value in ERROR_ALIASES:
            return ERROR_ALIASES[value]
    return "api_error"
