from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import redis.asyncio as aioredis
from redis.crc import key_slot
from redis.exceptions import ResponseError

from tests.ledger.conftest import delete_prefix
from tests.ledger.factories import NOW, TTL, demand, limit, request_id
from tokengate.ledger.backends import RedisLedger
from tokengate.ledger.backends.redis import forget_idle_tenant
from tokengate.ledger.backends.redis_wire import Wire
from tokengate.ledger.types import Charge, Denial, Reservation

pytestmark = pytest.mark.redis


@pytest.fixture
async def client(ledger_redis_url: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(ledger_redis_url, decode_responses=True)
    yield client
    await client.aclose()


@pytest.fixture
async def prefix(client: aioredis.Redis) -> AsyncIterator[str]:
    prefix = f"tgtest-{uuid.uuid4().hex[:12]}"
    yield prefix
    await delete_prefix(client, prefix)


MakeLedger = Callable[..., RedisLedger]


@pytest.fixture
async def make_ledger(client: aioredis.Redis, prefix: str) -> AsyncIterator[MakeLedger]:
    """Ledgers on the test's prefix, closed (with their own connections) after the test."""
    made: list[RedisLedger] = []

    def make(**options: Any) -> RedisLedger:
        made.append(RedisLedger(client, prefix=prefix, **options))
        return made[-1]

    yield make
    for ledger in made:
        await ledger.aclose()


async def test_a_tenant_lives_in_one_slot_and_counters_expire(
    make_ledger: MakeLedger, client: aioredis.Redis, prefix: str
) -> None:
    ledger = make_ledger()
    checks = [
        limit(1, tenant_id=7),
        limit(2, tenant_id=7, window="minute"),
        limit(3, tenant_id=7, window="lifetime"),
    ]
    rid = request_id()
    got = await ledger.reserve(request_id=rid, checks=checks, demand=demand(), now=NOW, ttl=TTL)
    assert isinstance(got, Reservation)
    keys = {key async for key in client.scan_iter(match=f"{prefix}:*")}
    await ledger.settle(request_id=rid, actual=Charge(tokens=5), now=NOW)
    keys |= {key async for key in client.scan_iter(match=f"{prefix}:*")}
    tenant_keys = keys - {f"{prefix}:tenants", f"{prefix}:rt:{rid}"}
    assert {key.split(":", 2)[2] for key in tenant_keys} == {
        "res",
        "dl",
        "done",
        "c:1:1924959600",
        "m:2",
        "c:3:0",
    }
    assert {key_slot(key.encode()) for key in tenant_keys} == {key_slot(b"{t7}")}
    assert 0 < await client.pttl(f"{prefix}:{{t7}}:done") <= 3_600_000
    month_end = datetime(2031, 1, 31, 15, tzinfo=UTC) - NOW
    expected = (month_end.total_seconds() + 2 * 86400) * 1000
    assert abs(await client.pttl(f"{prefix}:{{t7}}:c:1:{1924959600}") - expected) < 5000
    assert 0 < await client.pttl(f"{prefix}:{{t7}}:m:2") <= 120_000
    assert await client.pttl(f"{prefix}:{{t7}}:c:3:0") == -1


async def test_sweep_forgets_tenants_without_live_reservations(
    make_ledger: MakeLedger, client: aioredis.Redis, prefix: str
) -> None:
    ledger = make_ledger()
    for tenant in (1, 2):
        await ledger.reserve(
            request_id=request_id(),
            checks=[limit(1, tenant_id=tenant)],
            demand=demand(),
            now=NOW if tenant == 1 else NOW + TTL,
            ttl=TTL,
        )
    assert await client.smembers(f"{prefix}:tenants") == {"1", "2"}
    assert await ledger.sweep(now=NOW + TTL) == 1
    assert await client.smembers(f"{prefix}:tenants") == {"2"}


async def test_a_refused_request_leaves_no_key_behind(
    make_ledger: MakeLedger, client: aioredis.Redis, prefix: str
) -> None:
    ledger = make_ledger()
    rid = request_id()
    got = await ledger.reserve(
        request_id=rid, checks=[limit(1, amount=0)], demand=demand(), now=NOW, ttl=TTL
    )
    assert isinstance(got, Denial)
    assert await client.exists(f"{prefix}:rt:{rid}") == 0


async def test_a_prefix_cannot_carry_a_hash_tag(client: aioredis.Redis) -> None:
    with pytest.raises(ValueError, match="hash tag"):
        RedisLedger(client, prefix="tg{x}")


async def test_scripts_missing_from_redis_are_loaded(client: aioredis.Redis, prefix: str) -> None:
    script = client.register_script(f"return redis.call('GET', KEYS[1]) -- {uuid.uuid4()}")
    key = f"{prefix}:probe"
    wire = Wire(client)
    reply = await wire.evalsha(script, [key], [], before=[("SET", key, "1")], after=[("DEL", key)])
    assert reply == "1"
    assert await client.exists(key) == 0
    broken = client.register_script(f"return redis.call('NOPE') -- {uuid.uuid4()}")
    with pytest.raises(ResponseError):
        await wire.evalsha(broken, [key], [])
    await wire.aclose()


async def test_sweep_works_through_batches(
    make_ledger: MakeLedger, client: aioredis.Redis, prefix: str
) -> None:
    ledger = make_ledger(sweep_batch=2)
    for _ in range(5):
        await ledger.reserve(
            request_id=request_id(), checks=[limit(1)], demand=demand(), now=NOW, ttl=TTL
        )
    assert await ledger.sweep(now=NOW + TTL) == 5
    (state,) = await ledger.states(checks=[limit(1)], now=NOW)
    assert state.reserved == 0


async def test_a_tenant_that_reserved_meanwhile_stays_listed(
    make_ledger: MakeLedger, client: aioredis.Redis, prefix: str
) -> None:
    ledger = make_ledger()
    await ledger.reserve(
        request_id=request_id(), checks=[limit(1, tenant_id=3)], demand=demand(), now=NOW, ttl=TTL
    )
    tenants = f"{prefix}:tenants"
    await forget_idle_tenant(client, tenants, "3", f"{prefix}:{{t3}}:dl")
    assert await client.smembers(tenants) == {"3"}
    await forget_idle_tenant(client, tenants, "4", f"{prefix}:{{t4}}:dl")
    assert await client.smembers(tenants) == {"3"}


async def test_a_connection_killed_between_calls_is_replaced(
    ledger_redis_url: str, client: aioredis.Redis, prefix: str
) -> None:
    name = f"tgtest-wire-{uuid.uuid4().hex[:8]}"
    own = aioredis.Redis.from_url(ledger_redis_url, client_name=name)
    ledger = RedisLedger(own, prefix=prefix)
    try:
        first = await ledger.reserve(
            request_id=request_id(), checks=[limit(1)], demand=demand(), now=NOW, ttl=TTL
        )
        assert isinstance(first, Reservation)
        ids = [c["id"] for c in await client.client_list() if c.get("name") == name]
        assert ids, "the ledger keeps its connection open between calls"
        for client_id in ids:
            await client.client_kill_filter(_id=client_id)
        second = await ledger.reserve(
            request_id=request_id(), checks=[limit(1)], demand=demand(), now=NOW, ttl=TTL
        )
        assert isinstance(second, Reservation)
        (state,) = await ledger.states(checks=[limit(1)], now=NOW)
        assert state.reserved == first.charge.tokens + second.charge.tokens
    finally:
        await ledger.aclose()
        await own.aclose()
