"""Contract: counters are keyed by calendar period; the rolling minute frees up after 60 s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.ledger.factories import TTL, demand, limit, request_id
from tokengate.ledger.backends import LedgerBackend
from tokengate.ledger.types import Charge, Demand, Denial, LimitCheck, Reservation

# 2031-01-31 23:30 in Seoul; February starts there 30 minutes later.
JANUARY = datetime(2031, 1, 31, 14, 30, tzinfo=UTC)
FEBRUARY = datetime(2031, 1, 31, 15, 0, tzinfo=UTC)
T0 = datetime(2031, 3, 1, 12, 0, 0, tzinfo=UTC)


async def reserve(
    backend: LedgerBackend, checks: list[LimitCheck], need: Demand, at: datetime
) -> Reservation | Denial:
    return await backend.reserve(
        request_id=request_id(), checks=checks, demand=need, now=at, ttl=TTL
    )


async def used(backend: LedgerBackend, check: LimitCheck, at: datetime) -> tuple[int, int, int]:
    (found,) = await backend.states(checks=[check], now=at)
    return found.used, found.reserved, found.overage


async def test_each_month_has_its_own_counter(backend: LedgerBackend) -> None:
    check = limit(1, amount=1000)
    held = await reserve(backend, [check], demand(prompt=1000, max_out=0), JANUARY)
    assert isinstance(held, Reservation)
    await backend.settle(request_id=held.request_id, actual=Charge(tokens=1000), now=JANUARY)
    assert isinstance(await reserve(backend, [check], demand(max_out=0), JANUARY), Denial)
    assert isinstance(await reserve(backend, [check], demand(max_out=0), FEBRUARY), Reservation)
    assert await used(backend, check, JANUARY) == (1000, 0, 0)
    assert await used(backend, check, FEBRUARY) == (0, 100, 0)
    (state,) = await backend.states(checks=[check], now=FEBRUARY)
    assert state.window_start == FEBRUARY


async def test_a_settle_after_the_boundary_charges_the_reserved_period(
    backend: LedgerBackend,
) -> None:
    check = limit(1, window="day", amount=1000)
    held = await reserve(backend, [check], demand(), JANUARY)
    assert isinstance(held, Reservation)
    await backend.settle(request_id=held.request_id, actual=Charge(tokens=150), now=FEBRUARY)
    assert await used(backend, check, JANUARY) == (150, 0, 0)
    assert await used(backend, check, FEBRUARY) == (0, 0, 0)


async def test_a_full_day_denies_until_local_midnight(backend: LedgerBackend) -> None:
    check = limit(1, window="day", metric="requests", amount=1, timezone="America/New_York")
    evening = datetime(2031, 3, 9, 4, 59, tzinfo=UTC)  # 23:59 EST on 8 March
    assert isinstance(await reserve(backend, [check], demand(), evening), Reservation)
    denial = await reserve(backend, [check], demand(), evening)
    assert isinstance(denial, Denial)
    assert denial.resets_at == datetime(2031, 3, 9, 5, 0, tzinfo=UTC)
    assert (denial.rolling, denial.retry_after) == (False, None)
    assert isinstance(await reserve(backend, [check], demand(), denial.resets_at), Reservation)


async def test_the_rolling_minute_frees_up_after_sixty_seconds(backend: LedgerBackend) -> None:
    check = limit(1, window="minute", metric="requests", amount=2)
    for offset in (0, 10):
        at = T0 + timedelta(seconds=offset)
        assert isinstance(await reserve(backend, [check], demand(), at), Reservation)
    denial = await reserve(backend, [check], demand(), T0 + timedelta(seconds=30.5))
    assert isinstance(denial, Denial)
    assert (denial.rolling, denial.retry_after, denial.reserved) == (True, 30, 2)
    assert denial.resets_at == T0 + timedelta(seconds=60)
    late = T0 + timedelta(seconds=59.999)
    assert isinstance(await reserve(backend, [check], demand(), late), Denial)
    on_time = T0 + timedelta(seconds=60)
    assert isinstance(await reserve(backend, [check], demand(), on_time), Reservation)


async def test_retry_after_waits_for_enough_of_the_window(backend: LedgerBackend) -> None:
    check = limit(1, window="minute", amount=300)
    for offset in (0, 20, 40):
        at = T0 + timedelta(seconds=offset)
        assert isinstance(await reserve(backend, [check], demand(max_out=0), at), Reservation)
    denial = await reserve(
        backend, [check], demand(prompt=200, max_out=0), T0 + timedelta(seconds=50)
    )
    assert isinstance(denial, Denial)
    assert denial.retry_after == 30
    too_big = await reserve(
        backend, [check], demand(prompt=301, max_out=0), T0 + timedelta(seconds=50)
    )
    assert isinstance(too_big, Denial)
    assert too_big.retry_after == 60


async def test_rolling_usage_counts_in_the_reservation_second(backend: LedgerBackend) -> None:
    check = limit(1, window="minute", amount=1000)
    held = await reserve(backend, [check], demand(prompt=100, max_out=400), T0)
    assert isinstance(held, Reservation)
    assert await used(backend, check, T0) == (0, 500, 0)
    later = T0 + timedelta(seconds=5)
    await backend.settle(request_id=held.request_id, actual=Charge(tokens=120), now=later)
    assert await used(backend, check, later) == (120, 0, 0)
    assert await used(backend, check, T0 + timedelta(seconds=59)) == (120, 0, 0)
    assert await used(backend, check, T0 + timedelta(seconds=60)) == (0, 0, 0)


async def test_a_rolling_settle_after_the_window_counts_nowhere_now(
    backend: LedgerBackend,
) -> None:
    check = limit(1, window="minute", amount=1000, mode="overage")
    held = await reserve(backend, [check], demand(), T0)
    assert isinstance(held, Reservation)
    late = T0 + timedelta(seconds=70)
    result = await backend.settle(request_id=held.request_id, actual=Charge(tokens=5000), now=late)
    assert result.overage == ()
    assert await used(backend, check, late) == (0, 0, 0)


async def test_rolling_overage_is_recorded_and_expires(backend: LedgerBackend) -> None:
    check = limit(1, window="minute", amount=100, mode="overage", thresholds=(50,))
    held = await reserve(backend, [check], demand(), T0)
    assert isinstance(held, Reservation)
    result = await backend.settle(request_id=held.request_id, actual=Charge(tokens=150), now=T0)
    assert [o.amount for o in result.overage] == [50]
    assert result.crossed == ()
    assert await used(backend, check, T0) == (150, 0, 50)
    assert await used(backend, check, T0 + timedelta(seconds=60)) == (0, 0, 0)


async def test_rolling_reservations_can_be_released_and_swept(backend: LedgerBackend) -> None:
    check = limit(1, window="minute", metric="requests", amount=2)
    first = await reserve(backend, [check], demand(), T0)
    second = await reserve(backend, [check], demand(), T0 + timedelta(seconds=1))
    assert isinstance(first, Reservation)
    assert isinstance(second, Reservation)
    assert await backend.release(request_id=first.request_id) is True
    assert await backend.sweep(now=T0 + timedelta(seconds=1) + TTL) == 1
    assert await used(backend, check, T0 + timedelta(seconds=2)) == (0, 0, 0)
