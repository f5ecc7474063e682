"""Contract: under concurrency from several processes, no overshoot and no phantom rejection."""

from __future__ import annotations

import asyncio
import random

from tests.ledger.conftest import MakeBackend
from tests.ledger.factories import NOW, TTL, demand, limit, request_id
from tokengate.ledger.backends import LedgerBackend
from tokengate.ledger.types import Demand, LimitCheck, Reservation

REQUESTS = 200
PROCESSES = 4


async def reserve_and_settle(
    backend: LedgerBackend, checks: list[LimitCheck], need: Demand
) -> bool:
    rid = request_id()
    got = await backend.reserve(request_id=rid, checks=checks, demand=need, now=NOW, ttl=TTL)
    if not isinstance(got, Reservation):
        return False
    await backend.settle(request_id=rid, actual=got.charge, now=NOW)
    return True


async def test_concurrent_requests_fill_a_limit_exactly(make_backend: MakeBackend) -> None:
    backends = [await make_backend() for _ in range(PROCESSES)]
    check = limit(1, amount=5000)
    need = demand(prompt=100, max_out=0)
    admitted = await asyncio.gather(
        *(reserve_and_settle(backends[i % PROCESSES], [check], need) for i in range(REQUESTS))
    )
    assert sum(admitted) == 5000 // 100
    (state,) = await backends[0].states(checks=[check], now=NOW)
    assert (state.used, state.reserved) == (5000, 0)


async def test_overlapping_scopes_queue_without_deadlock(make_backend: MakeBackend) -> None:
    backends = [await make_backend() for _ in range(PROCESSES)]
    tenant = limit(1, amount=5000)
    teams = [limit(10 + i, amount=4000) for i in range(2)]
    users = [limit(100 + i, amount=1000) for i in range(10)]
    rng = random.Random(7)
    batches = []
    for i in range(REQUESTS):
        checks = [tenant, teams[i % 2], users[i % 10]]
        rng.shuffle(checks)
        batches.append(checks)
    admitted = await asyncio.gather(
        *(
            reserve_and_settle(backends[i % PROCESSES], checks, demand(max_out=0))
            for i, checks in enumerate(batches)
        )
    )
    assert sum(admitted) == 50
    states = await backends[0].states(checks=[tenant, *teams, *users], now=NOW)
    assert states[0].used == 5000
    assert sum(s.used for s in states[3:]) == 5000
    assert all(s.used <= s.amount and s.reserved == 0 for s in states)


async def test_concurrent_settles_count_once_and_cross_once(make_backend: MakeBackend) -> None:
    backends = [await make_backend() for _ in range(PROCESSES)]
    check = limit(1, amount=5000, thresholds=(80, 90, 100))
    held = []
    for _ in range(50):
        got = await backends[0].reserve(
            request_id=request_id(), checks=[check], demand=demand(max_out=0), now=NOW, ttl=TTL
        )
        assert isinstance(got, Reservation)
        held.append(got)
    results = await asyncio.gather(
        *(
            backend.settle(request_id=r.request_id, actual=r.charge, now=NOW)
            for r in held
            for backend in backends
        )
    )
    assert sum(r.charged for r in results) == 50
    assert sorted(c.threshold for r in results for c in r.crossed) == [80, 90, 100]
    (state,) = await backends[0].states(checks=[check], now=NOW)
    assert (state.used, state.reserved) == (5000, 0)
