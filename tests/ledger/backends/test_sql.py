from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from tests.ledger.conftest import create_ledger_tables
from tests.ledger.factories import NOW, TTL, demand, limit, request_id
from tokengate.db import create_engine
from tokengate.errors import ConfigError
from tokengate.ledger.backends import SqlLedger
from tokengate.ledger.types import Charge, Reservation


@pytest.fixture
async def engine(tmp_path: Path) -> AsyncIterator[AsyncEngine]:
    url = f"sqlite+aiosqlite:///{tmp_path / 'ledger.db'}"
    await create_ledger_tables(url)
    engine = create_engine(url)
    yield engine
    await engine.dispose()


@pytest.fixture
async def ledgers(engine: AsyncEngine) -> AsyncIterator[Callable[..., SqlLedger]]:
    opened: list[SqlLedger] = []

    def open_ledger(sweep_batch: int = 500) -> SqlLedger:
        opened.append(SqlLedger(engine, sweep_batch=sweep_batch))
        return opened[-1]

    yield open_ledger
    for ledger in opened:
        await ledger.aclose()


async def test_a_ledger_write_waits_for_another_writer(
    engine: AsyncEngine, ledgers: Callable[..., SqlLedger]
) -> None:
    ledger = ledgers()
    async with engine.connect() as other:
        await other.exec_driver_sql("BEGIN IMMEDIATE")
        await other.exec_driver_sql("DELETE FROM ledger_counters")
        pending = asyncio.create_task(
            ledger.reserve(
                request_id=request_id(), checks=[limit(1)], demand=demand(), now=NOW, ttl=TTL
            )
        )
        await asyncio.sleep(0.3)
        assert not pending.done()
        await other.commit()
    assert isinstance(await pending, Reservation)


async def test_a_limit_without_counters_reads_as_empty(ledgers: Callable[..., SqlLedger]) -> None:
    ledger = ledgers()
    (state,) = await ledger.states(checks=[limit(5, amount=10)], now=NOW)
    assert (state.used, state.reserved, state.overage) == (0, 0, 0)
    result = await ledger.settle(request_id=request_id(), actual=Charge(), now=NOW)
    assert result.status == "unknown"


async def test_sweep_works_through_batches(ledgers: Callable[..., SqlLedger]) -> None:
    ledger = ledgers(sweep_batch=2)
    for _ in range(5):
        await ledger.reserve(
            request_id=request_id(), checks=[limit(1)], demand=demand(), now=NOW, ttl=TTL
        )
    assert await ledger.sweep(now=NOW + TTL) == 5
    (state,) = await ledger.states(checks=[limit(1)], now=NOW)
    assert state.reserved == 0


async def test_an_in_memory_database_cannot_hold_the_ledger() -> None:
    engine = create_async_engine("sqlite+aiosqlite://")
    with pytest.raises(ConfigError, match="file"):
        SqlLedger(engine)
    await engine.dispose()
