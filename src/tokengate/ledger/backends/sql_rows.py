"""The statements of the SQL ledger backend, one function per query."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, bindparam, delete, insert, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncConnection

from tokengate.ledger.models import (
    HoldRecord,
    LedgerBucket,
    LedgerCounter,
    LedgerReservation,
    LedgerSettlement,
)
from tokengate.ledger.rules import CounterView
from tokengate.ledger.types import Charge

CounterKey = tuple[int, datetime]
BucketKey = tuple[int, int]


@dataclass(frozen=True, slots=True)
class Change:
    """Amounts to add to one counter or bucket row (negative to take away)."""

    used: int = 0
    reserved: int = 0
    overage: int = 0


@dataclass(frozen=True, slots=True)
class StoredReservation:
    """A reservation row."""

    request_id: str
    tenant_id: int
    created_at: datetime
    deadline: datetime
    output_tokens: int
    charge: Charge
    holds: list[HoldRecord]


_R = LedgerReservation
_RESERVATION_COLUMNS = (
    _R.request_id,
    _R.tenant_id,
    _R.created_at,
    _R.deadline,
    _R.output_tokens,
    _R.charge_tokens,
    _R.charge_cost_micros,
    _R.charge_requests,
    _R.holds,
)


_StoredRow = Row[str, int, datetime, datetime, int, int, int, int, list[HoldRecord]]


def _stored(row: _StoredRow) -> StoredReservation:
    return StoredReservation(
        request_id=row.request_id,
        tenant_id=row.tenant_id,
        created_at=row.created_at,
        deadline=row.deadline,
        output_tokens=row.output_tokens,
        charge=Charge(row.charge_tokens, row.charge_cost_micros, row.charge_requests),
        holds=row.holds,
    )


def _insert(conn: AsyncConnection) -> type[postgresql.Insert] | type[sqlite.Insert]:
    return postgresql.Insert if conn.dialect.name == "postgresql" else sqlite.Insert


async def ensure_counters(
    conn: AsyncConnection, rows: Sequence[tuple[int, datetime, datetime]]
) -> None:
    """Create the missing counter rows (limit id, window start, window end), in key order."""
    values = [
        {"limit_id": limit_id, "window_start": start, "window_end": end}
        for limit_id, start, end in sorted(rows)
    ]
    stmt = _insert(conn)(LedgerCounter).values(values).on_conflict_do_nothing()
    await conn.execute(stmt)


async def lock_counters(
    conn: AsyncConnection, keys: Sequence[CounterKey]
) -> dict[CounterKey, CounterView]:
    """Lock counter rows in key order (FOR UPDATE) and return their totals."""
    c = LedgerCounter
    stmt = (
        select(c.limit_id, c.window_start, c.used, c.reserved, c.overage)
        .where(tuple_(c.limit_id, c.window_start).in_(sorted(set(keys))))
        .order_by(c.limit_id, c.window_start)
        .with_for_update()
    )
    rows = (await conn.execute(stmt)).all()
    return {(r.limit_id, r.window_start): CounterView(r.used, r.reserved, r.overage) for r in rows}


async def read_counters(
    conn: AsyncConnection, keys: Sequence[CounterKey]
) -> dict[CounterKey, CounterView]:
    """Return the totals of existing counter rows, without locking."""
    c = LedgerCounter
    stmt = select(c.limit_id, c.window_start, c.used, c.reserved, c.overage).where(
        tuple_(c.limit_id, c.window_start).in_(sorted(set(keys)))
    )
    rows = (await conn.execute(stmt)).all()
    return {(r.limit_id, r.window_start): CounterView(r.used, r.reserved, r.overage) for r in rows}


async def read_rolling(
    conn: AsyncConnection, limit_ids: Sequence[int], first: int, last: int
) -> dict[int, CounterView]:
    """Return each rolling limit's sums over its buckets from second ``first`` to ``last``."""
    b = LedgerBucket
    stmt = (
        select(b.limit_id, b.second, b.used, b.reserved, b.overage)
        .where(b.limit_id.in_(sorted(set(limit_ids))), b.second.between(first, last))
        .order_by(b.limit_id, b.second)
    )
    found: dict[int, list[tuple[int, int, int, int]]] = {i: [] for i in limit_ids}
    for r in (await conn.execute(stmt)).all():
        found[r.limit_id].append((r.second, r.used, r.reserved, r.overage))
    return {
        limit_id: CounterView(
            used=sum(x[1] for x in rows),
            reserved=sum(x[2] for x in rows),
            overage=sum(x[3] for x in rows),
            buckets=tuple((x[0], x[1] + x[2]) for x in rows if x[1] + x[2]),
        )
        for limit_id, rows in found.items()
    }


