"""Builders of ledger inputs with defaults that fit most tests."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from tokengate.ledger.types import Charge, Demand, LimitCheck, Metric, Mode, Window

# In the future, so that Redis expiries computed from it are never already past.
NOW = datetime(2031, 1, 15, 3, 0, tzinfo=UTC)
TTL = timedelta(minutes=5)


def limit(
    limit_id: int,
    *,
    metric: Metric = "tokens",
    window: Window = "month",
    amount: int = 1000,
    ceiling: int | None = None,
    mode: Mode = "block",
    tenant_id: int = 1,
    timezone: str = "Asia/Seoul",
    thresholds: tuple[int, ...] = (80, 90, 100),
) -> LimitCheck:
    """Return a limit check; the ceiling defaults to the amount."""
    return LimitCheck(
        limit_id=limit_id,
        tenant_id=tenant_id,
        metric=metric,
        window=window,
        timezone=timezone,
        amount=amount,
        ceiling=amount if ceiling is None else ceiling,
        mode=mode,
        thresholds=thresholds,
    )


def demand(
    *,
    prompt: int = 100,
    prompt_cost: int = 0,
    price: int = 0,
    max_out: int = 100,
    min_out: int | None = None,
) -> Demand:
    """Return a demand of one request; ``min_out`` defaults to ``max_out`` (reject, not clamp)."""
    return Demand(
        fixed=Charge(tokens=prompt, cost_micros=prompt_cost, requests=1),
        output_micros_per_mtok=price,
        max_output_tokens=max_out,
        min_output_tokens=max_out if min_out is None else min_out,
    )


def request_id() -> str:
    """Return a fresh request id."""
    return uuid.uuid4().hex
