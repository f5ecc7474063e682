"""The ledger on SQLite (one node) or PostgreSQL (a few gateway processes).

Every operation is one transaction. On PostgreSQL it creates the counter rows it needs
(INSERT ... ON CONFLICT DO NOTHING), locks them with SELECT ... FOR UPDATE ordered by
(limit_id, window_start), then decides and writes: every transaction takes its counter locks in
that one order, so overlapping reservations queue instead of deadlocking. A rolling-minute
limit is locked through its lock row, which guards its buckets.

On SQLite the transaction starts with BEGIN IMMEDIATE, taking the database's write lock before
the first read, so deciding and writing cannot interleave with another writer (other processes
wait on the busy timeout). The statement is issued on the shared engine's connection only by
this backend, so the application's other transactions keep their default (deferred) behaviour;
an asyncio lock makes this process's ledger writers queue in memory rather than poll the file
lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from tokengate.errors import ConfigError, Conflict
from tokengate.ledger.backends import sql_rows as rows
from tokengate.ledger.backends.sql_rows import Change, CounterKey, StoredReservation
from tokengate.ledger.models import HoldRecord
from tokengate.ledger.rules import (
    CounterView,
    Hold,
    Slot,
    admit,
    crossed_thresholds,
    overage_of,
    plan_slots,
    reservation_of,
)
from tokengate.ledger.types import (
    Charge,
    Demand,
    Denial,
    LimitCheck,
    LimitState,
    OverageAmount,
    Reservation,
    SettleResult,
    ThresholdCrossing,
)
from tokengate.ledger.windows import LIFETIME_START, ROLLING_SECONDS, bucket_second, rolling_bounds

# The row of a rolling-minute limit in ledger_counters that serialises access to its buckets.
ROLLING_LOCK_ROW = LIFETIME_START
SWEEP_BATCH = 500
DEFAULT_SETTLED_RETENTION = timedelta(hours=1)


class _DuplicateRequest(Exception):
    """A concurrent reserve wrote the same request id first."""


class SqlLedger:
    """Ledger backend on a SQLAlchemy async engine (SQLite or PostgreSQL)."""

    def __init__(
        self, engine: AsyncEngine, *, settled_retention: timedelta = DEFAULT_SETTLED_RETENTION
    ) -> None:
        if engine.dialect.name not in ("sqlite", "postgresql"):
            raise ConfigError(f"the SQL ledger supports SQLite and PostgreSQL, not {engine.name}")
        self._engine = engine
        self._sqlite = engine.dialect.name == "sqlite"
        self._writer = asyncio.Lock()
        self._retention = settled_retention

    @asynccontextmanager
    async def _transaction(self) -> AsyncIterator[AsyncConnection]:
        if not self._sqlite:
            async with self._engine.begin() as conn:
                yield conn
            return
        async with self._writer, self._engine.begin() as conn:
            await conn.exec_driver_sql("BEGIN IMMEDIATE")
            yield conn

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
        while True:
            try:
                async with self._transaction() as conn:
                    return await self._reserve(conn, request_id, slots, demand, now, now + ttl)
            except _DuplicateRequest:
                continue

    async def _reserve(
        self,
        conn: AsyncConnection,
        request_id: str,
        slots: list[Slot],
        demand: Demand,
        now: datetime,
        deadline: datetime,
    ) -> Reservation | Denial:
        existing = await rows.get_reservation(conn, request_id)
        if existing is not None:
            return _reservation(existing)
        if await rows.was_settled(conn, request_id):
            raise Conflict(f"request {request_id} was already settled")
        views = await _views(conn, slots, now, lock=True)
        decision = admit(slots=slots, views=views, demand=demand, now=now)
        if isinstance(decision, Denial):
            return decision
        charge = demand.charge_for(decision)
        holds = [slot.hold(charge.of(slot.check.metric)) for slot in slots]
        await _apply(conn, [(h, Change(reserved=h.reserved)) for h in holds])
        stored = StoredReservation(
            request_id=request_id,
            tenant_id=slots[0].check.tenant_id,
            created_at=now,
            deadline=deadline,
            output_tokens=decision,
            charge=charge,
            holds=[_record(h) for h in holds],
        )
        if not await rows.insert_reservation(conn, stored):
            raise _DuplicateRequest
        return _reservation(stored)

    async def settle(self, *, request_id: str, actual: Charge, now: datetime) -> SettleResult:
        """Release a reservation and add the request's real usage to the counters it held."""
        async with self._transaction() as conn:
            stored = await rows.get_reservation(conn, request_id, lock=True)
            if stored is None:
                settled = await rows.was_settled(conn, request_id)
                return SettleResult("already_settled" if settled else "unknown")
            holds = [_hold(r) for r in stored.holds]
            locked = await rows.lock_counters(conn, [_key(h) for h in holds])
            second = bucket_second(now)
            rolling_ids = [h.limit_id for h in holds if h.rolling and h.mode == "overage"]
            rolling = await rows.read_rolling(
                conn, rolling_ids, second - ROLLING_SECONDS + 1, second
            )
            result, changes = _settle_changes(holds, locked, rolling, actual, second)
            await _apply(conn, changes)
            await rows.delete_reservations(conn, [request_id])
            await rows.insert_settlement(conn, request_id, now)
        return result

    async def release(self, *, request_id: str) -> bool:
        """Drop a reservation without charging anything; False when there is none."""
        async with self._transaction() as conn:
            stored = await rows.get_reservation(conn, request_id, lock=True)
            if stored is None:
                return False
            holds = [_hold(r) for r in stored.holds]
            await rows.lock_counters(conn, [_key(h) for h in holds])
            await _apply(conn, [(h, Change(reserved=-h.reserved)) for h in holds])
            await rows.delete_reservations(conn, [request_id])
        return True

    async def sweep(self, *, now: datetime) -> int:
        """Drop reservations past their deadline without charging them; return how many."""
        swept = 0
        while True:
            async with self._transaction() as conn:
                expired = await rows.lock_expired(conn, now, SWEEP_BATCH)
                if not expired:
                    break
                holds = [_hold(r) for stored in expired for r in stored.holds]
                await rows.lock_counters(conn, [_key(h) for h in holds])
                await _apply(conn, [(h, Change(reserved=-h.reserved)) for h in holds])
                await rows.delete_reservations(conn, [s.request_id for s in expired])
            swept += len(expired)
            if len(expired) < SWEEP_BATCH:
                break
        async with self._transaction() as conn:
            bucket_before = bucket_second(now) - 2 * ROLLING_SECONDS
            await rows.prune(
                conn, settled_before=now - self._retention, bucket_before=bucket_before
            )
        return swept

    async def states(self, *, checks: Sequence[LimitCheck], now: datetime) -> list[LimitState]:
        """Return each check's counter as the ledger holds it now, in the order given."""
        slots = plan_slots(checks, now)
        async with self._engine.connect() as conn:
            views = await _views(conn, slots, now, lock=False)
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