async def change_counters(conn: AsyncConnection, changes: dict[CounterKey, Change]) -> None:
    """Add the given amounts to existing counter rows."""
    if not changes:
        return
    c = LedgerCounter
    stmt = (
        update(c)
        .where(c.limit_id == bindparam("k_limit"), c.window_start == bindparam("k_start"))
        .values(
            used=c.used + bindparam("d_used"),
            reserved=c.reserved + bindparam("d_reserved"),
            overage=c.overage + bindparam("d_overage"),
        )
    )
    params = [
        {"k_limit": k[0], "k_start": k[1], "d_used": v.used}
        | {"d_reserved": v.reserved, "d_overage": v.overage}
        for k, v in sorted(changes.items())
    ]
    await conn.execute(stmt, params)


async def change_buckets(conn: AsyncConnection, changes: dict[BucketKey, Change]) -> None:
    """Add the given amounts to bucket rows, creating the missing ones."""
    if not changes:
        return
    b = LedgerBucket
    stmt = _insert(conn)(b)
    stmt = stmt.on_conflict_do_update(
        index_elements=[b.limit_id, b.second],
        set_={
            "used": b.used + stmt.excluded.used,
            "reserved": b.reserved + stmt.excluded.reserved,
            "overage": b.overage + stmt.excluded.overage,
        },
    )
    params = [
        {"limit_id": k[0], "second": k[1], "used": v.used}
        | {"reserved": v.reserved, "overage": v.overage}
        for k, v in sorted(changes.items())
    ]
    await conn.execute(stmt, params)


async def get_reservation(
    conn: AsyncConnection, request_id: str, *, lock: bool = False
) -> StoredReservation | None:
    """Return a live reservation by request id, locking its row when asked."""
    stmt = select(*_RESERVATION_COLUMNS).where(_R.request_id == request_id)
    if lock:
        stmt = stmt.with_for_update()
    row = (await conn.execute(stmt)).first()
    return None if row is None else _stored(row)


async def insert_reservation(conn: AsyncConnection, new: StoredReservation) -> bool:
    """Write a new reservation; False when the request id already has one."""
    stmt = (
        _insert(conn)(_R)
        .values(
            request_id=new.request_id,
            tenant_id=new.tenant_id,
            created_at=new.created_at,
            deadline=new.deadline,
            output_tokens=new.output_tokens,
            charge_tokens=new.charge.tokens,
            charge_cost_micros=new.charge.cost_micros,
            charge_requests=new.charge.requests,
            holds=new.holds,
        )
        .on_conflict_do_nothing()
        .returning(_R.request_id)
    )
    return (await conn.execute(stmt)).first() is not None


async def delete_reservations(conn: AsyncConnection, request_ids: Sequence[str]) -> None:
    """Delete reservations by request id."""
    await conn.execute(delete(_R).where(_R.request_id.in_(request_ids)))


async def lock_expired(conn: AsyncConnection, now: datetime, limit: int) -> list[StoredReservation]:
    """Lock up to ``limit`` reservations past their deadline, skipping rows others hold."""
    stmt = (
        select(*_RESERVATION_COLUMNS)
        .where(_R.deadline <= now)
        .order_by(_R.deadline)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return [_stored(row) for row in (await conn.execute(stmt)).all()]


async def was_settled(conn: AsyncConnection, request_id: str) -> bool:
    """Tell whether a request id was settled within the retention period."""
    s = LedgerSettlement
    stmt = select(s.request_id).where(s.request_id == request_id)
    return (await conn.execute(stmt)).first() is not None


async def insert_settlement(conn: AsyncConnection, request_id: str, now: datetime) -> None:
    """Record that a request id was settled."""
    await conn.execute(insert(LedgerSettlement).values(request_id=request_id, settled_at=now))


async def prune(conn: AsyncConnection, *, settled_before: datetime, bucket_before: int) -> None:
    """Forget old settlement markers and idle buckets that left every rolling window."""
    s, b = LedgerSettlement, LedgerBucket
    await conn.execute(delete(s).where(s.settled_at < settled_before))
    await conn.execute(delete(b).where(b.second < bucket_before, b.reserved == 0))
