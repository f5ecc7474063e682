"""The ledger's decisions in plain integer arithmetic, shared by the backends.

The SQL backend calls these functions inside its transaction; the Redis Lua scripts
(``backends/lua/``) implement the same rules line for line, and the contract tests hold both to
them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from tokengate.ledger.types import (
    MICROS_PER_MTOK_SCALE,
    Charge,
    CounterReading,
    Demand,
    Denial,
    LimitCheck,
    Metric,
    Mode,
    Reservation,
    ReservedAmount,
)
from tokengate.ledger.windows import ROLLING_SECONDS, bucket_second, window_bounds


@dataclass(frozen=True, slots=True)
class Hold:
    """One limit's share of a reservation, with what settling it needs to know."""

    limit_id: int
    rolling: bool
    window_start: datetime
    window_end: datetime
    metric: Metric
    mode: Mode
    amount: int
    thresholds: tuple[int, ...]
    reserved: int


@dataclass(frozen=True, slots=True)
class Slot:
    """Where a check's counter lives for a request made now (rolling: the second's bucket)."""

    check: LimitCheck
    window_start: datetime
    window_end: datetime

    @property
    def rolling(self) -> bool:
        """Whether this is a rolling-minute limit."""
        return self.check.window == "minute"

    @property
    def lifetime(self) -> bool:
        """Whether this limit's window never ends."""
        return self.check.window == "lifetime"

    def hold(self, reserved: int) -> Hold:
        """Return this slot's share of a reservation holding ``reserved``."""
        check = self.check
        return Hold(
            limit_id=check.limit_id,
            rolling=self.rolling,
            window_start=self.window_start,
            window_end=self.window_end,
            metric=check.metric,
            mode=check.mode,
            amount=check.amount,
            thresholds=check.thresholds,
            reserved=reserved,
        )


@dataclass(frozen=True, slots=True)
class CounterView:
    """A counter's current totals; for rolling limits, the sums over the in-window buckets.

    ``buckets`` lists (epoch second, used + reserved) of each non-empty in-window bucket,
    oldest first; only rolling limits fill it.
    """

    used: int
    reserved: int
    overage: int = 0
    buckets: tuple[tuple[int, int], ...] = ()


def plan_slots(checks: Sequence[LimitCheck], now: datetime) -> list[Slot]:
    """Return the slots of ``checks`` at ``now`` in lock order (by limit id)."""
    if len({check.limit_id for check in checks}) != len(checks):
        raise ValueError("each limit may appear once per request")
    if len({check.tenant_id for check in checks}) > 1:
        raise ValueError("all checks of one request belong to one tenant")
    slots = []
    for check in sorted(checks, key=lambda c: c.limit_id):
        if check.window == "minute":
            start = datetime.fromtimestamp(bucket_second(now), UTC)
            end = start + timedelta(seconds=1)
        else:
            start, end = window_bounds(check.window, now, ZoneInfo(check.timezone))
        slots.append(Slot(check=check, window_start=start, window_end=end))
    return slots


def output_fit(*, metric: Metric, room: int, demand: Demand) -> int | None:
    """Return how many output tokens fit in ``room`` (-1: not even the fixed part; None: any)."""
    left = room - demand.fixed.of(metric)
    if left < 0:
        return -1
    if metric == "tokens":
        return left
    if metric == "cost" and demand.output_micros_per_mtok > 0:
        return left * MICROS_PER_MTOK_SCALE // demand.output_micros_per_mtok
    return None


def admit(
    *, slots: Sequence[Slot], views: Sequence[CounterView], demand: Demand, now: datetime
) -> int | Denial:
    """Return the output tokens to grant, or the denial of the first limit that refuses.

    Calendar and lifetime refusals win over rolling ones (retrying cannot help the client);
    within each kind the lowest limit id wins.
    """
    granted = demand.max_output_tokens
    refusals: list[tuple[bool, Slot, CounterView]] = []
    for slot, view in zip(slots, views, strict=True):
        check = slot.check
        if check.mode != "block":
            continue
        room = check.ceiling - view.used - view.reserved
        fit = output_fit(metric=check.metric, room=room, demand=demand)
        if fit is None:
            continue
        if fit < demand.min_output_tokens:
            refusals.append((slot.rolling, slot, view))
        granted = min(granted, fit)
    if refusals:
        _, slot, view = min(refusals, key=lambda r: (r[0], r[1].check.limit_id))
        return denial_of(slot=slot, view=view, demand=demand, now=now)
    return granted


def denial_of(
    *, slot: Slot, view: CounterView, demand: Demand, now: datetime, reset: int | None = None
) -> Denial:
    """Describe a refusal by ``slot``; a rolling one frees up at epoch second ``reset``.

    Without ``reset`` it is worked out from the view's buckets.
    """
    check = slot.check
    needed = demand.charge_for(demand.min_output_tokens).of(check.metric)
    resets_at: datetime | None = None if slot.lifetime else slot.window_end
    retry_after = None
    if slot.rolling:
        if reset is None:
            reset = rolling_reset(
                buckets=view.buckets, ceiling=check.ceiling, needed=needed, now=now
            )
        resets_at = datetime.fromtimestamp(reset, UTC)
        retry_after = max(1, -(-(resets_at - now) // timedelta(seconds=1)))
    return Denial(
        limit_id=check.limit_id,
        metric=check.metric,
        window=check.window,
        amount=check.amount,
        ceiling=check.ceiling,
        used=view.used,
        reserved=view.reserved,
        needed=needed,
        resets_at=resets_at,
        rolling=slot.rolling,
        retry_after=retry_after,
    )


def rolling_reset(
    *, buckets: Sequence[tuple[int, int]], ceiling: int, needed: int, now: datetime
) -> int:
    """Return the epoch second by which enough buckets expire for ``needed`` to fit.

    When ``needed`` exceeds the ceiling itself nothing helps; a full window length is reported.
    """
    total = sum(held for _, held in buckets)
    freed = 0
    for second, held in buckets:
        freed += held
        if ceiling - (total - freed) >= needed:
            return second + ROLLING_SECONDS
    return bucket_second(now) + ROLLING_SECONDS


def reservation_of(
    *,
    request_id: str,
    output_tokens: int,
    charge: Charge,
    holds: Sequence[Hold],
    deadline: datetime,
    counters: Sequence[CounterReading] = (),
) -> Reservation:
    """Build the reservation a caller gets back from its holds."""
    return Reservation(
        request_id=request_id,
        output_tokens=output_tokens,
        charge=charge,
        reserved=tuple(ReservedAmount(h.limit_id, h.window_start, h.reserved) for h in holds),
        deadline=deadline,
        counters=tuple(counters),
    )


def overage_of(*, hold: Hold, before: int, after: int) -> int:
    """Return the part of the usage added between ``before`` and ``after`` past the amount."""
    if hold.mode != "overage":
        return 0
    return max(0, after - max(before, hold.amount))


def crossed_thresholds(*, hold: Hold, before: int, after: int) -> list[int]:
    """Return the thresholds (percent of amount) usage reached between ``before`` and ``after``.

    Rolling limits have no period to alert on and report none.
    """
    if hold.rolling:
        return []
    marks = [(t, -(-t * hold.amount // 100)) for t in hold.thresholds]
    return [t for t, mark in marks if before < mark <= after]
