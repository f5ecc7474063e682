"""Queries of the catalogue, and the few reads of other domains' tables it needs to decide
whether a model may be deleted and what it was used for (usage, plans, limits)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import TypeVar

from sqlalchemy import (
    ColumnElement,
    Integer,
    SQLColumnExpression,
    delete,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.catalog.models import Deployment, Model
from tokengate.catalog.schemas import ModelFilter
from tokengate.db import Base
from tokengate.pagination import Position, SortedPage, SortValue, apply_keyset
from tokengate.quotas.models import Limit
from tokengate.tenancy.models import Plan
from tokengate.usage.models import UsageEvent, UsageHourly

ARCHIVED = "archived"
T = TypeVar("T", bound=Base)
UsageSums = tuple[int, int, int, int, int, int, int, int]


async def get_model_by_name(session: AsyncSession, *, name: str) -> Model | None:
    return await session.scalar(select(Model).where(Model.name == name))


async def find_model_named(session: AsyncSession, *, name: str) -> Model | None:
    """The model whose name equals this one, ignoring case."""
    return await session.scalar(select(Model).where(func.lower(Model.name) == name.lower()))


async def find_endpoint(
    session: AsyncSession,
    *,
    provider: str,
    upstream_model: str,
    base_url: str,
    other_than: int | None,
) -> Model | None:
    """A live model (not ``other_than``) served, primarily or by a deployment, at this upstream."""
    live = [Model.provider == provider, Model.status != ARCHIVED]
    if other_than is not None:
        live.append(Model.id != other_than)
    primary = select(Model).where(
        *live, Model.upstream_model == upstream_model, Model.base_url == base_url
    )
    found = await session.scalar(primary.limit(1))
    if found is not None:
        return found
    extra = (
        select(Model)
        .join(Deployment, Deployment.model_id == Model.id)
        .where(*live, Deployment.upstream_model == upstream_model, Deployment.base_url == base_url)
    )
    return await session.scalar(extra.limit(1))


# names sort regardless of case (two names never differ only by case)
SORT_KEYS: Mapping[str, SQLColumnExpression[SortValue]] = {
    "id": Model.id,
    "name": func.lower(Model.name),
    "created_at": Model.created_at,
}


async def list_models(
    session: AsyncSession, *, filters: ModelFilter, page: SortedPage
) -> list[tuple[Model, Position]]:
    """One page of models, each with its position in the order (for the next cursor)."""
    key = SORT_KEYS[page.sort.field]
    query = select(Model, key, Model.id)
    if filters.search:
        pattern = "%" + _escape_like(filters.search) + "%"
        query = query.where(
            or_(Model.name.ilike(pattern, escape="\\"), Model.version.ilike(pattern, escape="\\"))
        )
    if filters.provider is not None:
        query = query.where(Model.provider == filters.provider)
    if filters.status is not None:
        query = query.where(Model.status == filters.status)
    elif not filters.include_archived:
        query = query.where(Model.status != ARCHIVED)
    rows = await session.execute(apply_keyset(query, key=key, id_column=Model.id, page=page))
    return [(model, Position(value, ident)) for model, value, ident in rows]


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


async def list_model_names(session: AsyncSession, *, status: str) -> list[str]:
    query = select(Model.name).where(Model.status == status).order_by(Model.id)
    return list(await session.scalars(query))


async def list_live_models(session: AsyncSession) -> list[Model]:
    """Every model that is not archived."""
    return list(await session.scalars(select(Model).where(Model.status != ARCHIVED)))


async def list_deployments(session: AsyncSession, *, model_id: int) -> list[Deployment]:
    query = select(Deployment).where(Deployment.model_id == model_id)
    return list(await session.scalars(query.order_by(Deployment.id)))


async def has_usage(session: AsyncSession, *, model_id: int) -> bool:
    """Whether any request was ever recorded for the model (events or their hourly rollup)."""
    event = await session.scalar(
        select(UsageEvent.id).where(UsageEvent.model_id == model_id).limit(1)
    )
    if event is not None:
        return True
    hour = await session.scalar(
        select(UsageHourly.hour).where(UsageHourly.model_id == model_id).limit(1)
    )
    return hour is not None


async def list_plans_naming(session: AsyncSession, *, name: str) -> list[str]:
    """Names of the plans whose allowed models include this one."""
    rows = await session.execute(select(Plan.name, Plan.allowed_models).order_by(Plan.id))
    return [plan for plan, allowed in rows if name in (allowed or [])]


async def list_limits_naming(session: AsyncSession, *, name: str) -> list[int]:
    """Ids of the limits restricted to this model."""
    return list(await session.scalars(select(Limit.id).where(Limit.model == name)))


async def delete_model(session: AsyncSession, *, model: Model) -> None:
    """Delete a model and its deployments."""
    await session.execute(delete(Deployment).where(Deployment.model_id == model.id))
    await session.delete(model)
    await session.flush()


async def sum_usage(
    session: AsyncSession,
    *,
    model_id: int,
    since: datetime | None,
    until: datetime | None,
    tenant_id: int | None,
    user_ids: frozenset[int] | None,
) -> UsageSums:
    """Requests, errors, input, output and cached tokens, cost, latency sum and distinct users
    of a model over whole hours, from the hourly rollup.

    Summed per user in SQL (one hashed pass, a row per user) and added up here: on millions of
    rollup rows that is several times faster than ``count(DISTINCT user_id)``, which sorts."""
    query = select(
        UsageHourly.user_id,
        func.sum(UsageHourly.requests),
        func.sum(UsageHourly.errors),
        func.sum(UsageHourly.input_tokens),
        func.sum(UsageHourly.output_tokens),
        func.sum(UsageHourly.cached_tokens),
        func.sum(UsageHourly.cost_micros),
        func.sum(UsageHourly.latency_ms_sum),
    ).where(UsageHourly.model_id == model_id)
    if since is not None:
        query = query.where(UsageHourly.hour >= since)
    if until is not None:
        query = query.where(UsageHourly.hour < until)
    if tenant_id is not None:
        query = query.where(UsageHourly.tenant_id == tenant_id)
    if user_ids is not None:
        query = query.where(UsageHourly.user_id.in_(user_ids))
    rows = (await session.execute(query.group_by(UsageHourly.user_id))).all()
    sums = [sum(int(row[i] or 0) for row in rows) for i in range(1, 8)]
    return (sums[0], sums[1], sums[2], sums[3], sums[4], sums[5], sums[6], len(rows))


# latencies are counted in buckets this wide to find the percentile's bucket, then ordered
# within that bucket only
_LATENCY_BUCKET_MS = 100


async def latency_percentile(
    session: AsyncSession,
    *,
    model_id: int,
    since: datetime | None,
    until: datetime | None,
    tenant_id: int | None,
    user_ids: frozenset[int] | None,
    fraction: float,
) -> int | None:
    """The nearest-rank percentile of the model's request latencies, from the events.

    Exact, without sorting every request: a histogram of 100 ms buckets (one hashed pass)
    gives the count and the bucket holding the rank; only that bucket's latencies are ordered.
    """
    conditions: list[ColumnElement[bool]] = [UsageEvent.model_id == model_id]
    if since is not None:
        conditions.append(UsageEvent.created_at >= since)
    if until is not None:
        conditions.append(UsageEvent.created_at < until)
    if tenant_id is not None:
        conditions.append(UsageEvent.tenant_id == tenant_id)
    if user_ids is not None:
        conditions.append(UsageEvent.user_id.in_(user_ids))
    # a literal width: the same expression in SELECT and GROUP BY (no bind parameters)
    bucket = UsageEvent.latency_ms // literal_column(str(_LATENCY_BUCKET_MS), Integer)
    histogram = [
        (int(value), int(n))
        for value, n in await session.execute(
            select(bucket, func.count()).where(*conditions).group_by(bucket).order_by(bucket)
        )
    ]
    rank = math.ceil(fraction * sum(n for _, n in histogram)) - 1
    for value, n in histogram:
        if rank >= n:
            rank -= n
            continue
        query = (
            select(UsageEvent.latency_ms)
            .where(*conditions, bucket == value)
            .order_by(UsageEvent.latency_ms)
            .offset(rank)
            .limit(1)
        )
        found = await session.scalar(query)
        return None if found is None else int(found)
    return None


async def list_with_secret(session: AsyncSession, *, entity: type[T], column: str) -> list[T]:
    """Every row of ``entity`` whose encrypted ``column`` is set, for re-encryption."""
    query = select(entity).where(getattr(entity, column).is_not(None))
    return list(await session.scalars(query))


async def get_model(session: AsyncSession, *, model_id: int) -> Model | None:
    return await session.get(Model, model_id)
