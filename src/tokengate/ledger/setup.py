"""Choosing and opening the ledger backend the settings name, and sweeping it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncEngine

from tokengate.db import utcnow
from tokengate.errors import ConfigError
from tokengate.ledger.backends.base import LedgerBackend
from tokengate.ledger.backends.redis import RedisLedger
from tokengate.ledger.backends.sql import SqlLedger
from tokengate.settings import Settings

log = structlog.get_logger()


@asynccontextmanager
async def open_ledger(settings: Settings, engine: AsyncEngine) -> AsyncIterator[LedgerBackend]:
    """Open the configured backend: the SQL ledger on the records engine, or Redis."""
    if settings.ledger == "sql":
        ledger = SqlLedger(engine)
        try:
            yield ledger
        finally:
            await ledger.aclose()
        return
    if not settings.redis_url:
        raise ConfigError("TOKENGATE_LEDGER=redis needs TOKENGATE_REDIS_URL")
    client = Redis.from_url(settings.redis_url)
    redis_ledger = RedisLedger(client)
    try:
        yield redis_ledger
    finally:
        await redis_ledger.aclose()
        await client.aclose()


async def sweep_forever(ledger: LedgerBackend, interval: float) -> None:
    """Drop expired reservations every ``interval`` seconds; a failed sweep is retried."""
    while True:
        await asyncio.sleep(interval)
        try:
            swept = await ledger.sweep(now=utcnow())
        except (SQLAlchemyError, RedisError, OSError) as exc:
            log.warning("ledger sweep failed", error=str(exc))
            continue
        if swept:
            log.info("swept expired reservations", count=swept)
