from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.pagination import Page, PageRequest, next_cursor
from tokengate.usage import store
from tokengate.usage.schemas import UsageEventPublic, UsageRecord


async def record_usage(*, session: AsyncSession, record: UsageRecord) -> None:
    """Append the usage event and add it to its hourly rollup, in the caller's transaction."""
    await store.insert_event(session, values=record.model_dump())
    hour = record.created_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    await store.add_to_hourly(
        session,
        values={
            "hour": hour,
            "tenant_id": record.tenant_id,
            "team_id": record.team_id or 0,
            "user_id": record.user_id,
            "key_id": record.key_id,
            "model_id": record.model_id or 0,
            "requests": 1,
            "errors": 0 if record.status == "ok" else 1,
            "input_tokens": record.input_tokens,
            "output_tokens": record.output_tokens,
            "cached_tokens": record.cached_tokens,
            "cost_micros": record.cost_micros,
            "latency_ms_sum": record.latency_ms,
        },
    )


async def list_usage(
    *,
    session: AsyncSession,
    tenant_id: int | None,
    user_id: int | None,
    since: datetime | None,
    page: PageRequest,
) -> Page[UsageEventPublic]:
    """List usage events, newest first."""
    events = await store.list_events(
        session, tenant_id=tenant_id, user_id=user_id, since=since, page=page
    )
    return Page(
        items=[UsageEventPublic.model_validate(e) for e in events],
        next=next_cursor([e.id for e in events], page),
    )


async def sum_charged_usage(
    *,
    session: AsyncSession,
    scope: str,
    scope_id: int,
    model: str | None,
    start: datetime,
    end: datetime,
) -> tuple[int, int, int]:
    """Tokens, cost and requests charged to a scope in [start, end), as the events record them."""
    return await store.sum_charged(
        session, scope=scope, scope_id=scope_id, model=model, start=start, end=end
    )
