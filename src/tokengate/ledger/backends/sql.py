"""The ledger on SQLite (one node) or PostgreSQL (a few gateway processes).

Every operation is one transaction whose body is in ``sql_transactions``. On PostgreSQL it runs
on the given engine (``AsyncConnection.run_sync``) and locks the counter rows it needs with
SELECT ... FOR UPDATE in (limit_id, window_start) order: every transaction takes its locks in
that one order, so overlapping reservations queue instead of deadlocking.

On SQLite the ledger opens its own synchronous engine on the same database file and runs each
operation in its own single thread: one thread hop per operation instead of one per statement
(aiosqlite), and this process's ledger writers queue in that thread rather than poll the file
lock. Each write transaction starts with BEGIN IMMEDIATE, taking the write lock before the
first read, so deciding and writing cannot interleave with another process's writer (it waits
on the busy timeout). Only the ledger's engine does this; the application's engine keeps its
default deferred transactions. Call ``aclose`` to stop the thread and close its connections.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import URL, Connection, Engine, create_engine, event
from sqlalchemy.ext.asyncio import AsyncEngine

from tokengate.errors import ConfigError
from tokengate.ledger.backends import sql_rows as rows
from tokengate.ledger.backends import sql_transactions as tx
from tokengate.ledger.backends.base import DEFAULT_SETTLED_RETENTION, DEFAULT_SWEEP_BATCH
from tokengate.ledger.rules import plan_slots
from tokengate.ledger.types import (
    Charge,
    Demand,
    Denial,
    LimitCheck,
    LimitState,
    Reservation,
    SettleResult,
)
from tokengate.ledger.windows import ROLLING_SECONDS, bucket_second, rolling_bounds

T = TypeVar("T")


class SqlLedger:
    """Ledger backend on a SQLAlchemy async engine (SQLite or PostgreSQL)."""

    def __init__(
        self,
        engine: AsyncEngine,
        *,
        settled_retention: timedelta = DEFAULT_SETTLED_RETENTION,
        sweep_batch: int = DEFAULT_SWEEP_BATCH,
    ) -> None:
        name = engine.dialect.name
        if name not in ("sqlite", "postgresql"):
            raise ConfigError(f"the SQL ledger supports SQLite and PostgreSQL, not {name}")
        self._engine = engine
        self._sqlite = _SqliteThread(engine.url) if name == "sqlite" else None
        self._retention = settled_retention
        self._sweep_batch = sweep_batch

    async def aclose(self) -> None:
        """Stop the SQLite ledger's thread and close its connections."""
        if self._sqlite is not None:
            await asyncio.to_thread(self._sqlite.close)

    async def _write(self, body: Callable[[Connection], T]) -> T:
        if self._sqlite is not None:
            return await self._sqlite.run(body, write=True)
        async with self._engine.begin() as conn:
            return await conn.run_sync(body)

    async def _read(self, body: Callable[[Connection], T]) -> T:
        if self._sqlite is not None:
            return await self._sqlite.run(body, write=False)
        async with self._engine.connect() as conn:
            return await conn.run_sync(body)

    async def reserve(
        self,
        *,
        request_id: str,
        checks: Sequence[LimitCheck],
        demand: Demand,
        now: datetime,
        ttl: timedelta,
    ) -> Reservation | Denial:
        """Admit a request against every check at once, or deny it and change nothing."""
        slots = plan_slots(checks, now)
        if not slots:
            charge = demand.charge_for(demand.max_output_tokens)
            return Reservation(request_id, demand.max_output_tokens, charge, (), now + ttl)
        work = tx.ReserveWork(request_id, slots, demand, now, now + ttl)
        while True:
            try:
                return await self._write(lambda conn: tx.reserve(conn, work))
            except tx.DuplicateRequest:
                continue
            except tx.MissingCounters as error:
                # Created in a transaction of their own, holding no lock, then tried again.
                await self._write(partial(tx.ensure, missing=error.missing))

    async def settle(
        self, *, request_id: str, actual: Charge, now: datetime, tenant_id: int | None = None
    ) -> SettleResult:
        """Release a reservation and add the request's real usage to the counters it held."""
        return await self._write(lambda conn: tx.settle(conn, request_id, actual, now))

    async def release(self, *, request_id: str) -> bool:
        """Drop a reservation without charging anything; False when there is none."""
        return await self._write(lambda conn: tx.release(conn, request_id))

    async def sweep(self, *, now: datetime) -> int:
        """Drop reservations past their deadline without charging them; return how many."""
        swept = 0
        while True:
            dropped = await self._write(lambda conn: tx.sweep(conn, now, self._sweep_batch))
            swept += dropped
            if dropped < self._sweep_batch:
                break
        before = bucket_second(now) - 2 * ROLLING_SECONDS
        await self._write(
            lambda conn: rows.prune(
                conn, settled_before=now - self._retention, bucket_before=before
            )
        )
        return swept

    async def states(self, *, checks: Sequence[LimitCheck], now: datetime) -> list[LimitState]:
        """Return each check's counter as the ledger holds it now, in the order given."""
        slots = plan_slots(checks, now)
        views = await self._read(lambda conn: tx.views_of(conn, slots, now, lock=False))
        by_id = {}
        for slot, view in zip(slots, views, strict=True):
            start, end = slot.window_start, slot.window_end
            if slot.rolling:
                start, end = rolling_bounds(now)
            by_id[slot.check.limit_id] = LimitState(
                limit_id=slot.check.limit_id,
                window_start=start,
                window_end=end,
                used=view.used,
                reserved=view.reserved,
                overage=view.overage,
                amount=slot.check.amount,
            )
        return [by_id[check.limit_id] for check in checks]


class _SqliteThread:
    """The SQLite ledger's own engine, used from one thread of its own."""

    def __init__(self, url: URL) -> None:
        if url.database in (None, "", ":memory:"):
            raise ConfigError("the SQL ledger needs a SQLite database file, not :memory:")
        self._engine: Engine = create_engine(
            url.set(drivername="sqlite+pysqlite"), connect_args={"timeout": 30}
        )
        event.listen(self._engine, "connect", _sqlite_pragmas)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="tokengate-ledger")

    async def run(self, body: Callable[[Connection], T], *, write: bool) -> T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, self._transaction, body, write)

    def _transaction(self, body: Callable[[Connection], T], write: bool) -> T:
        with self._engine.connect() as conn:
            if write:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            result = body(conn)
            conn.commit()
        return result

    def close(self) -> None:
        self._thread.shutdown(wait=True)
        self._engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.close()
