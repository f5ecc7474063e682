"""Relaying a provider's server-sent events to the client, event by event, while metering."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp
import anyio
import orjson
from starlette.types import Receive, Scope, Send

from tokengate.catalog.schemas import TokenUsage
from tokengate.errors import TokengateError, UpstreamStreamCut
from tokengate.metering.tokens import estimate_tokens
from tokengate.providers.base import iter_chunks
from tokengate.providers.openai import usage_from_payload
from tokengate.proxy.errors import openai_error_body

DONE = b"data: [DONE]"
SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


@dataclass
class StreamResult:
    """How a relayed stream ended and what it carried."""

    usage: TokenUsage | None = None
    done: bool = False
    client_gone: bool = False
    error: TokengateError | None = None
    ttft_ms: int | None = None
    relayed: list[bytes] = field(default_factory=list)

    def ended(self) -> bool:
        """Whether the stream reached its end (terminator or error) before any disconnect."""
        return self.done or self.error is not None

    def relayed_output_tokens(self) -> int:
        """Estimate the output tokens of the content events relayed so far."""
        text: list[str] = []
        for event in self.relayed:
            for line in event.split(b"\n"):
                if line.startswith(b"data: {"):
                    text.append(_content_of(line[6:]))
        return estimate_tokens("".join(text))


@dataclass
class OpenAIStreamRelay:
    """An ASGI response that relays an OpenAI-style SSE stream and reports how it ended."""

    upstream: aiohttp.ClientResponse
    client_wants_usage: bool
    model_swap: tuple[bytes, bytes] | None
    headers: list[tuple[bytes, bytes]]
    elapsed_ms: Callable[[], int]
    on_finish: Callable[[StreamResult], Awaitable[None]]
    locale: str = "en"
    result: StreamResult = field(default_factory=StreamResult)
    finished: bool = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": self.headers})
        async with anyio.create_task_group() as group:
            group.start_soon(self._watch_disconnect, receive, group.cancel_scope)
            try:
                await self._relay(send)
            finally:
                group.cancel_scope.cancel()
        await self._finish()

    async def _finish(self) -> None:
        # settle and record exactly once, even when the client has gone
        if self.finished:
            return
        self.finished = True
        with anyio.CancelScope(shield=True):
            await self.on_finish(self.result)

    async def _watch_disconnect(self, receive: Receive, scope: anyio.CancelScope) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        # a client that hangs up after the terminator got everything: that is a normal end
        if not self.result.ended():
            self.result.client_gone = True
            scope.cancel()

    async def _relay(self, send: Send) -> None:
        buffer = b""
        try:
            async for chunk in iter_chunks(self.upstream):
                buffer += chunk.replace(b"\r\n", b"\n") if b"\r" in chunk else chunk
                out, buffer = self._take_events(buffer)
                if out:
                    await send({"type": "http.response.body", "body": out, "more_body": True})
            if not self.result.done:
                raise UpstreamStreamCut()
            # the terminator goes out only once the request is settled and recorded
            await self._finish()
            await send({"type": "http.response.body", "body": DONE + b"\n\n", "more_body": True})
        except TokengateError as error:
            self.result.error = error
            await self._finish()
            body = orjson.dumps(openai_error_body(error, "ko" if self.locale == "ko" else "en"))
            await send(
                {
                    "type": "http.response.body",
                    "body": b"data: " + body + b"\n\n",
                    "more_body": True,
                }
            )
        except OSError:
            self.result.client_gone = not self.result.ended()
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    def _take_events(self, buffer: bytes) -> tuple[bytes, bytes]:
        out: list[bytes] = []
        while (end := buffer.find(b"\n\n")) >= 0:
            event, buffer = buffer[: end + 2], buffer[end + 2 :]
            kept = self._inspect(event)
            if kept:
                out.append(kept)
        return b"".join(out), buffer

    def _inspect(self, event: bytes) -> bytes | None:
        if event.startswith(DONE):
            self.result.done = True
            return None
        if b'"usage":{' in event or b'"usage": {' in event:
            payload = _payload_of(event)
            usage = usage_from_payload(payload) if payload else None
            if usage is not None:
                self.result.usage = usage
                if payload and payload.get("choices") == [] and not self.client_wants_usage:
                    return None
        elif self.result.ttft_ms is None:
            self.result.ttft_ms = self.elapsed_ms()
        self.result.relayed.append(event)
        if self.model_swap is not None:
            event = event.replace(*self.model_swap)
        return event


def _payload_of(event: bytes) -> dict[str, object] | None:
    for line in event.split(b"\n"):
        if line.startswith(b"data: {"):
            try:
                payload = orjson.loads(line[6:])
            except orjson.JSONDecodeError:
                return None
            return payload if isinstance(payload, dict) else None
    return None


def _content_of(data: bytes) -> str:
    try:
        payload = orjson.loads(data)
    except orjson.JSONDecodeError:
        return ""
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
