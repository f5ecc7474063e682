"""Contract: settle charges the real usage exactly once; release and sweep charge nothing."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from tests.ledger.factories import NOW, TTL, demand, limit, request_id
from tokengate.ledger.backends import LedgerBackend
from tokengate.ledger.types import (
    Charge,
    Demand,
    LimitCheck,
    LimitState,
    OverageAmount,
    Reservation,
    ThresholdCrossing,
)
from tokengate.ledger.windows import window_bounds


async def admit(
    backend: LedgerBackend, checks: list[LimitCheck], need: Demand | None = None
) -> Reservation:
    got = await backend.reserve(
        request_id=request_id(), checks=checks, demand=need or demand(), now=NOW, ttl=TTL
    )
    assert isinstance(got, Reservation)
    return got


async def state(backend: LedgerBackend, check: LimitCheck) -> LimitState:
    (found,) = await backend.states(checks=[check], now=NOW)
    return found


async def test_settle_replaces_the_reservation_with_the_usage(backend: LedgerBackend) -> None:
    checks = [limit(1), limit(2, metric="cost", amount=10**6), limit(3, metric="requests")]
    held = await admit(backend, checks, demand(prompt_cost=50, price=10**6))
    assert [r.amount for r in held.reserved] == [200, 150, 1]
    actual = Charge(tokens=130, cost_micros=80, requests=1)
    result = await backend.settle(request_id=held.request_id, actual=actual, now=NOW)
    assert (result.status, result.charged, result.crossed, result.overage) == (
        "settled",
        True,
        (),
        (),
    )
    states = await backend.states(checks=checks, now=NOW)
    assert [(s.used, s.reserved, s.overage) for s in states] == [(130, 0, 0), (80, 0, 0), (1, 0, 0)]


async def test_settling_twice_counts_once(backend: LedgerBackend) -> None:
    checks = [limit(1)]
    held = await admit(backend, checks)
    actual = Charge(tokens=150, requests=1)
    await backend.settle(request_id=held.request_id, actual=actual, now=NOW)
    again = await backend.settle(request_id=held.request_id, actual=actual, now=NOW)
    assert (again.status, again.charged) == ("already_settled", False)
    assert (await state(backend, checks[0])).used == 150


async def test_settling_an_unknown_request_changes_nothing(backend: LedgerBackend) -> None:
    result = await backend.settle(request_id=request_id(), actual=Charge(tokens=5), now=NOW)
    assert result.status == "unknown"


async def test_usage_past_the_amount_of_an_overage_limit_is_recorded(
    backend: LedgerBackend,
) -> None:
    check = limit(1, amount=300, mode="overage")
    first = await admit(backend, [check], demand(max_out=200))
    result = await backend.settle(
        request_id=first.request_id, actual=Charge(tokens=250, requests=1), now=NOW
    )
    assert result.overage == ()
    second = await admit(backend, [check], demand(max_out=200))
    result = await backend.settle(
        request_id=second.request_id, actual=Charge(tokens=120, requests=1), now=NOW
    )
    start = window_bounds("month", NOW, ZoneInfo(check.timezone))[0]
    assert result.overage == (OverageAmount(1, start, 70),)
    found = await state(backend, check)
    assert (found.used, found.reserved, found.overage) == (370, 0, 70)


async def test_thresholds_are_reported_by_the_settle_that_reaches_them(
    backend: LedgerBackend,
) -> None:
    check = limit(1, amount=1000, mode="alert_only", thresholds=(50, 80, 90, 100))
    crossed = []
    for tokens in (400, 450, 100, 49, 1, 500):
        held = await admit(backend, [check], demand(prompt=0, max_out=600))
        result = await backend.settle(
            request_id=held.request_id, actual=Charge(tokens=tokens), now=NOW
        )
        crossed.append([(c.threshold, c.used) for c in result.crossed])
    assert crossed == [[], [(50, 850), (80, 850)], [(90, 950)], [], [(100, 1000)], []]
    held = await admit(backend, [check], demand(prompt=0, max_out=1))
    result = await backend.settle(request_id=held.request_id, actual=Charge(tokens=1), now=NOW)
    assert result.crossed == ()


async def test_a_crossing_names_its_window(backend: LedgerBackend) -> None:
    check = limit(1, amount=100, thresholds=(80,))
    held = await admit(backend, [check], demand(prompt=0, max_out=90))
    result = await backend.settle(request_id=held.request_id, actual=Charge(tokens=85), now=NOW)
    start = window_bounds("month", NOW, ZoneInfo(check.timezone))[0]
    assert result.crossed == (ThresholdCrossing(1, start, 80, 85, 100),)


async def test_release_gives_the_reservation_back(backend: LedgerBackend) -> None:
    check = limit(1)
    held = await admit(backend, [check])
    assert await backend.release(request_id=held.request_id) is True
    assert await backend.release(request_id=held.request_id) is False
    assert await backend.release(request_id=request_id()) is False
    found = await state(backend, check)
    assert (found.used, found.reserved) == (0, 0)
    result = await backend.settle(request_id=held.request_id, actual=Charge(tokens=1), now=NOW)
    assert result.status == "unknown"


async def test_sweep_drops_reservations_past_their_deadline(backend: LedgerBackend) -> None:
    check = limit(1, metric="requests", amount=2)
    old = await admit(backend, [check])
    later = NOW + timedelta(seconds=60)
    young = await backend.reserve(
        request_id=request_id(), checks=[check], demand=demand(), now=later, ttl=TTL
    )
    assert isinstance(young, Reservation)
    assert await backend.sweep(now=NOW + TTL - timedelta(seconds=1)) == 0
    assert await backend.sweep(now=NOW + TTL) == 1
    assert await backend.sweep(now=NOW + TTL) == 0
    assert (await state(backend, check)).reserved == 1
    gone = await backend.settle(request_id=old.request_id, actual=Charge(requests=1), now=later)
    assert gone.status == "unknown"
    assert (await state(backend, check)).used == 0
    assert await backend.sweep(now=later + TTL) == 1
    assert (await state(backend, check)).reserved == 0


async def test_sweep_releases_many_holds_on_one_counter(backend: LedgerBackend) -> None:
    checks = [limit(1), limit(2, window="minute")]
    for _ in range(3):
        await admit(backend, checks)
    assert await backend.sweep(now=NOW + TTL) == 3
    assert [s.reserved for s in await backend.states(checks=checks, now=NOW)] == [0, 0]


async def test_a_swept_reservation_can_be_reserved_again(backend: LedgerBackend) -> None:
    check = limit(1)
    held = await admit(backend, [check])
    assert await backend.sweep(now=NOW + TTL) == 1
    again = await backend.reserve(
        request_id=held.request_id, checks=[check], demand=demand(), now=NOW, ttl=TTL
    )
    assert isinstance(again, Reservation)


async def test_states_read_out_every_limit_in_the_order_given(backend: LedgerBackend) -> None:
    checks = [limit(7, window="day", amount=900), limit(3, window="lifetime", amount=5000)]
    held = await admit(backend, checks)
    await backend.settle(request_id=held.request_id, actual=Charge(tokens=42), now=NOW)
    await admit(backend, checks)
    day = window_bounds("day", NOW, ZoneInfo(checks[0].timezone))
    life = window_bounds("lifetime", NOW, ZoneInfo(checks[1].timezone))
    assert await backend.states(checks=checks, now=NOW) == [
        LimitState(7, day[0], day[1], used=42, reserved=200, overage=0, amount=900),
        LimitState(3, life[0], life[1], used=42, reserved=200, overage=0, amount=5000),
    ]
    assert await backend.states(checks=[], now=NOW) == []


async def test_a_settled_request_id_is_forgotten_after_the_retention(
    backend: LedgerBackend,
) -> None:
    check = limit(1)
    held = await admit(backend, [check])
    await backend.settle(request_id=held.request_id, actual=Charge(tokens=1), now=NOW)
    assert await backend.sweep(now=NOW + timedelta(minutes=59)) == 0
    again = await backend.settle(request_id=held.request_id, actual=Charge(tokens=1), now=NOW)
    assert again.status == "already_settled"
    later = NOW + timedelta(hours=2)
    assert await backend.sweep(now=later) == 0
    reused = await backend.reserve(
        request_id=held.request_id, checks=[check], demand=demand(), now=later, ttl=TTL
    )
    assert isinstance(reused, Reservation)


async def test_settle_with_the_tenant_given_charges_the_same(backend: LedgerBackend) -> None:
    check = limit(1)
    held = await admit(backend, [check])
    result = await backend.settle(
        request_id=held.request_id, actual=Charge(tokens=70), now=NOW, tenant_id=check.tenant_id
    )
    assert result.charged
    again = await backend.settle(
        request_id=held.request_id, actual=Charge(tokens=70), now=NOW, tenant_id=check.tenant_id
    )
    assert again.status == "already_settled"
    found = await state(backend, check)
    assert (found.used, found.reserved) == (70, 0)
