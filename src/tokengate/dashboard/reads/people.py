"""Counting and listing the tenants and users a viewer may see."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.audit.models import AuditEvent
from tokengate.dashboard.reads.scope import Scope
from tokengate.tenancy.models import Tenant, User
from tokengate.usage.models import UsageEvent


@dataclass(frozen=True)
class Person:
    id: int
    name: str
    email: str
    tenant_id: int
    tenant: str
    status: str


async def count_tenants(session: AsyncSession, scope: Scope) -> int:
    query = select(func.count()).select_from(Tenant).where(Tenant.archived.is_(False))
    if scope.tenant_id is not None:
        query = query.where(Tenant.id == scope.tenant_id)
    return int(await session.scalar(query) or 0)


async def people(session: AsyncSession, scope: Scope) -> list[Person]:
    """Every user of a tenant in scope who is not archived, by tenant then name."""
    query = (
        select(User.id, User.name, User.email, Tenant.id, Tenant.name, User.status)
        .join(Tenant, Tenant.id == User.tenant_id)
        .where(User.status != "archived", Tenant.archived.is_(False))
    )
    if scope.tenant_id is not None:
        query = query.where(User.tenant_id == scope.tenant_id)
    if scope.user_ids is not None:
        query = query.where(User.id.in_(sorted(scope.user_ids) or [0]))
    rows = (await session.execute(query.order_by(Tenant.name, User.name, User.id))).all()
    return [Person(*row) for row in rows]


async def recent_changes(session: AsyncSession, scope: Scope, *, limit: int) -> list[AuditEvent]:
    """The latest administrative events (blocks, limit and plan changes) in scope."""
    if scope.user_ids is not None:
        return []  # team leaders and members see no tenant-wide audit trail
    query = select(AuditEvent)
    if scope.tenant_id is not None:
        query = query.where(AuditEvent.tenant_id == scope.tenant_id)
    return list(await session.scalars(query.order_by(AuditEvent.id.desc()).limit(limit)))


async def recent_requests(
    session: AsyncSession, scope: Scope, *, after: int = 0, limit: int = 20
) -> list[tuple[UsageEvent, str]]:
    """The newest requests in scope (after an event id, for the live stream), newest first,
    with the user's name."""
    query = select(UsageEvent, User.name).join(User, User.id == UsageEvent.user_id)
    if scope.tenant_id is not None:
        query = query.where(UsageEvent.tenant_id == scope.tenant_id)
    if scope.user_ids is not None:
        query = query.where(UsageEvent.user_id.in_(sorted(scope.user_ids) or [0]))
    if after:
        query = query.where(UsageEvent.id > after)
    rows = (await session.execute(query.order_by(UsageEvent.id.desc()).limit(limit))).all()
    return [(event, name) for event, name in rows]
