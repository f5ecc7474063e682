"""Every ledger backend on its real storage: SQLite always, PostgreSQL and Redis when set."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import AsyncExitStack
from pathlib import Path

import pytest
import redis.asyncio as aioredis
from sqlalchemy import text
from sqlalchemy.engine import make_url

from tokengate.db import Base, create_engine
from tokengate.ledger.backends import LedgerBackend, RedisLedger, SqlLedger
from tokengate.ledger.models import LEDGER_TABLES

POSTGRES_ENV = "TOKENGATE_TEST_POSTGRES_URL"
REDIS_ENV = "TOKENGATE_TEST_REDIS_URL"
MakeBackend = Callable[[], Awaitable[LedgerBackend]]


def _run_in_thread(work: Callable[[], Coroutine[object, object, None]]) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(lambda: asyncio.run(work())).result()


async def create_ledger_tables(url: str) -> None:
    """Create the ledger's tables in the database at ``url``."""
    engine = create_engine(url)
    try:
        async with engine.begin() as conn:
            await conn.run_sync(lambda c: Base.metadata.create_all(c, tables=list(LEDGER_TABLES)))
    finally:
        await engine.dispose()


@pytest.fixture(scope="session")
def ledger_postgres_url() -> Iterator[str]:
    """A PostgreSQL database holding the ledger tables for this session, dropped after."""
    server = os.environ.get(POSTGRES_ENV)
    if not server:
        pytest.skip(f"{POSTGRES_ENV} is not set")
    name = f"tokengate_ledger_{uuid.uuid4().hex[:10]}"
    url = make_url(server).set(database=name).render_as_string(hide_password=False)

    async def admin(statement: str) -> None:
        engine = create_engine(server).execution_options(isolation_level="AUTOCOMMIT")
        try:
            async with engine.connect() as conn:
                await conn.execute(text(statement))
        finally:
            await engine.dispose()

    _run_in_thread(lambda: admin(f'CREATE DATABASE "{name}"'))
    _run_in_thread(lambda: create_ledger_tables(url))
    yield url
    _run_in_thread(lambda: admin(f'DROP DATABASE "{name}" WITH (FORCE)'))


@pytest.fixture
def ledger_redis_url() -> str:
    """The Redis server the tests may use (each test under its own key prefix)."""
    url = os.environ.get(REDIS_ENV)
    if not url:
        pytest.skip(f"{REDIS_ENV} is not set")
    return url


async def delete_prefix(client: aioredis.Redis, prefix: str) -> None:
    """Delete every key under ``prefix``."""
    keys = [key async for key in client.scan_iter(match=f"{prefix}:*", count=1000)]
    if keys:
        await client.delete(*keys)


async def _sqlite(tmp_path: Path, stack: AsyncExitStack) -> MakeBackend:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    await create_ledger_tables(url)

    async def make() -> LedgerBackend:
        engine = create_engine(url)
        stack.push_async_callback(engine.dispose)
        ledger = SqlLedger(engine)
        stack.push_async_callback(ledger.aclose)
        return ledger

    return make


async def _postgres(url: str, stack: AsyncExitStack) -> MakeBackend:
    engine = create_engine(url)
    async with engine.begin() as conn:
        names = ", ".join(table.name for table in LEDGER_TABLES)
        await conn.execute(text(f"TRUNCATE {names}"))
    await engine.dispose()

    async def make() -> LedgerBackend:
        engine = create_engine(url, pool_size=4)
        stack.push_async_callback(engine.dispose)
        return SqlLedger(engine)

    return make


async def _redis(url: str, stack: AsyncExitStack) -> MakeBackend:
    prefix = f"tgtest-{uuid.uuid4().hex[:12]}"
    admin = aioredis.Redis.from_url(url)
    stack.push_async_callback(admin.aclose)
    stack.push_async_callback(delete_prefix, admin, prefix)

    async def make() -> LedgerBackend:
        client = aioredis.Redis.from_url(url)
        stack.push_async_callback(client.aclose)
        ledger = RedisLedger(client, prefix=prefix)
        stack.push_async_callback(ledger.aclose)
        return ledger

    return make


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgres", marks=pytest.mark.postgres),
        pytest.param("redis", marks=pytest.mark.redis),
    ]
)
async def make_backend(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[MakeBackend]:
    """Open more backends on one fresh store, like several gateway processes would."""
    async with AsyncExitStack() as stack:
        if request.param == "sqlite":
            yield await _sqlite(tmp_path, stack)
        elif request.param == "postgres":
            yield await _postgres(request.getfixturevalue("ledger_postgres_url"), stack)
        else:
            yield await _redis(request.getfixturevalue("ledger_redis_url"), stack)


@pytest.fixture
async def backend(make_backend: MakeBackend) -> LedgerBackend:
    """A backend on a fresh store."""
    return await make_backend()
