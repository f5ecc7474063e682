"""Relaying a provider's server-sent events to the client, event by event, while metering.

The relay is the same for every format; an ``EventFilter`` decides what each upstream event
becomes for the client (passed through, rewritten, translated or dropped), notes the usage, and
knows the stream's terminator, which the relay sends only after the request is settled and
recorded.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Protocol

import aiohttp
import anyio
from starlette.types import Receive, Scope, Send

from tokengate.catalog.schemas import TokenUsage
from tokengate.errors import Locale, TokengateError, UpstreamOverrun, UpstreamStreamCut
from tokengate.providers.base import iter_chunks

SSE_HEADERS = [
    (b"content-type", b"text/event-stream; charset=utf-8"),
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),
]


class EventFilter(Protocol):
    """What a relay needs to know about one stream format."""

    usage: TokenUsage | None
    done: bool
    saw_output: bool
    output_events: int

    def take(self, event: bytes) -> bytes | None:
        """Return the bytes to send the client for one upstream event (None: nothing)."""
        ...

    def terminator(self) -> bytes:
        """The bytes that end a complete stream."""
        ...

    def error_event(self, error: TokengateError, locale: Locale) -> bytes:
        """The event that ends a failed stream."""
        ...

    def output_tokens_estimate(self) -> int:
        """Estimate the output tokens relayed so far."""
        ...


@dataclass
class StreamResult:
    """How a relayed stream ended and what it carried."""

    usage: TokenUsage | None = None
    done: bool = False
    client_gone: bool = False
    error: TokengateError | None = None
    ttft_ms: int | None = None
    output_estimate: int = 0

    def ended(self) -> bool:
        """Whether the stream reached its end (terminator or error) before any disconnect."""
        return self.done or self.error is not None


@dataclass
class StreamRelay:
    """An ASGI response that relays an SSE stream through a filter and reports how it ended."""

    upstream: aiohttp.ClientResponse
    events: EventFilter
    headers: list[tuple[bytes, bytes]]
    elapsed_ms: Callable[[], int]
    on_finish: Callable[[StreamResult], Awaitable[None]]
    locale: Locale = "en"
    in_flight: AbstractContextManager[object] = field(default_factory=nullcontext)
    # the output tokens reserved: a stream with more output events than that is cut
    output_limit: int | None = None
    result: StreamResult = field(default_factory=StreamResult)
    finished: bool = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        with self.in_flight:
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
        self.result.usage = self.events.usage
        self.result.done = self.events.done
        if self.result.usage is None:
            self.result.output_estimate = self.events.output_tokens_estimate()
        with anyio.CancelScope(shield=True):
            await self.on_finish(self.result)

    async def _watch_disconnect(self, receive: Receive, scope: anyio.CancelScope) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        # a client that hangs up after the terminator got everything: that is a normal end
        if not (self.events.done or self.result.error is not None):
            self.result.client_gone = True
            scope.cancel()

    async def _relay(self, send: Send) -> None:
        buffer = b""
        try:
            async for chunk in iter_chunks(self.upstream):
                buffer += chunk.replace(b"\r\n", b"\n") if b"\r" in chunk else chunk
                out, buffer, overrun = self._take_events(buffer)
                if out:
                    await send({"type": "http.response.body", "body": out, "more_body": True})
                if overrun:
                    raise UpstreamOverrun()
            if not self.events.done:
                raise UpstreamStreamCut()
            # the terminator goes out only once the request is settled and recorded
            await self._finish()
            await self._send(send, self.events.terminator())
        except TokengateError as error:
            self.result.error = error
            await self._finish()
            await self._send(send, self.events.error_event(error, self.locale))
        except OSError:
            self.result.client_gone = not (self.events.done or self.result.error is not None)
            return
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    @staticmethod
    async def _send(send: Send, body: bytes) -> None:
        await send({"type": "http.response.body", "body": body, "more_body": True})

    def _take_events(self, buffer: bytes) -> tuple[bytes, bytes, bool]:
        # one pass over the buffer: slicing it again per event is quadratic on large bursts
        out: list[bytes] = []
        start = 0
        while (end := buffer.find(b"\n\n", start)) >= 0:
            kept = self.events.take(buffer[start : end + 2])
            start = end + 2
            if self.output_limit is not None and self.events.output_events > self.output_limit:
                # what fitted the reservation goes out; the rest of the stream does not
                return b"".join(out), b"", True
            if self.result.ttft_ms is None and self.events.saw_output:
                self.result.ttft_ms = self.elapsed_ms()
            if kept:
                out.append(kept)
        return b"".join(out), buffer[start:], False
