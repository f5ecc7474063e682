"""Admitting a request against every applicable limit, and settling it afterwards."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tokengate.db import transaction
from tokengate.errors import ConfigError
from tokengate.keys import service as keys
from tokengate.ledger.backends.base import LedgerBackend
from tokengate.ledger.types import (
    Charge,
    CounterReading,
    Demand,
    Denial,
    LimitCheck,
    LimitState,
    Reservation,
    SettleResult,
)
from tokengate.quotas.messages import denial_error
from tokengate.quotas.resolve import ResolvedCheck, RuleSet, Subject
from tokengate.quotas.schemas import LimitUsage
from tokengate.quotas.service import applicable_checks, scope_checks
from tokengate.tenancy import service as tenancy

log = structlog.get_logger()


@dataclass(frozen=True)
class Remaining:
    """What the tightest limit of each metric still allows after this request's reservation."""

    tokens: int | None
    cost_micros: int | None
    resets_at: datetime | None

    def headers(self) -> dict[str, str]:
        """The ``x-tokengate-*`` response headers."""
        headers = {}
        if self.tokens is not None:
            headers["x-tokengate-remaining-tokens"] = str(self.tokens)
        if self.cost_micros is not None:
            headers["x-tokengate-remaining-cost"] = str(self.cost_micros)
        if self.resets_at is not None:
            headers["x-tokengate-limit-reset"] = self.resets_at.isoformat()
        return headers


@dataclass(frozen=True)
class Admission:
    """An admitted request: its reservation, the checks it holds and what is left."""

    reservation: Reservation
    checks: list[ResolvedCheck]
    remaining: Remaining


async def admit(
    *,
    ledger: LedgerBackend,
    subject: Subject,
    rules: RuleSet,
    request_id: str,
    demand: Demand,
    now: datetime,
    ttl: timedelta,
) -> Admission:
    """Reserve the request's worst case on every applicable limit, or raise the refusal."""
    checks = applicable_checks(subject=subject, rules=rules, now=now)
    plain = [c.check for c in checks]
    result = await ledger.reserve(
        request_id=request_id, checks=plain, demand=demand, now=now, ttl=ttl
    )
    if isinstance(result, Denial):
        refused = next(c for c in checks if c.check.limit_id == result.limit_id)
        raise denial_error(result, refused, plan=subject.plan)
    counters = {c.limit_id: c for c in result.counters}
    if len(counters) != len(plain):
        # a reservation made earlier under this id: its counters were not read with it
        states = await ledger.states(checks=plain, now=now)
        counters = {
            s.limit_id: CounterReading(s.limit_id, s.used, s.reserved, s.window_end) for s in states
        }
    readings = [counters[c.limit_id] for c in plain]
    return Admission(reservation=result, checks=checks, remaining=remaining_of(checks, readings))


def remaining_of(
    checks: Sequence[ResolvedCheck], states: Sequence[CounterReading | LimitState]
) -> Remaining:
    """The least room left per metric among block limits, and when the tightest one resets."""
    tightest: dict[str, tuple[int, datetime]] = {}
    for resolved, state in zip(checks, states, strict=True):
        check = resolved.check
        if check.mode != "block":
            continue
        room = max(0, check.ceiling - state.used - state.reserved)
        if check.metric not in tightest or room < tightest[check.metric][0]:
            tightest[check.metric] = (room, state.window_end)
    tokens = tightest.get("tokens")
    cost = tightest.get("cost")
    reset_candidates = [v for v in (tokens, cost) if v is not None]
    resets = min(reset_candidates, key=lambda v: v[0])[1] if reset_candidates else None
    return Remaining(
        tokens=tokens[0] if tokens else None,
        cost_micros=cost[0] if cost else None,
        resets_at=resets,
    )


async def settle(
    *,
    sessions: async_sessionmaker[AsyncSession],
    ledger: LedgerBackend,
    admission: Admission,
    subject: Subject,
    actual: Charge,
    now: datetime,
) -> SettleResult:
    """Charge the real usage; a limit with auto-block that reaches 100 % blocks its owner."""
    result = await ledger.settle(
        request_id=admission.reservation.request_id,
        actual=actual,
        now=now,
        tenant_id=subject.tenant_id,
    )
    if actual.tokens > admission.reservation.charge.tokens:
        log.warning(
            "usage above reservation",
            request_id=admission.reservation.request_id,
            reserved=admission.reservation.charge.tokens,
            actual=actual.tokens,
        )
    full = {c.limit_id for c in result.crossed if c.threshold >= 100}
    for resolved in admission.checks:
        if resolved.auto_block and resolved.check.limit_id in full:
            await _auto_block(sessions, resolved, subject)
    return result


async def _auto_block(
    sessions: async_sessionmaker[AsyncSession], resolved: ResolvedCheck, subject: Subject
) -> None:
    reason = f"auto-blocked: limit {resolved.check.limit_id} reached 100%"
    async with transaction(sessions) as session:
        if resolved.scope == "key":
            await keys.set_key_blocked(
                session=session, key_id=subject.key_id, blocked=True, reason=reason
            )
        else:
            await tenancy.set_user_blocked(
                session=session, user_id=subject.user_id, blocked=True, reason=reason
            )
    log.info("auto-blocked", scope=resolved.scope, limit_id=resolved.check.limit_id)


async def current_usage(
    *,
    sessions: async_sessionmaker[AsyncSession],
    ledger: LedgerBackend,
    scope: str,
    scope_id: int,
    now: datetime,
) -> list[LimitUsage]:
    """Each limit of a scope with its used, reserved and percentage, from the ledger itself."""
    async with sessions() as session:
        checks = await scope_checks(session=session, scope=scope, scope_id=scope_id, now=now)
    states = await ledger.states(checks=[c.check for c in checks], now=now)
    return [
        LimitUsage(
            limit_id=None if c.source == "plan" else c.check.limit_id,
            source="plan" if c.source == "plan" else "limit",
            scope=c.scope,
            scope_id=c.scope_id,
            model=c.model,
            metric=c.check.metric,
            window=c.check.window,
            mode=c.check.mode,
            amount=c.check.amount,
            used=s.used,
            reserved=s.reserved,
            overage=s.overage,
            percent=round(s.used * 100 / c.check.amount, 2) if c.check.amount else 100.0,
            window_start=s.window_start,
            window_end=s.window_end,
        )
        for c, s in zip(checks, states, strict=True)
    ]


async def backfill(
    *, ledger: LedgerBackend, check: LimitCheck, used: Charge, now: datetime, tag: str
) -> None:
    """Add usage the ledger has not seen (history before a limit existed) to a counter."""
    if used.of(check.metric) == 0:
        return
    # alert-only: recorded history is charged even past the amount
    quiet = replace(check, mode="alert_only")
    request_id = f"backfill:{tag}:{check.limit_id}:{now.timestamp():.0f}"
    demand = Demand(fixed=used, output_micros_per_mtok=0, max_output_tokens=0, min_output_tokens=0)
    result = await ledger.reserve(
        request_id=request_id, checks=[quiet], demand=demand, now=now, ttl=timedelta(minutes=5)
    )
    if isinstance(result, Denial):
        raise ConfigError(f"backfill of limit {check.limit_id} was refused")
    await ledger.settle(request_id=request_id, actual=used, now=now)
