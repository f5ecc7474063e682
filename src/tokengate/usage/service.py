from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.pagination import Page, PageRequest, next_cursor
from tokengate.usage import store
from tokengate.usage.schemas import UsageEventPublic, UsageRecord
from tokengate.usage.store import ROLLUP_KEY, ROLLUP_SUMS


async def record_usage(*, session: AsyncSession, record: UsageRecord) -> None:
    """Append one usage event and add it to its hourly rollup, in the caller's transaction."""
    await record_usages(session=session, records=[record])


async def record_usages(*, session: AsyncSession, records: Sequence[UsageRecord]) -> None:
    """Append usage events and add them to their hourly rollups, in the caller's transaction."""
    await store.insert_events(session, rows=[r.model_dump() for r in records])
    rollups: dict[tuple[object, ...], dict[str, object]] = {}
    for record in records:
        row = _rollup_of(record)
        key = tuple(row[k] for k in ROLLUP_KEY)
        if key in rollups:
            for name in ROLLUP_SUMS:
                rollups[key][name] = int(rollups[key][name]) + int(row[name])  # type: ignore[call-overload]
        else:
            rollups[key] = row
    await store.add_to_hourly(session, rows=list(rollups.values()))


def _rollup_of(record: UsageRecord) -> dict[str, object]:
    return {
        "hour": record.created_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0),
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
    }


async def list_usage(
    *,
    session: AsyncSession,
    tenant_id: int | None,
    user_id: int | None,
    since: datetime | None,
    page: PageRequest,
    user_ids: frozenset[int] | None = None,
    team_id: int | None = None,
    model: str | None = None,
) -> Page[UsageEventPublic]:
    """List usage events, newest first; ``user_ids`` restricts them to some people."""
    events = await store.list_events(
        session,
        tenant_id=tenant_id,
        user_id=user_id,
        since=since,
        page=page,
        user_ids=user_ids,
        team_id=team_id,
        model=model,
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
