"""Reading an Anthropic Messages event stream as OpenAI chat.completion.chunk objects."""

from __future__ import annotations

import time

from tokengate.translate.fields import JsonObject, dumps_text
from tokengate.translate.responses import finish_reason_of
from tokengate.translate.usage import StreamUsage, openai_usage, stream_usage

USAGE_KEYS = (
    "input_tokens",
    "output_tokens",
    "cache_read_input_tokens",
    "cache_creation_input_tokens",
)


class AnthropicToOpenAIStream:
    """Turns Anthropic stream events, one at a time, into OpenAI chunks."""

    def __init__(self, *, model: str, include_usage: bool, created: int | None = None) -> None:
        self.finished = False
        self._model = model
        self._include_usage = include_usage
        self._created = int(time.time()) if created is None else created
        self._id = ""
        self._started = False
        self._counts: dict[str, int] = {}
        # Anthropic block index -> OpenAI tool call index, and the calls that got arguments
        self._tools: dict[int, int] = {}
        self._argued: set[int] = set()
        self._stop_reason: object = None
        self._finish_sent = False

    @property
    def usage(self) -> StreamUsage:
        """The input (cached included), output and cached tokens reported so far."""
        return stream_usage(openai_usage(self._counts))

    def feed(self, event_type: str, data: JsonObject) -> list[JsonObject]:
        """Translate one event into zero or more chunks (or an error object)."""
        if self.finished:
            return []
        match event_type or data.get("type"):
            case "message_start":
                return self._message_start(data)
            case "content_block_start":
                return self._block_start(data)
            case "content_block_delta":
                return self._block_delta(data)
            case "content_block_stop":
                return self._block_stop(data)
            case "message_delta":
                return self._message_delta(data)
            case "message_stop":
                return self._message_stop()
            case "error":
                return self._error(data)
        return []

    def _message_start(self, data: JsonObject) -> list[JsonObject]:
        message = data.get("message")
        if isinstance(message, dict):
            self._id = str(message.get("id") or "")
            self._count(message.get("usage"))
        return self._start()

    def _block_start(self, data: JsonObject) -> list[JsonObject]:
        chunks = self._start()
        block = data.get("content_block")
        index = data.get("index")
        if not isinstance(block, dict) or not isinstance(index, int):
            return chunks
        if block.get("type") == "text" and block.get("text"):
            chunks.append(self._chunk({"content": block["text"]}))
        elif block.get("type") == "tool_use":
            call = self._tools.setdefault(index, len(self._tools))
            function = {"name": block.get("name"), "arguments": ""}
            head = {"index": call, "id": block.get("id"), "type": "function", "function": function}
            chunks.append(self._chunk({"tool_calls": [head]}))
            if isinstance(block.get("input"), dict) and block["input"]:
                chunks.append(self._arguments(index, dumps_text(block["input"])))
        return chunks

    def _block_delta(self, data: JsonObject) -> list[JsonObject]:
        chunks = self._start()
        delta = data.get("delta")
        if not isinstance(delta, dict):
            return chunks
        if delta.get("type") == "text_delta" and delta.get("text"):
            chunks.append(self._chunk({"content": delta["text"]}))
        elif (
            delta.get("type") == "input_json_delta"
            and delta.get("partial_json")
            and data.get("index") in self._tools
        ):
            chunks.append(self._arguments(data["index"], delta["partial_json"]))
        return chunks

    def _block_stop(self, data: JsonObject) -> list[JsonObject]:
        index = data.get("index")
        # a call without arguments still needs valid JSON for the client to parse
        if index in self._tools and index not in self._argued:
            return [self._arguments(index, "{}")]
        return []

    def _message_delta(self, data: JsonObject) -> list[JsonObject]:
        self._count(data.get("usage"))
        delta = data.get("delta")
        if isinstance(delta, dict) and delta.get("stop_reason") is not None:
            self._stop_reason = delta["stop_reason"]
        return [*self._start(), *self._finish()]

    def _message_stop(self) -> list[JsonObject]:
        chunks = [*self._start(), *self._finish()]
        if self._include_usage:
            usage = openai_usage(self._counts)
            chunks.append({**self._envelope(), "choices": [], "usage": usage})
        self.finished = True
        return chunks

    def _error(self, data: JsonObject) -> list[JsonObject]:
        self.finished = True
        error = data.get("error")
        error = error if isinstance(error, dict) else {}
        message = error.get("message")
        kind = error.get("type")
        return [
            {
                "error": {
                    "message": message if isinstance(message, str) else "upstream stream error",
                    "type": kind if isinstance(kind, str) else "api_error",
                    "param": None,
                    "code": None,
                }
            }
        ]

    def _count(self, usage: object) -> None:
        # Anthropic's counts are running totals: a later event replaces an earlier one
        if isinstance(usage, dict):
            for key in USAGE_KEYS:
                value = usage.get(key)
                if isinstance(value, int) and not isinstance(value, bool):
                    self._counts[key] = value

    def _start(self) -> list[JsonObject]:
        if self._started:
            return []
        self._started = True
        return [self._chunk({"role": "assistant", "content": ""})]

    def _finish(self) -> list[JsonObject]:
        if self._finish_sent:
            return []
        self._finish_sent = True
        return [self._chunk({}, finish_reason=finish_reason_of(self._stop_reason))]

    def _arguments(self, index: int, fragment: str) -> JsonObject:
        self._argued.add(index)
        call = {"index": self._tools[index], "function": {"arguments": fragment}}
        return self._chunk({"tool_calls": [call]})

    def _envelope(self) -> JsonObject:
        return {
            "id": self._id,
            "object": "chat.completion.chunk",
            "created": self._created,
            "model": self._model,
        }

    def _chunk(self, delta: JsonObject, *, finish_reason: str | None = None) -> JsonObject:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        chunk = {**self._envelope(), "choices": [choice]}
        if self._include_usage:
            # OpenAI sends "usage": null on every chunk but the last when usage was asked for
            chunk["usage"] = None
        return chunk
