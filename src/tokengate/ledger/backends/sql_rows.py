"""The statements of the SQL ledger backend, one function per query.

Statements are built once, with bound parameters, so SQLAlchemy compiles each of them once per
dialect and every later call only binds values. The functions are synchronous: they run inside
one transaction body (``sql_transactions``), on PostgreSQL through ``AsyncConnection.run_sync``
and on SQLite in the ledger's own thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import (
    Connection,
    Executable,
    Row,
    bindparam,
    delete,
    exists,
    insert,
    select,
    tuple_,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite

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

    def __add__(self, other: Change) -> Change:
        return Change(
            self.used + other.used, self.reserved + other.reserved, self.overage + other.overage
        )


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


_C, _B, _R, _S = LedgerCounter, LedgerBucket, LedgerReservation, LedgerSettlement
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

_COUNTER_COLUMNS = (_C.limit_id, _C.window_start, _C.used, _C.reserved, _C.overage)
_COUNTER_KEYS = tuple_(_C.limit_id, _C.window_start).in_(bindparam("keys", expanding=True))
_READ_COUNTERS = select(*_COUNTER_COLUMNS).where(_COUNTER_KEYS)
_LOCK_COUNTERS = _READ_COUNTERS.order_by(_C.limit_id, _C.window_start).with_for_update()
_READ_BUCKETS = (
    select(_B.limit_id, _B.second, _B.used, _B.reserved, _B.overage)
    .where(
        _B.limit_id.in_(bindparam("ids", expanding=True)),
        _B.second.between(bindparam("first"), bindparam("last")),
    )
    .order_by(_B.limit_id, _B.second)
)
_CHANGE_COUNTERS = (
    update(_C)
    .where(_C.limit_id == bindparam("k_limit"), _C.window_start == bindparam("k_start"))
    .values(
        used=_C.used + bindparam("d_used"),
        reserved=_C.reserved + bindparam("d_reserved"),
        overage=_C.overage + bindparam("d_overage"),
    )
)
_KNOWN = select(
    exists().where(_R.request_id == bindparam("rid")).label("live"),
    exists().where(_S.request_id == bindparam("rid")).label("settled"),
)
_GET_RESERVATION = select(*_RESERVATION_COLUMNS).where(_R.request_id == bindparam("rid"))
_LOCK_RESERVATION = _GET_RESERVATION.with_for_update()
_LOCK_EXPIRED = (
    select(*_RESERVATION_COLUMNS)
    .where(_R.deadline <= bindparam("now"))
    .order_by(_R.deadline)
    .limit(bindparam("batch"))
    .with_for_update(skip_locked=True)
)
_DELETE_RESERVATIONS = delete(_R).where(_R.request_id.in_(bindparam("ids", expanding=True)))
_INSERT_SETTLEMENT = insert(_S)
_PRUNE_SETTLEMENTS = delete(_S).where(_S.settled_at < bindparam("before"))
_PRUNE_BUCKETS = delete(_B).where(_B.second < bindparam("before"), _B.reserved == 0)


@dataclass(frozen=True, slots=True)
class _Upserts:
    """The dialect-specific statements (ON CONFLICT differs between SQLite and PostgreSQL)."""

    ensure: Executable
    buckets: Executable
    reservation: Executable


def _upserts(dialect: type[postgresql.Insert] | type[sqlite.Insert]) -> _Upserts:
    buckets = dialect(_B)
    return _Upserts(
        ensure=dialect(_C).on_conflict_do_nothing(),
        buckets=buckets.on_conflict_do_update(
            index_elements=[_B.limit_id, _B.second],
            set_={
                "used": _B.used + buckets.excluded.used,
                "reserved": _B.reserved + buckets.excluded.reserved,
                "overage": _B.overage + buckets.excluded.overage,
            },
        ),
        reservation=dialect(_R).on_conflict_do_nothing().returning(_R.request_id),
    )


_UPSERTS = {"postgresql": _upserts(postgresql.Insert), "sqlite": _upserts(sqlite.Insert)}


def ensure_counters(conn: Connection, rows: Sequence[tuple[int, datetime, datetime]]) -> None:
    """Create the missing counter rows (limit id, window start, window end), in key order."""
    params = [
        {"limit_id": limit_id, "window_start": start, "window_end": end}
        | {"used": 0, "reserved": 0, "overage": 0}
        for limit_id, start, end in sorted(rows)
    ]
    conn.execute(_UPSERTS[conn.dialect.name].ensure, params)


def _views(rows: Sequence[Row[int, datetime, int, int, int]]) -> dict[CounterKey, CounterView]:
    return {(r.limit_id, r.window_start): CounterView(r.used, r.reserved, r.overage) for r in rows}


def lock_counters(conn: Connection, keys: Sequence[CounterKey]) -> dict[CounterKey, CounterView]:
    """Lock the existing counter rows in key order (FOR UPDATE) and return their totals."""
    result = conn.execute(_LOCK_COUNTERS, {"keys": sorted(set(keys))})
    return _views(result.all())


def read_counters(conn: Connection, keys: Sequence[CounterKey]) -> dict[CounterKey, CounterView]:
    """Return the totals of existing counter rows, without locking."""
    return _views((conn.execute(_READ_COUNTERS, {"keys": sorted(set(keys))})).all())


def read_rolling(
    conn: Connection, limit_ids: Sequence[int], first: int, last: int
) -> dict[int, CounterView]:
    """Return each rolling limit's sums over its buckets from second ``first`` to ``last``."""
    params = {"ids": sorted(set(limit_ids)), "first": first, "last": last}
    found: dict[int, list[tuple[int, int, int, int]]] = {i: [] for i in limit_ids}
    for r in (conn.execute(_READ_BUCKETS, params)).all():
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