async def _views(
    conn: AsyncConnection, slots: Sequence[Slot], now: datetime, *, lock: bool
) -> list[CounterView]:
    keys = [_key(slot) for slot in slots]
    if lock:
        ends = [ROLLING_LOCK_ROW if s.rolling else s.window_end for s in slots]
        await rows.ensure_counters(conn, [(k[0], k[1], e) for k, e in zip(keys, ends, strict=True)])
        counters = await rows.lock_counters(conn, keys)
    else:
        counters = await rows.read_counters(conn, keys)
    second = bucket_second(now)
    rolling_ids = [slot.check.limit_id for slot in slots if slot.rolling]
    rolling = {}
    if rolling_ids:
        rolling = await rows.read_rolling(conn, rolling_ids, second - ROLLING_SECONDS + 1, second)
    empty = CounterView(used=0, reserved=0)
    return [
        rolling[s.check.limit_id] if s.rolling else counters.get(k, empty)
        for s, k in zip(slots, keys, strict=True)
    ]


def _key(item: Slot | Hold) -> CounterKey:
    limit_id = item.check.limit_id if isinstance(item, Slot) else item.limit_id
    return (limit_id, ROLLING_LOCK_ROW if item.rolling else item.window_start)


async def _apply(conn: AsyncConnection, changes: Sequence[tuple[Hold, Change]]) -> None:
    counters = {_key(h): c for h, c in changes if not h.rolling}
    buckets = {(h.limit_id, bucket_second(h.window_start)): c for h, c in changes if h.rolling}
    await rows.change_counters(conn, counters)
    await rows.change_buckets(conn, buckets)


def _settle_changes(
    holds: Sequence[Hold],
    locked: dict[CounterKey, CounterView],
    rolling: dict[int, CounterView],
    actual: Charge,
    second: int,
) -> tuple[SettleResult, list[tuple[Hold, Change]]]:
    crossed, overage, changes = [], [], []
    for hold in holds:
        added = actual.of(hold.metric)
        if hold.rolling:
            before = rolling[hold.limit_id].used if hold.limit_id in rolling else 0
            in_window = bucket_second(hold.window_start) > second - ROLLING_SECONDS
            after = before + added if in_window else before
        else:
            before = locked[_key(hold)].used
            after = before + added
        over = overage_of(hold=hold, before=before, after=after)
        if over:
            overage.append(OverageAmount(hold.limit_id, hold.window_start, over))
        crossed += [
            ThresholdCrossing(hold.limit_id, hold.window_start, t, after, hold.amount)
            for t in crossed_thresholds(hold=hold, before=before, after=after)
        ]
        changes.append((hold, Change(used=added, reserved=-hold.reserved, overage=over)))
    return SettleResult("settled", tuple(crossed), tuple(overage)), changes


def _record(hold: Hold) -> HoldRecord:
    return HoldRecord(
        limit_id=hold.limit_id,
        rolling=hold.rolling,
        window_start=bucket_second(hold.window_start),
        window_end=bucket_second(hold.window_end),
        metric=hold.metric,
        mode=hold.mode,
        amount=hold.amount,
        thresholds=list(hold.thresholds),
        reserved=hold.reserved,
    )


def _hold(record: HoldRecord) -> Hold:
    return Hold(
        limit_id=record["limit_id"],
        rolling=record["rolling"],
        window_start=datetime.fromtimestamp(record["window_start"], UTC),
        window_end=datetime.fromtimestamp(record["window_end"], UTC),
        metric=record["metric"],
        mode=record["mode"],
        amount=record["amount"],
        thresholds=tuple(record["thresholds"]),
        reserved=record["reserved"],
    )


def _reservation(stored: StoredReservation) -> Reservation:
    return reservation_of(
        request_id=stored.request_id,
        output_tokens=stored.output_tokens,
        charge=stored.charge,
        holds=[_hold(r) for r in stored.holds],
        deadline=stored.deadline,
    )
