"""A model's usage statistics, read from the hourly rollup (and the events for the p95)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.catalog import service, store
from tokengate.catalog.schemas import MICROS, ModelStats
from tokengate.errors import InvalidRequest

P95 = 0.95
HOUR = timedelta(hours=1)


async def model_stats(
    *,
    session: AsyncSession,
    model_id: int,
    since: datetime | None,
    until: datetime | None,
    tenant_id: int | None,
    user_ids: frozenset[int] | None,
) -> ModelStats:
    """A model's usage over whole hours (the window grows to the hour), restricted to a tenant
    and to some users when given."""
    model = await service.load_model(session=session, model_id=model_id)
    if since is not None and until is not None and since >= until:
        raise InvalidRequest("since must be before until", param="since")
    try:
        start = _floor_hour(since) if since is not None else None
        end = _ceil_hour(until) if until is not None else None
    except OverflowError:
        raise InvalidRequest("since and until must lie between the years 1 and 9999") from None
    requests, errors, inputs, outputs, cached, cost, latency, users = await store.sum_usage(
        session, model_id=model.id, since=start, until=end, tenant_id=tenant_id, user_ids=user_ids
    )
    p95 = await store.latency_percentile(
        session,
        model_id=model.id,
        since=start,
        until=end,
        tenant_id=tenant_id,
        user_ids=user_ids,
        fraction=P95,
    )
    return ModelStats(
        model_id=model.id,
        since=start,
        until=end,
        requests=requests,
        errors=errors,
        input_tokens=inputs,
        output_tokens=outputs,
        cached_tokens=cached,
        cost_micros=cost,
        cost=Decimal(cost) / MICROS,
        avg_latency_ms=latency // requests if requests else None,
        p95_latency_ms=p95,
        distinct_users=users,
    )


def _floor_hour(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _ceil_hour(moment: datetime) -> datetime:
    floor = _floor_hour(moment)
    return floor if floor == moment else floor + HOUR
