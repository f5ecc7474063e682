"""What each SQL ledger operation does inside its one transaction (synchronous bodies).

Counter rows are locked in (limit_id, window_start) order, a rolling-minute limit through its
lock row at ``ROLLING_LOCK_ROW``, which guards its buckets. A reserve that finds a counter row
missing (the first request of a window) raises ``MissingCounters``; the caller creates the rows
in a transaction of their own and starts over, so rows are never created while locks are held.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Connection

from tokengate.errors import Conflict
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
    reservation_of,
)
from tokengate.ledger.types import (
    Charge,
    CounterReading,
    Demand,
    Denial,
    OverageAmount,
    Reservation,
    SettleResult,
    ThresholdCrossing,
)
from tokengate.ledger.windows import LIFETIME_START, ROLLING_SECONDS, bucket_second

ROLLING_LOCK_ROW = LIFETIME_START


class DuplicateRequest(Exception):
    """A concurrent reserve wrote the same request id first."""


class MissingCounters(Exception):
    """Counter rows a reserve needs do not exist yet (the first request of a window)."""

    def __init__(self, missing: list[tuple[int, datetime, datetime]]) -> None:
        super().__init__(f"{len(missing)} counter rows to create")
        self.missing = missing


@dataclass(frozen=True, slots=True)
class ReserveWork:
    """Everything one reserve transaction needs."""

    request_id: str
    slots: list[Slot]
    demand: Demand
    now: datetime
    deadline: datetime


def reserve(conn: Connection, work: ReserveWork) -> Reservation | Denial:
    """Decide and hold a request on every slot at once, or deny it."""
    live, settled = rows.known_request(conn, work.request_id)
    existing = rows.get_reservation(conn, work.request_id) if live else None
    if existing is not None:
        return _reservation(existing)
    if settled:
        raise Conflict(f"request {work.request_id} was already settled")
    views = views_of(conn, work.slots, work.now, lock=True)
    decision = admit(slots=work.slots, views=views, demand=work.demand, now=work.now)
    if isinstance(decision, Denial):
        return decision
    charge = work.demand.charge_for(decision)
    holds = [slot.hold(charge.of(slot.check.metric)) for slot in work.slots]
    _apply(conn, [(h, Change(reserved=h.reserved)) for h in holds])
    stored = StoredReservation(
        request_id=work.request_id,
        tenant_id=work.slots[0].check.tenant_id,
        created_at=work.now,
        deadline=work.deadline,
        output_tokens=decision,
        charge=charge,
        holds=[_record(h) for h in holds],
    )
    if not rows.insert_reservation(conn, stored):
        raise DuplicateRequest
    counters = [
        CounterReading(h.limit_id, view.used, view.reserved + h.reserved, h.window_end)
        for h, view in zip(holds, views, strict=True)
    ]
    return _reservation(stored, counters)


def ensure(conn: Connection, missing: list[tuple[int, datetime, datetime]]) -> None:
    """Create missing counter rows."""
    rows.ensure_counters(conn, missing)


def settle(conn: Connection, request_id: str, actual: Charge, now: datetime) -> SettleResult:
    """Turn a reservation into usage on the counters it held."""
    stored = rows.get_reservation(conn, request_id, lock=True)
    if stored is None:
        _, settled = rows.known_request(conn, request_id)
        return SettleResult("already_settled" if settled else "unknown")
    holds = [_hold(r) for r in stored.holds]
    locked = rows.lock_counters(conn, [_key(h) for h in holds])
    second = bucket_second(now)
    rolling_ids = [h.limit_id for h in holds if h.rolling and h.mode == "overage"]
    rolling = {}
    if rolling_ids:
        rolling = rows.read_rolling(conn, rolling_ids, second - ROLLING_SECONDS + 1, second)
    result, changes = _settle_changes(holds, locked, rolling, actual, second)
    _apply(conn, changes)
    rows.delete_reservations(conn, [request_id])
    rows.insert_settlement(conn, request_id, now)
    return result


def release(conn: Connection, request_id: str) -> bool:
    """Drop a reservation without charging it."""
    stored = rows.get_reservation(conn, request_id, lock=True)
    if stored is None:
        return False
    _drop(conn, [stored])
    return True


def sweep(conn: Connection, now: datetime, batch: int) -> int:
    """Drop up to ``batch`` reservations past their deadline; return how many."""
    expired = rows.lock_expired(conn, now, batch)
    if expired:
        _drop(conn, expired)
    return len(expired)


def _drop(conn: Connection, reservations: Sequence[StoredReservation]) -> None:
    holds = [_hold(r) for stored in reservations for r in stored.holds]
    rows.lock_counters(conn, [_key(h) for h in holds])
    _apply(conn, [(h, Change(reserved=-h.reserved)) for h in holds])
    rows.delete_reservations(conn, [s.request_id for s in reservations])


def views_of(
    conn: Connection, slots: Sequence[Slot], now: datetime, *, lock: bool
) -> list[CounterView]:
    """Return each slot's counter totals, locking the rows when asked."""
    keys = [_key(slot) for slot in slots]
    if lock:
        counters = rows.lock_counters(conn, keys)
        missing = [
            (*key, ROLLING_LOCK_ROW if slot.rolling else slot.window_end)
            for key, slot in zip(keys, slots, strict=True)
            if key not in counters
        ]
        if missing:
            raise MissingCounters(missing)
    else:
        counters = rows.read_counters(conn, keys)
    second = bucket_second(now)
    rolling_ids = [slot.check.limit_id for slot in slots if slot.rolling]
    rolling = {}
    if rolling_ids:
        rolling = rows.read_rolling(conn, rolling_ids, second - ROLLING_SECONDS + 1, second)
    empty = CounterView(used=0, reserved=0)
    return [
        rolling[s.check.limit_id] if s.rolling else counters.get(k, empty)
        for s, k in zip(slots, keys, strict=True)
    ]


def _key(item: Slot | Hold) -> CounterKey:
    limit_id = item.check.limit_id if isinstance(item, Slot) else item.limit_id
    return (limit_id, ROLLING_LOCK_ROW if item.rolling else item.window_start)


def _apply(conn: Connection, changes: Sequence[tuple[Hold, Change]]) -> None:
    # Several reservations (a sweep) can hold the same counter: add their changes up.
    counters: dict[CounterKey, Change] = {}
    buckets: dict[tuple[int, int], Change] = {}
    for hold, change in changes:
        if hold.rolling:
            key = (hold.limit_id, bucket_second(hold.window_start))
            buckets[key] = buckets.get(key, Change()) + change
        else:
            counters[_key(hold)] = counters.get(_key(hold), Change()) + change
    rows.change_counters(conn, counters)
    rows.change_buckets(conn, buckets)


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
            in_window = second - ROLLING_SECONDS < bucket_second(hold.window_start) <= second
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


def _reservation(stored: StoredReservation, counters: Sequence[CounterReading] = ()) -> Reservation:
    return reservation_of(
        request_id=stored.request_id,
        output_tokens=stored.output_tokens,
        charge=stored.charge,
        holds=[_hold(r) for r in stored.holds],
        deadline=stored.deadline,
        counters=counters,
    )
