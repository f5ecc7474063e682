"""What the wrk benchmark does per target: check one answer, warm up, measure a run."""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson

from scripts.bench import PROMPT
from scripts.bench_servers import MODEL, cpu_seconds, machine_busy_seconds, process_tree, rss_bytes
from scripts.bench_wrk_report import MOCK, MODES, OTHERS, SERVER, WRK, Mode, Row
from scripts.bench_wrk_tool import WrkLoad, WrkRun, run_wrk

MAX_TOKENS = 20
"""Asked of every answer: 20 tokens, which the mock streams as 20 content chunks."""
PROBE_TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Target:
    """A server under load: its OpenAI base URL, the Authorization it wants, its process (tree)."""

    name: str
    url: str
    authorization: str
    pid: int


@dataclass(frozen=True)
class Plan:
    """wrk's load, and the seconds of warm-up (discarded) and measurement per row."""

    load: WrkLoad
    warmup: int
    duration: int


class Bench:
    """Runs wrk against one target after another, with the same load, lengths and bodies."""

    def __init__(self, *, wrk: str, plan: Plan, bodies: dict[Mode, Path], mock_pid: int) -> None:
        self.wrk, self.plan, self.bodies, self.mock_pid = wrk, plan, bodies, mock_pid

    def measure(self, target: Target) -> list[Row]:
        """Measure each mode against the target: a probe, a warm-up, then the measured run."""
        served = 0
        rows = []
        for mode in MODES:
            sys.stderr.write(f"bench_wrk: {mode} → {target.name}\n")
            chunks = asyncio.run(
                probe(target, self.bodies[mode].read_bytes(), stream=mode == "stream")
            )
            served += 1
            if self.plan.warmup:
                served += self._wrk(target, mode, self.plan.warmup).requests
            rows.append(self._measured(target, mode, chunks=chunks, served=served))
            served = rows[-1].served
        return rows

    def _measured(self, target: Target, mode: Mode, *, chunks: int | None, served: int) -> Row:
        server, mock = process_tree(target.pid), process_tree(self.mock_pid)
        meters = {
            SERVER: lambda: cpu_seconds(server),
            MOCK: lambda: cpu_seconds(mock) if target.pid != self.mock_pid else 0.0,
            "self": time.process_time,
            "machine": machine_busy_seconds,
        }
        before = {name: meter() for name, meter in meters.items()}
        started = time.perf_counter()
        run = self._wrk(target, mode, self.plan.duration)
        wall = time.perf_counter() - started
        spent = {name: meter() - before[name] for name, meter in meters.items()}
        machine, own = spent.pop("machine"), spent.pop("self")
        spent[WRK] = run.cpu_seconds
        spent[OTHERS] = max(0.0, machine - own - sum(spent.values()))
        return Row(
            mode=mode,
            target=target.name,
            run=run,
            cpu_seconds=spent,
            wall=wall,
            rss_bytes=rss_bytes(process_tree(target.pid)),
            served=served + run.requests,
            chunks=chunks,
        )

    def _wrk(self, target: Target, mode: Mode, seconds: int) -> WrkRun:
        return run_wrk(
            wrk=self.wrk,
            url=f"{target.url}/chat/completions",
            body=self.bodies[mode],
            authorization=target.authorization,
            load=self.plan.load,
            seconds=seconds,
        )


async def probe(target: Target, body: bytes, *, stream: bool) -> int | None:
    """Send one request and check its answer as wrk cannot; return a stream's content chunks."""
    headers = {"Authorization": target.authorization, "Content-Type": "application/json"}
    timeout = aiohttp.ClientTimeout(total=PROBE_TIMEOUT_SECONDS)
    async with (
        aiohttp.ClientSession(timeout=timeout) as http,
        http.post(f"{target.url}/chat/completions", data=body, headers=headers) as answer,
    ):
        text = await answer.read()
    where = f"{target.name} ({'stream' if stream else 'json'})"
    if answer.status != 200:
        raise RuntimeError(f"{where} answered HTTP {answer.status}: {text[:500]!r}")
    if not stream:
        if b'"choices"' not in text:
            raise RuntimeError(f"{where} answered without choices: {text[:500]!r}")
        return None
    events = [line[6:] for line in text.splitlines() if line.startswith(b"data: ")]
    if not events or events[-1] != b"[DONE]":
        raise RuntimeError(f"{where} sent a stream without data: [DONE]: {text[-500:]!r}")
    return sum(1 for event in events[:-1] if _content(orjson.loads(event)))


def _content(event: dict[str, object]) -> bool:
    choices = event.get("choices")
    if not isinstance(choices, list) or not choices:
        return False
    delta = choices[0].get("delta") or {}
    return bool(delta.get("content"))


def request_body(*, stream: bool) -> bytes:
    """Encode the chat-completions request every target gets."""
    body: dict[str, object] = {"model": MODEL, "messages": PROMPT, "max_tokens": MAX_TOKENS}
    if stream:
        body |= {"stream": True, "stream_options": {"include_usage": True}}
    return orjson.dumps(body)
