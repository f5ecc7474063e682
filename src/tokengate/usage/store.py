from __future__ import annotations

from datetime import datetime
from functools import cache

from sqlalchemy import Executable, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.pagination import PageRequest
from tokengate.usage.models import UsageEvent, UsageHourly

ROLLUP_KEY = ("hour", "tenant_id", "team_id", "user_id", "key_id", "model_id")
ROLLUP_SUMS = (
    "requests",
    "errors",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cost_micros",
    "latency_ms_sum",
)


async def insert_events(session: AsyncSession, *, rows: list[dict[str, object]]) -> None:
    await session.execute(insert(UsageEvent), rows)


async def add_to_hourly(session: AsyncSession, *, rows: list[dict[str, object]]) -> None:
    """Upsert rollup rows (distinct keys), adding the sums (ON CONFLICT on both dialects)."""
    dialect = session.bind.dialect.name if session.bind is not None else "sqlite"
    # one statement, executed for many rows: compiled once and cached, whatever the batch size
    await session.execute(_upsert_hourly(dialect), rows)


@cache
def _upsert_hourly(dialect: str) -> Executable:
    builder = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = builder(UsageHourly)
    table = UsageHourly.__table__
    return statement.on_conflict_do_update(
        index_elements=list(ROLLUP_KEY),
        set_={name: table.c[name] + statement.excluded[name] for name in ROLLUP_SUMS},
    )


async def list_events(
    session: AsyncSession,
    *,
    tenant_id: int | None,
    user_id: int | None,
    since: datetime | None,
    page: PageRequest,
    user_ids: frozenset[int] | None = None,
    team_id: int | None = None,
    model: str | None = None,
) -> list[UsageEvent]:
    query = select(UsageEvent)
    if tenant_id is not None:
        query = query.where(UsageEvent.tenant_id == tenant_id)
    if user_id is not None:
        query = query.where(UsageEvent.user_id == user_id)
    if user_ids is not None:
        query = query.where(UsageEvent.user_id.in_(user_ids))
    if team_id is not None:
        query = query.where(UsageEvent.team_id == team_id)
    if model is not None:
        query = query.where(UsageEvent.model == model)
    if since is not None:
        query = query.where(UsageEvent.created_at >= since)
    if page.after is not None:
        query = query.where(UsageEvent.id < page.after)
    return list(await session.scalars(query.order_by(UsageEvent.id.desc()).limit(page.limit)))


# the outcomes a request is charged for on the ledger: it was admitted and relayed
CHARGED_STATUSES = ("ok", "upstream_error", "timeout", "cancelled")
_SCOPE_COLUMNS = {
    "tenant": UsageEvent.tenant_id,
    "team": UsageEvent.team_id,
    "user": UsageEvent.user_id,
    "key": UsageEvent.key_id,
}


async def sum_charged(
    session: AsyncSession,
    *,
    scope: str,
    scope_id: int,
    model: str | None,
    start: datetime,
    end: datetime,
) -> tuple[int, int, int]:
    query = select(
        func.coalesce(func.sum(UsageEvent.input_tokens + UsageEvent.output_tokens), 0),
        func.coalesce(func.sum(UsageEvent.cost_micros), 0),
        func.count(),
    ).where(
        _SCOPE_COLUMNS[scope] == scope_id,
        UsageEvent.created_at >= start,
        UsageEvent.created_at < end,
        UsageEvent.status.in_(CHARGED_STATUSES),
    )
    if model is not None:
        query = query.where(UsageEvent.model == model)
    row = (await session.execute(query)).one()
    return int(row[0]), int(row[1]), int(row[2])
