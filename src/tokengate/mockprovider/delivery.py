"""How answers leave the mock: JSON bodies, SSE framing, pacing and scripted stream cuts."""

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import orjson
from starlette.responses import Response, StreamingResponse

from tokengate.mockprovider.config import MockConfig

SSE_DONE = b"data: [DONE]\n\n"
SLOT = "\x00slot"
SERIALISED_SLOT = orjson.dumps(SLOT)
SSE_HEADERS = {"cache-control": "no-cache", "x-accel-buffering": "no"}
SSE_RAW_HEADERS = [(name.encode(), value.encode()) for name, value in SSE_HEADERS.items()]


@dataclass(frozen=True, slots=True)
class EventStream:
    """A stream's events: what precedes the content, the content chunks, and the closing events."""

    head: list[bytes]
    content: list[bytes]
    tail: list[bytes]
    content_tokens: list[int]


def sse_data(payload: object) -> bytes:
    """Frame one OpenAI-style SSE event."""
    return b"data: " + orjson.dumps(payload) + b"\n\n"


def sse_event(kind: str, payload: object) -> bytes:
    """Frame one named SSE event, as Anthropic sends them."""
    return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(payload) + b"\n\n"


def sse_framer(template: object, *, event: str | None = None) -> Callable[[object], bytes]:
    """Return a fast framer of template events that differ only in the value placed at SLOT."""
    before, _, after = orjson.dumps(template).rpartition(SERIALISED_SLOT)
    head = (b"" if event is None else b"event: " + event.encode() + b"\n") + b"data: " + before
    tail = after + b"\n\n"
    return lambda value: head + orjson.dumps(value) + tail


def json_response(payload: object) -> Response:
    """Serialise a JSON body with orjson."""
    return Response(orjson.dumps(payload), media_type="application/json")


async def wait_for_generation(*, config: MockConfig, tokens: int) -> None:
    """Spend the time a real model would need to produce a non-streamed answer."""
    delay = config.ttft_ms / 1000
    if config.tokens_per_second:
        delay += tokens / config.tokens_per_second
    if delay:
        await asyncio.sleep(delay)


def sse_response(stream: EventStream, *, config: MockConfig) -> Response:
    """Send a stream as text/event-stream, paced and cut as the config says."""
    content, tail = stream.content, stream.tail
    if config.cut_after_chunks is not None and config.cut_after_chunks < len(content):
        content, tail = content[: config.cut_after_chunks], []
    if config.ttft_ms or config.tokens_per_second:
        body = _paced(stream.head, content, stream.content_tokens, tail, config=config)
        return StreamingResponse(body, media_type="text/event-stream", headers=SSE_HEADERS)
    # Unpaced, the whole stream goes out in one write; without a content-length header the
    # server still sends it chunked, as the real providers do, and skips a disconnect watcher.
    response = Response(b"".join([*stream.head, *content, *tail]), media_type="text/event-stream")
    response.raw_headers = [
        *((name, value) for name, value in response.raw_headers if name != b"content-length"),
        *SSE_RAW_HEADERS,
    ]
    return response


async def _paced(
    head: list[bytes],
    content: list[bytes],
    tokens: list[int],
    tail: list[bytes],
    *,
    config: MockConfig,
) -> AsyncIterator[bytes]:
    if config.ttft_ms:
        await asyncio.sleep(config.ttft_ms / 1000)
    rate = config.tokens_per_second
    started = time.monotonic()
    sent_tokens = 0
    if head:
        yield b"".join(head)
    for chunk, chunk_tokens in zip(content, tokens, strict=False):
        # Schedule against the start time so sleep overshoot does not add up over a long stream.
        if rate and sent_tokens:
            await asyncio.sleep(max(0.0, started + sent_tokens / rate - time.monotonic()))
        yield chunk
        sent_tokens += chunk_tokens
    if tail:
        yield b"".join(tail)
