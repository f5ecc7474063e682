"""The ledger on Redis (or Redis Cluster): one Lua script per operation, run with EVALSHA.

Keys of tenant 7 under prefix ``tg`` share the hash tag ``{t7}``, so one reservation touches
one slot:

- ``tg:{t7}:c:<limit>:<window start>``: hash ``u``/``r``/``o`` (used, reserved, overage) of a
  calendar or lifetime window, expiring ``counter_grace`` after the window ends;
- ``tg:{t7}:m:<limit>``: a rolling-minute limit, fields ``<second>:u|r|o`` per one-second
  bucket, pruned once out of the window and expiring two minutes after the last write;
- ``tg:{t7}:res`` (request id -> reservation), ``tg:{t7}:dl`` (request id by deadline) and
  ``tg:{t7}:done`` (settled request ids, kept ``settled_retention``).

Two keys are global: ``tg:tenants``, the tenants that may hold live reservations (what
``sweep`` visits), and ``tg:rt:<request id>``, the tenant of a request, since settle and
release are given only the request id. Reserve writes both in the same pipeline as its script
and deletes the mapping again when it denies. Expiry is relative to the caller's ``now``
(PEXPIRE), so clock skew between gateway and Redis does not matter; release and sweep never
recreate a counter that has expired. Numbers stay below 2**53 (Lua's exact integers).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from importlib import resources
from typing import cast

import redis.asyncio as aioredis

from tokengate.errors import Conflict
from tokengate.ledger.backends import redis_codec as codec
from tokengate.ledger.backends.base import DEFAULT_SETTLED_RETENTION, DEFAULT_SWEEP_BATCH
from tokengate.ledger.backends.redis_codec import Reply
from tokengate.ledger.backends.redis_wire import Wire
from tokengate.ledger.rules import CounterView, Slot, denial_of, plan_slots
from tokengate.ledger.types import (
    Charge,
    Demand,
    Denial,
    LimitCheck,
    LimitState,
    Reservation,
    SettleResult,
)
from tokengate.ledger.windows import rolling_bounds

DEFAULT_COUNTER_GRACE = timedelta(days=2)


def _script(name: str) -> str:
    lua = resources.files("tokengate.ledger.backends").joinpath("lua")
    return lua.joinpath("common.lua").read_text() + lua.joinpath(f"{name}.lua").read_text()


class RedisLedger:
    """Ledger backend on a redis-py asyncio client."""

    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str = "tg",
        settled_retention: timedelta = DEFAULT_SETTLED_RETENTION,
        counter_grace: timedelta = DEFAULT_COUNTER_GRACE,
        sweep_batch: int = DEFAULT_SWEEP_BATCH,
    ) -> None:
        if "{" in prefix or "}" in prefix:
            raise ValueError("the key prefix cannot contain a hash tag")
        self._client = client
        self._prefix = prefix
        self._retention_us = codec.micros(settled_retention)
        self._grace_s = int(counter_grace.total_seconds())
        self._sweep_batch = sweep_batch
        self._wire = Wire(client)
        self._reserve = client.register_script(_script("reserve"))
        self._settle = client.register_script(_script("settle"))
        self._release = client.register_script(_script("release"))
        self._sweep = client.register_script(_script("sweep"))
        self._states = client.register_script(_script("states"))

    async def aclose(self) -> None:
        """Close the ledger's own connections (the client belongs to the caller)."""
        await self._wire.aclose()

    def _base(self, tenant_id: int | str) -> str:
        return f"{self._prefix}:{{t{tenant_id}}}"

    def _tenant_key(self, request_id: str) -> str:
        return f"{self._prefix}:rt:{request_id}"

    @property
    def _tenants(self) -> str:
        return f"{self._prefix}:tenants"

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
        deadline = now + ttl
        if not slots:
            charge = demand.charge_for(demand.max_output_tokens)
            return Reservation(request_id, demand.max_output_tokens, charge, (), deadline)
        tenant = slots[0].check.tenant_id
        base = self._base(tenant)
        keys = [f"{base}:res", f"{base}:dl", f"{base}:done"]
        keys += [codec.counter_key(base, slot) for slot in slots]
        args: list[str | int] = [request_id, codec.micros(now), codec.micros(deadline)]
        args += [self._grace_s, self._retention_us]
        args += codec.demand_args(demand) + [a for s in slots for a in codec.slot_args(s)]
        ttl_ms = (codec.micros(ttl) + self._retention_us) // 1000
        reply = await self._run_reserve(request_id, tenant, ttl_ms, keys, args)
        verdict = codec.text(reply[0])
        if verdict == "settled":
            raise Conflict(f"request {request_id} was already settled")
        if verdict == "deny":
            # Only admitted requests keep their tenant mapping: a flood of refusals leaves nothing.
            await self._client.delete(self._tenant_key(request_id))
            return _denial(slots, reply, demand, now)
        counters = codec.parse_counters(slots, reply[2:]) if verdict == "ok" else ()
        return codec.parse_reservation(request_id, codec.text(reply[1]), counters)

    async def _run_reserve(
        self,
        request_id: str,
        tenant: int,
        ttl_ms: int,
        keys: list[str],
        args: list[str | int],
    ) -> list[Reply]:
        # One round trip for an admitted request: its tenant (for settle), the script, then the
        # sweep's tenant list (after the script: a sweep that just dropped the tenant re-checks).
        reply = await self._wire.evalsha(
            self._reserve,
            keys,
            args,
            before=[("SET", self._tenant_key(request_id), tenant, "PX", ttl_ms)],
            after=[("SADD", self._tenants, tenant)],
        )
        return cast(list[Reply], reply)

    async def _tenant_of(self, request_id: str) -> str | None:
        tenant = await self._client.get(self._tenant_key(request_id))
        return None if tenant is None else codec.text(tenant)

    async def settle(
        self, *, request_id: str, actual: Charge, now: datetime, tenant_id: int | None = None
    ) -> SettleResult:
        """Release a reservation and add the request's real usage to the counters it held."""
        tenant = str(tenant_id) if tenant_id is not None else await self._tenant_of(request_id)
        if tenant is None:
            return SettleResult("unknown")
        base = self._base(tenant)
        keys = [f"{base}:res", f"{base}:dl", f"{base}:done"]
        args: list[str | int] = [request_id, codec.micros(now), self._grace_s]
        args += [self._retention_us, base]
        args += [actual.tokens, actual.cost_micros, actual.requests]
        return codec.parse_settle(
            cast(list[Reply], await self._wire.evalsha(self._settle, keys, args))
        )

    async def release(self, *, request_id: str) -> bool:
        """Drop a reservation without charging anything; False when there is none."""
        tenant = await self._tenant_of(request_id)
        if tenant is None:
            return False
        base = self._base(tenant)
        keys = [f"{base}:res", f"{base}:dl"]
        return bool(await self._wire.evalsha(self._release, keys, [request_id, base]))

    async def sweep(self, *, now: datetime) -> int:
        """Drop reservations past their deadline without charging them; return how many."""
        swept = 0
        for member in await self._client.smembers(self._tenants):
            tenant = codec.text(member)
            base = self._base(tenant)
            keys = [f"{base}:res", f"{base}:dl", f"{base}:done"]
            args: list[str | int] = [codec.micros(now), self._retention_us, base, self._sweep_batch]
            while True:
                reply = cast(list[Reply], await self._wire.evalsha(self._sweep, keys, args))
                dropped, live = (int(codec.text(x)) for x in reply)
                swept += dropped
                if dropped < self._sweep_batch:
                    break
            if live == 0:
                await forget_idle_tenant(self._client, self._tenants, tenant, keys[1])
        return swept

    async def states(self, *, checks: Sequence[LimitCheck], now: datetime) -> list[LimitState]:
        """Return each check's counter as the ledger holds it now, in the order given."""
        slots = plan_slots(checks, now)
        if not slots:
            return []
        base = self._base(slots[0].check.tenant_id)
        keys = [codec.counter_key(base, slot) for slot in slots]
        args: list[str | int] = [codec.micros(now), *(codec.kind(slot) for slot in slots)]
        reply = cast(list[Reply], await self._wire.evalsha(self._states, keys, args))
        flat = [int(codec.text(x)) for x in reply]
        by_id = {}
        for i, slot in enumerate(slots):
            start, end = slot.window_start, slot.window_end
            if slot.rolling:
                start, end = rolling_bounds(now)
            by_id[slot.check.limit_id] = LimitState(
                limit_id=slot.check.limit_id,
                window_start=start,
                window_end=end,
                used=flat[3 * i],
                reserved=flat[3 * i + 1],
                overage=flat[3 * i + 2],
                amount=slot.check.amount,
            )
        return [by_id[check.limit_id] for check in checks]


def _denial(slots: Sequence[Slot], reply: list[Reply], demand: Demand, now: datetime) -> Denial:
    index, used, reserved, reset = (int(codec.text(x)) for x in reply[1:5])
    view = CounterView(used=used, reserved=reserved)
    slot = slots[index - 1]
    return denial_of(slot=slot, view=view, demand=demand, now=now, reset=reset)


async def forget_idle_tenant(
    client: aioredis.Redis, tenants: str, tenant: str, deadlines: str
) -> None:
    """Take a tenant off the sweep's list unless it holds live reservations (again)."""
    await client.srem(tenants, tenant)
    # A reserve may have added a reservation since the sweep looked: put the tenant back.
    if await client.zcard(deadlines):
        await client.sadd(tenants, tenant)
