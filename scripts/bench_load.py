"""The load generator: closed-loop workers, an open-loop clock, and the aiohttp request probe."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass

import aiohttp
from yarl import URL

from scripts.bench_stats import Sample

SendFn = Callable[[float], Coroutine[None, None, Sample]]
"""Send one request that was due at the given time (``time.perf_counter``) and describe it."""

DONE_MARKER = b"data: [DONE]"
TAIL_KEEP = 64
REQUEST_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class RequestSpec:
    """One pre-encoded chat-completions request, sent the same way to the mock and the gateway."""

    url: URL
    headers: dict[str, str]
    body: bytes
    stream: bool


def open_session(connections: int) -> aiohttp.ClientSession:
    """Return a keep-alive session that opens at most ``connections`` connections."""
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=connections, limit_per_host=connections),
        timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT_SECONDS),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
    )


def http_sender(session: aiohttp.ClientSession, spec: RequestSpec) -> SendFn:
    """Return a probe that sends ``spec`` and checks its answer as cheaply as it can."""

    async def send(due: float) -> Sample:
        sent = time.perf_counter()
        first_byte = 0.0
        error: str | None
        try:
            async with session.post(spec.url, data=spec.body, headers=spec.headers) as response:
                if spec.stream:
                    first_byte, error = await _check_stream(response)
                else:
                    first_byte, error = await _check_json(response)
        except (aiohttp.ClientError, TimeoutError) as exc:
            error = type(exc).__name__
        done = time.perf_counter()
        return Sample(due=due, sent=sent, first_byte=first_byte or done, done=done, error=error)

    return send


async def _check_json(response: aiohttp.ClientResponse) -> tuple[float, str | None]:
    headers_at = time.perf_counter()
    body = await response.read()
    if response.status != 200:
        return headers_at, f"HTTP {response.status}"
    # a full JSON parse would cost the load generator more CPU than the check is worth
    if not body.startswith(b"{") or b'"choices"' not in body:
        return headers_at, "body without choices"
    return headers_at, None


async def _check_stream(response: aiohttp.ClientResponse) -> tuple[float, str | None]:
    first_byte = 0.0
    tail = b""
    async for chunk in response.content.iter_any():
        if not first_byte:
            first_byte = time.perf_counter()
        tail = (tail + chunk)[-TAIL_KEEP:]
    if response.status != 200:
        return first_byte, f"HTTP {response.status}"
    if not response.headers.get("content-type", "").startswith("text/event-stream"):
        return first_byte, "not an event stream"
    if not tail.rstrip().endswith(DONE_MARKER):
        return first_byte, "stream without data: [DONE]"
    return first_byte, None


async def run_closed_loop(send: SendFn, *, concurrency: int, duration: float) -> list[Sample]:
    """Run ``concurrency`` workers that each send a new request as soon as the last one ends."""
    end = time.perf_counter() + duration
    samples: list[Sample] = []

    async def worker() -> None:
        while (now := time.perf_counter()) < end:
            samples.append(await send(now))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return samples


async def run_closed_loop_count(send: SendFn, *, concurrency: int, requests: int) -> list[Sample]:
    """Run ``concurrency`` closed-loop workers until ``requests`` requests have been sent."""
    samples: list[Sample] = []
    left = requests

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            samples.append(await send(time.perf_counter()))

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return samples


def schedule(*, rate: float, duration: float) -> list[float]:
    """Return the send times of an open-loop run, in seconds from its start."""
    if rate <= 0 or duration <= 0:
        raise ValueError("rate and duration must be positive")
    return [i / rate for i in range(max(1, round(rate * duration)))]


async def run_open_loop(send: SendFn, *, rate: float, duration: float) -> list[Sample]:
    """Send at a fixed rate by the clock, whatever the answers do; latency counts from the due time.

    A request that waits for a free connection, or that the generator sends late, is charged that
    wait: this is what avoids coordinated omission.
    """
    start = time.perf_counter()
    tasks: list[asyncio.Task[Sample]] = []
    for offset in schedule(rate=rate, duration=duration):
        due = start + offset
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(send(due)))
    return list(await asyncio.gather(*tasks))
