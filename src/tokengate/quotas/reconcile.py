"""``tokengate ledger reconcile``: the ledger's counters against the usage events."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tokengate.ledger.backends.base import LedgerBackend
from tokengate.ledger.types import Charge, LimitCheck, LimitState
from tokengate.ledger.windows import window_bounds
from tokengate.quotas import store
from tokengate.quotas.enforcement import backfill
from tokengate.quotas.resolve import ResolvedCheck
from tokengate.quotas.service import get_limit, scope_checks
from tokengate.tenancy import service as tenancy
from tokengate.usage import service as usage


@dataclass(frozen=True)
class Drift:
    """One counter compared with the events of its window."""

    check: ResolvedCheck
    window_start: datetime
    counter: int
    events: int

    @property
    def drift(self) -> int:
        """Counter minus events: 0 when healthy."""
        return self.counter - self.events


async def reconcile(
    *,
    sessions: async_sessionmaker[AsyncSession],
    ledger: LedgerBackend,
    now: datetime,
    repair: bool = False,
) -> list[Drift]:
    """Compare each calendar and lifetime counter with its events; optionally add the missing."""
    async with sessions() as session:
        checks = await _all_checks(session, now)
        sums = [await counted_usage(session, c, now) for c in checks]
    states = await states_by_tenant(ledger, [c.check for c in checks], now)
    drifts = []
    for check, events, state in zip(checks, sums, states, strict=True):
        counted = events.of(check.check.metric)
        if repair and state.used < counted:
            missing = _charge_of(check.check.metric, counted - state.used)
            await backfill(ledger=ledger, check=check.check, used=missing, now=now, tag="repair")
            drifts.append(Drift(check, state.window_start, counted, counted))
            continue
        drifts.append(Drift(check, state.window_start, state.used, counted))
    return drifts


async def _all_checks(session: AsyncSession, now: datetime) -> list[ResolvedCheck]:
    scopes: set[tuple[str, int]] = set()
    for user_id in await tenancy.list_tenant_user_ids(session=session):
        scopes.add(("user", user_id))
    for limit in await store.list_all_limits(session):
        scopes.add((limit.scope, limit.scope_id))
    checks: list[ResolvedCheck] = []
    for scope, scope_id in sorted(scopes):
        found = await scope_checks(session=session, scope=scope, scope_id=scope_id, now=now)
        checks.extend(c for c in found if c.check.window != "minute")
    return checks


async def counted_usage(session: AsyncSession, check: ResolvedCheck, now: datetime) -> Charge:
    """What the usage events charge to a check's scope in its current window."""
    start, end = window_bounds(check.check.window, now, ZoneInfo(check.check.timezone))
    tokens, cost, requests = await usage.sum_charged_usage(
        session=session,
        scope=check.scope,
        scope_id=check.scope_id,
        model=check.model,
        start=start,
        end=end,
    )
    return Charge(tokens=tokens, cost_micros=cost, requests=requests)


async def states_by_tenant(
    ledger: LedgerBackend, checks: list[LimitCheck], now: datetime
) -> list[LimitState]:
    """Read counters tenant by tenant (a ledger call stays within one tenant, so it runs on
    Redis Cluster), the tenants concurrently; in the order given."""
    tenants = sorted({c.tenant_id for c in checks})
    groups = [[(i, c) for i, c in enumerate(checks) if c.tenant_id == t] for t in tenants]
    answers = await asyncio.gather(
        *(ledger.states(checks=[c for _, c in group], now=now) for group in groups)
    )
    found: dict[int, LimitState] = {}
    for group, states in zip(groups, answers, strict=True):
        found.update({i: state for (i, _), state in zip(group, states, strict=True)})
    return [found[i] for i in range(len(checks))]


def _charge_of(metric: str, amount: int) -> Charge:
    if metric == "tokens":
        return Charge(tokens=amount)
    if metric == "cost":
        return Charge(cost_micros=amount)
    return Charge(requests=amount)


async def backfill_limit(
    *,
    sessions: async_sessionmaker[AsyncSession],
    ledger: LedgerBackend,
    limit_id: int,
    now: datetime,
) -> None:
    """Charge a new limit's counter with the usage its current window already recorded."""
    async with sessions() as session:
        limit = await get_limit(session=session, limit_id=limit_id)
        checks = await scope_checks(
            session=session, scope=limit.scope, scope_id=limit.scope_id, now=now
        )
        mine = [c for c in checks if c.check.limit_id == limit_id and c.check.window != "minute"]
        sums = [await counted_usage(session, c, now) for c in mine]
    for check, used in zip(mine, sums, strict=True):
        await backfill(ledger=ledger, check=check.check, used=used, now=now, tag="new")
