"""Reserve+settle pairs per second and their latency, for each ledger backend.

``python -m scripts.bench_ledger [--callers 64] [--duration 5]``: 64 concurrent callers, each
reserving a request against three limits of one tenant (its plan allowance, a team limit and
a key rate limit, as the gateway does) and settling it at once, for ``--duration`` seconds.
SQLite runs always; PostgreSQL and Redis when TOKENGATE_TEST_POSTGRES_URL /
TOKENGATE_TEST_REDIS_URL are set (the database is created and dropped, the Redis DB 14 flushed).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import asyncpg
import uvloop
from redis.asyncio import Redis

from tokengate.db import create_engine, utcnow
from tokengate.ledger.backends.base import LedgerBackend
from tokengate.ledger.backends.redis import RedisLedger
from tokengate.ledger.backends.sql import SqlLedger
from tokengate.ledger.types import Charge, Demand, LimitCheck, Metric, Window
from tokengate.migrate import upgrade_database


def _check(limit_id: int, metric: Metric, window: Window, amount: int) -> LimitCheck:
    return LimitCheck(
        limit_id=limit_id,
        tenant_id=1,
        metric=metric,
        window=window,
        timezone="Asia/Seoul",
        amount=amount,
        ceiling=amount,
        mode="block",
    )


CHECKS = [
    _check(-1, "tokens", "month", 10**15),
    _check(2, "cost", "day", 10**15),
    _check(3, "requests", "minute", 10**12),
]
DEMAND = Demand(
    fixed=Charge(tokens=300, cost_micros=150, requests=1),
    output_micros_per_mtok=1_500_000,
    max_output_tokens=500,
    min_output_tokens=500,
)
ACTUAL = Charge(tokens=620, cost_micros=630, requests=1)


@dataclass(frozen=True)
class Figures:
    """One backend's result."""

    backend: str
    pairs: int
    seconds: float
    p50_ms: float
    p99_ms: float

    def row(self) -> str:
        """A Markdown table row."""
        rate = self.pairs / self.seconds
        latency = f"{self.p50_ms:.2f} | {self.p99_ms:.2f}"
        return f"| {self.backend} | {self.pairs:,} | {rate:,.0f} | {latency} |"


async def pair(ledger: LedgerBackend) -> None:
    """One request's ledger work: reserve on three limits, then settle."""
    request_id = uuid.uuid4().hex
    now = utcnow()
    await ledger.reserve(
        request_id=request_id, checks=CHECKS, demand=DEMAND, now=now, ttl=timedelta(minutes=5)
    )
    await ledger.settle(request_id=request_id, actual=ACTUAL, now=now, tenant_id=1)


async def measure(
    name: str, ledger: LedgerBackend, *, callers: int, duration: float, rate: float | None
) -> Figures:
    """``callers`` concurrent callers for ``duration`` seconds: as fast as they can (closed
    loop), or together at ``rate`` pairs/s with latency counted from each scheduled start
    (open loop, so a stall is not hidden by callers waiting)."""
    latencies: list[float] = []
    began = time.perf_counter()
    stop_at = began + duration

    async def closed() -> None:
        while time.perf_counter() < stop_at:
            started = time.perf_counter()
            await pair(ledger)
            latencies.append(time.perf_counter() - started)

    async def opened(offset: float) -> None:
        interval = callers / rate  # type: ignore[operator]
        scheduled = began + offset
        while scheduled < stop_at:
            await asyncio.sleep(max(0.0, scheduled - time.perf_counter()))
            await pair(ledger)
            latencies.append(time.perf_counter() - scheduled)
            scheduled += interval

    if rate is None:
        await asyncio.gather(*(closed() for _ in range(callers)))
    else:
        await asyncio.gather(*(opened(i / rate) for i in range(callers)))
    elapsed = time.perf_counter() - began
    latencies.sort()
    label = f"{name}, {'saturation' if rate is None else f'{rate:,.0f} pairs/s'}"
    return Figures(
        label,
        len(latencies),
        elapsed,
        latencies[len(latencies) // 2] * 1000,
        latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    )


@asynccontextmanager
async def sqlite_ledger() -> AsyncIterator[LedgerBackend]:
    """A SQL ledger on a fresh SQLite file."""
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite+aiosqlite:///{Path(folder) / 'ledger.db'}"
        await asyncio.to_thread(upgrade_database, url)
        engine = create_engine(url)
        ledger = SqlLedger(engine)
        try:
            yield ledger
        finally:
            await ledger.aclose()
            await engine.dispose()


@asynccontextmanager
async def postgres_ledger(server_url: str) -> AsyncIterator[LedgerBackend]:
    """A SQL ledger on a fresh PostgreSQL database, dropped afterwards."""
    name = f"tokengate_bench_{uuid.uuid4().hex[:8]}"
    plain = server_url.replace("postgresql+asyncpg://", "postgresql://")
    admin = await asyncpg.connect(plain)
    await admin.execute(f'CREATE DATABASE "{name}"')
    url = server_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        await asyncio.to_thread(upgrade_database, url)
        engine = create_engine(url, pool_size=32)
        ledger = SqlLedger(engine)
        try:
            yield ledger
        finally:
            await ledger.aclose()
            await engine.dispose()
    finally:
        await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        await admin.close()


@asynccontextmanager
async def redis_ledger(url: str) -> AsyncIterator[LedgerBackend]:
    """A Redis ledger on DB 14 (flushed before and after)."""
    client = Redis.from_url(url.rsplit("/", 1)[0] + "/14")
    await client.flushdb()
    ledger = RedisLedger(client, prefix="bench")
    try:
        yield ledger
    finally:
        await ledger.aclose()
        await client.flushdb()
        await client.aclose()


async def main(callers: int, duration: float, rates: list[float]) -> list[Figures]:
    """Measure every available backend."""
    backends: list[tuple[str, Callable[[], AsyncIterator[LedgerBackend]]]] = [
        ("sql (SQLite)", sqlite_ledger)  # type: ignore[list-item]
    ]
    if postgres := os.environ.get("TOKENGATE_TEST_POSTGRES_URL"):
        backends.append(("sql (PostgreSQL)", lambda: postgres_ledger(postgres)))  # type: ignore[arg-type,return-value]
    if redis := os.environ.get("TOKENGATE_TEST_REDIS_URL"):
        backends.append(("redis", lambda: redis_ledger(redis)))  # type: ignore[arg-type,return-value]
    results = []
    for name, opener in backends:
        async with opener() as ledger:  # type: ignore[attr-defined]
            for rate in (None, *rates):
                results.append(
                    await measure(name, ledger, callers=callers, duration=duration, rate=rate)
                )
    return results


def run() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--callers", type=int, default=64)
    parser.add_argument("--duration", type=float, default=5.0)
    parser.add_argument(
        "--rate", type=float, action="append", default=None, help="open-loop pairs/s (repeatable)"
    )
    args = parser.parse_args()
    # uvloop, as `tokengate serve` runs
    results = uvloop.run(main(args.callers, args.duration, args.rate or [100.0, 1000.0]))
    print(f"reserve+settle, {args.callers} concurrent callers, {args.duration:g} s each")  # noqa: T201
    print("| backend, load | pairs | pairs/s | p50 ms | p99 ms |")  # noqa: T201
    print("|---|---:|---:|---:|---:|")  # noqa: T201
    for figures in results:
        print(figures.row())  # noqa: T201


if __name__ == "__main__":
    run()
