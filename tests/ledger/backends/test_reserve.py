"""Contract: reserve decides across every limit at once, all or nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from tests.ledger.conftest import MakeBackend
from tests.ledger.factories import NOW, TTL, demand, limit, request_id
from tokengate.errors import Conflict
from tokengate.ledger.backends import LedgerBackend
from tokengate.ledger.types import Charge, Demand, Denial, LimitCheck, Reservation


async def reserve(
    backend: LedgerBackend, checks: list[LimitCheck], need: Demand, rid: str | None = None
) -> Reservation | Denial:
    return await backend.reserve(
        request_id=rid or request_id(), checks=checks, demand=need, now=NOW, ttl=TTL
    )


async def reserved_of(backend: LedgerBackend, checks: list[LimitCheck]) -> list[int]:
    return [s.reserved for s in await backend.states(checks=checks, now=NOW)]


async def test_grants_the_whole_output_when_it_fits(backend: LedgerBackend) -> None:
    checks = [limit(1, amount=1000)]
    got = await reserve(backend, checks, demand(prompt=100, max_out=200))
    assert isinstance(got, Reservation)
    assert got.output_tokens == 200
    assert got.charge == Charge(tokens=300, cost_micros=0, requests=1)
    assert [(r.limit_id, r.amount) for r in got.reserved] == [(1, 300)]
    assert got.deadline == NOW + TTL
    assert await reserved_of(backend, checks) == [300]


async def test_clamps_to_the_largest_output_that_fits(backend: LedgerBackend) -> None:
    checks = [limit(1, amount=1000), limit(2, amount=700)]
    got = await reserve(backend, checks, demand(prompt=100, max_out=4000, min_out=1))
    assert isinstance(got, Reservation)
    assert got.output_tokens == 600
    assert await reserved_of(backend, checks) == [700, 700]
    assert await reserve(backend, checks, demand(prompt=0, max_out=5, min_out=1)) == Denial(
        limit_id=2,
        metric="tokens",
        window="month",
        amount=700,
        ceiling=700,
        used=0,
        reserved=700,
        needed=1,
        resets_at=got.deadline.replace(month=1, day=31, hour=15, minute=0),
        rolling=False,
        retry_after=None,
    )


async def test_rejects_when_the_minimum_output_does_not_fit(backend: LedgerBackend) -> None:
    checks = [limit(1, amount=1000)]
    got = await reserve(backend, checks, demand(prompt=100, max_out=1000, min_out=901))
    assert isinstance(got, Denial)
    assert (got.used, got.reserved, got.needed) == (0, 0, 1001)
    assert await reserved_of(backend, checks) == [0]
    exact = await reserve(backend, checks, demand(prompt=100, max_out=900))
    assert isinstance(exact, Reservation)


async def test_rejects_when_the_fixed_part_alone_does_not_fit(backend: LedgerBackend) -> None:
    checks = [limit(1, amount=1000)]
    got = await reserve(backend, checks, demand(prompt=1001, max_out=0))
    assert isinstance(got, Denial)
    assert got.needed == 1001


@pytest.mark.parametrize("metric", ["tokens", "cost", "requests"])
async def test_a_limit_of_zero_blocks(backend: LedgerBackend, metric: str) -> None:
    checks = [limit(1, metric=metric, amount=0)]  # type: ignore[arg-type]
    got = await reserve(backend, checks, demand(prompt=1, prompt_cost=1, max_out=0))
    assert isinstance(got, Denial)
    assert got.limit_id == 1


async def test_one_full_limit_denies_and_leaves_the_others_untouched(
    backend: LedgerBackend,
) -> None:
    checks = [
        limit(1, amount=10_000),
        limit(2, metric="requests", amount=1),
        limit(3, metric="cost", amount=10**6),
        limit(4, amount=10, mode="overage"),
    ]
    first = await reserve(backend, checks, demand(max_out=10))
    assert isinstance(first, Reservation)
    before = await backend.states(checks=checks, now=NOW)
    second = await reserve(backend, checks, demand(max_out=10))
    assert isinstance(second, Denial)
    assert second.limit_id == 2
    assert await backend.states(checks=checks, now=NOW) == before


async def test_overage_and_alert_only_never_deny_but_are_charged(backend: LedgerBackend) -> None:
    checks = [limit(1, amount=0, mode="overage"), limit(2, amount=0, mode="alert_only")]
    got = await reserve(backend, checks, demand(prompt=100, max_out=50))
    assert isinstance(got, Reservation)
    assert got.output_tokens == 50
    assert await reserved_of(backend, checks) == [150, 150]


async def test_a_normal_request_stops_at_the_ceiling(backend: LedgerBackend) -> None:
    normal = [limit(1, amount=1000, ceiling=800)]
    high = [limit(1, amount=1000)]
    got = await reserve(backend, normal, demand(prompt=100, max_out=1000, min_out=1))
    assert isinstance(got, Reservation)
    assert got.output_tokens == 700
    assert isinstance(await reserve(backend, normal, demand(prompt=1, max_out=0)), Denial)
    urgent = await reserve(backend, high, demand(prompt=100, max_out=1000, min_out=1))
    assert isinstance(urgent, Reservation)
    assert urgent.output_tokens == 100


async def test_cost_limits_price_output_exactly(backend: LedgerBackend) -> None:
    # 0.0015 micros per output token: 1,000 tokens cost 1.5 micros, reserved as 2.
    checks = [limit(1, metric="cost", amount=10)]
    got = await reserve(
        backend, checks, demand(prompt_cost=4, price=1500, max_out=10**7, min_out=1)
    )
    assert isinstance(got, Reservation)
    assert got.output_tokens == 4000
    assert got.charge.cost_micros == 10
    assert await reserved_of(backend, checks) == [10]


async def test_large_amounts_stay_exact(backend: LedgerBackend) -> None:
    amount = 4 * 10**15 + 7
    checks = [limit(1, metric="cost", amount=amount), limit(2, amount=amount)]
    need = demand(prompt=1, prompt_cost=3 * 10**15, price=75_000_000, max_out=10**15, min_out=1)
    got = await reserve(backend, checks, need)
    assert isinstance(got, Reservation)
    assert got.output_tokens == (amount - 3 * 10**15) * 10**6 // 75_000_000
    assert got.charge.cost_micros <= amount
    assert await reserved_of(backend, checks) == [got.charge.cost_micros, got.charge.tokens]


async def test_requests_limits_count_requests(backend: LedgerBackend) -> None:
    checks = [limit(1, metric="requests", amount=3)]
    results = [await reserve(backend, checks, demand(max_out=10**6)) for _ in range(4)]
    assert [isinstance(r, Reservation) for r in results] == [True, True, True, False]


async def test_a_reservation_reports_the_counters_it_left(backend: LedgerBackend) -> None:
    checks = [limit(2, amount=1000), limit(1, amount=5000, metric="requests")]
    await reserve(backend, checks, demand(prompt=100, max_out=200))
    got = await reserve(backend, checks, demand(prompt=50, max_out=100))
    assert isinstance(got, Reservation)
    states = await backend.states(checks=checks, now=NOW)
    by_id = {c.limit_id: c for c in got.counters}
    assert [(by_id[s.limit_id].used, by_id[s.limit_id].reserved) for s in states] == [
        (0, 450),
        (0, 2),
    ]
    assert [by_id[s.limit_id].window_end for s in states] == [s.window_end for s in states]


async def test_reserving_a_live_request_again_returns_it(backend: LedgerBackend) -> None:
    checks = [limit(1, amount=1000)]
    rid = request_id()
    first = await reserve(backend, checks, demand(max_out=100), rid)
    again = await reserve(backend, checks, demand(max_out=500), rid)
    assert again == first
    assert await reserved_of(backend, checks) == [200]


async def test_concurrent_reserves_of_one_request_hold_once(make_backend: MakeBackend) -> None:
    backends = [await make_backend() for _ in range(4)]
    checks = [limit(1, amount=1000), limit(2, metric="requests", amount=10)]
    rid = request_id()
    results = await asyncio.gather(
        *(reserve(backend, checks, demand(max_out=100), rid) for backend in backends for _ in "ab")
    )
    assert all(r == results[0] for r in results)
    assert await reserved_of(backends[0], checks) == [200, 1]


async def test_reserving_a_settled_request_again_is_a_conflict(backend: LedgerBackend) -> None:
    checks = [limit(1, amount=1000)]
    rid = request_id()
    await reserve(backend, checks, demand(), rid)
    await backend.settle(request_id=rid, actual=Charge(tokens=10, requests=1), now=NOW)
    with pytest.raises(Conflict):
        await reserve(backend, checks, demand(), rid)


async def test_no_limits_admit_everything_and_record_nothing(backend: LedgerBackend) -> None:
    rid = request_id()
    got = await reserve(backend, [], demand(max_out=321), rid)
    assert isinstance(got, Reservation)
    assert (got.output_tokens, got.reserved) == (321, ())
    settled = await backend.settle(request_id=rid, actual=Charge(tokens=1), now=NOW)
    assert settled.status == "unknown"


async def test_a_calendar_refusal_wins_over_a_rolling_one(backend: LedgerBackend) -> None:
    checks = [limit(1, window="minute", amount=0), limit(2, window="day", amount=0)]
    got = await reserve(backend, checks, demand())
    assert isinstance(got, Denial)
    assert (got.limit_id, got.rolling, got.retry_after) == (2, False, None)
    rolling_only = await reserve(backend, checks[:1], demand())
    assert isinstance(rolling_only, Denial)
    assert (rolling_only.rolling, rolling_only.retry_after) == (True, 60)


async def test_a_lifetime_refusal_never_resets(backend: LedgerBackend) -> None:
    got = await reserve(backend, [limit(1, window="lifetime", amount=0)], demand())
    assert isinstance(got, Denial)
    assert got.resets_at is None


async def test_bad_check_sets_are_refused(backend: LedgerBackend) -> None:
    with pytest.raises(ValueError, match="once"):
        await reserve(backend, [limit(1), limit(1)], demand())
    with pytest.raises(ValueError, match="tenant"):
        await reserve(backend, [limit(1), limit(2, tenant_id=2)], demand())
    assert await reserved_of(backend, [limit(1)]) == [0]


async def test_ttl_sets_the_deadline(backend: LedgerBackend) -> None:
    got = await backend.reserve(
        request_id=request_id(),
        checks=[limit(1)],
        demand=demand(),
        now=NOW,
        ttl=timedelta(seconds=90),
    )
    assert isinstance(got, Reservation)
    assert got.deadline == NOW + timedelta(seconds=90)
