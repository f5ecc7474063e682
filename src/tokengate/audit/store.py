from __future__ import annotations

from collections.abc import AsyncIterator

from sqlalchemy import Select, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.audit.models import AuditEvent
from tokengate.audit.schemas import AuditFilter
from tokengate.pagination import PageRequest


def _filtered(f: AuditFilter) -> Select[AuditEvent]:
    query = select(AuditEvent)
    if f.tenant_id is not None:
        query = query.where(AuditEvent.tenant_id == f.tenant_id)
    if f.action is not None:
        query = query.where(AuditEvent.action == f.action)
    if f.target_type is not None:
        query = query.where(AuditEvent.target_type == f.target_type)
    if f.target_id is not None:
        query = query.where(AuditEvent.target_id == f.target_id)
    if f.actor is not None:
        query = query.where(AuditEvent.actor == f.actor)
    if f.since is not None:
        query = query.where(AuditEvent.at >= f.since)
    if f.until is not None:
        query = query.where(AuditEvent.at < f.until)
    return query


async def list_events(
    session: AsyncSession, *, page: PageRequest, filters: AuditFilter
) -> list[AuditEvent]:
    """Newest first, by id."""
    query = _filtered(filters)
    if page.after is not None:
        query = query.where(AuditEvent.id < page.after)
    rows = await session.scalars(query.order_by(AuditEvent.id.desc()).limit(page.limit))
    return list(rows.all())


async def stream_events(session: AsyncSession, filters: AuditFilter) -> AsyncIterator[AuditEvent]:
    """Every matching event, oldest first, read in batches."""
    query = _filtered(filters).order_by(AuditEvent.id)
    result = await session.stream_scalars(query.execution_options(yield_per=500))
    async for event in result:
        yield event