def change_counters(conn: Connection, changes: dict[CounterKey, Change]) -> None:
    """Add the given amounts to existing counter rows."""
    if not changes:
        return
    params = [
        {"k_limit": k[0], "k_start": k[1], "d_used": v.used}
        | {"d_reserved": v.reserved, "d_overage": v.overage}
        for k, v in sorted(changes.items())
    ]
    conn.execute(_CHANGE_COUNTERS, params)


def change_buckets(conn: Connection, changes: dict[BucketKey, Change]) -> None:
    """Add the given amounts to bucket rows, creating the missing ones."""
    if not changes:
        return
    params = [
        {"limit_id": k[0], "second": k[1], "used": v.used}
        | {"reserved": v.reserved, "overage": v.overage}
        for k, v in sorted(changes.items())
    ]
    conn.execute(_UPSERTS[conn.dialect.name].buckets, params)


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


def known_request(conn: Connection, request_id: str) -> tuple[bool, bool]:
    """Tell whether a request id has a live reservation, and whether it was settled lately."""
    row = (conn.execute(_KNOWN, {"rid": request_id})).one()
    return bool(row.live), bool(row.settled)


def get_reservation(
    conn: Connection, request_id: str, *, lock: bool = False
) -> StoredReservation | None:
    """Return a live reservation by request id, locking its row when asked."""
    statement = _LOCK_RESERVATION if lock else _GET_RESERVATION
    row = (conn.execute(statement, {"rid": request_id})).first()
    return None if row is None else _stored(row)


def insert_reservation(conn: Connection, new: StoredReservation) -> bool:
    """Write a new reservation; False when the request id already has one."""
    params = {
        "request_id": new.request_id,
        "tenant_id": new.tenant_id,
        "created_at": new.created_at,
        "deadline": new.deadline,
        "output_tokens": new.output_tokens,
        "charge_tokens": new.charge.tokens,
        "charge_cost_micros": new.charge.cost_micros,
        "charge_requests": new.charge.requests,
        "holds": new.holds,
    }
    statement = _UPSERTS[conn.dialect.name].reservation
    return (conn.execute(statement, params)).first() is not None


def delete_reservations(conn: Connection, request_ids: Sequence[str]) -> None:
    """Delete reservations by request id."""
    conn.execute(_DELETE_RESERVATIONS, {"ids": list(request_ids)})


def lock_expired(conn: Connection, now: datetime, limit: int) -> list[StoredReservation]:
    """Lock up to ``limit`` reservations past their deadline, skipping rows others hold."""
    result = conn.execute(_LOCK_EXPIRED, {"now": now, "batch": limit})
    return [_stored(row) for row in result.all()]


def insert_settlement(conn: Connection, request_id: str, now: datetime) -> None:
    """Record that a request id was settled."""
    conn.execute(_INSERT_SETTLEMENT, {"request_id": request_id, "settled_at": now})


def prune(conn: Connection, *, settled_before: datetime, bucket_before: int) -> None:
    """Forget old settlement markers and idle buckets that left every rolling window."""
    conn.execute(_PRUNE_SETTLEMENTS, {"before": settled_before})
    conn.execute(_PRUNE_BUCKETS, {"before": bucket_before})
