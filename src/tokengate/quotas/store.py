from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import and_, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.keys.models import ApiKey
from tokengate.pagination import PageRequest
from tokengate.quotas.models import Exemption, Grant, Limit, Relaxation


async def list_limits_for_scopes(
    session: AsyncSession, *, scopes: Sequence[tuple[str, int]]
) -> list[Limit]:
    if not scopes:
        return []
    match = or_(*(and_(Limit.scope == s, Limit.scope_id == i) for s, i in scopes))
    query = select(Limit).where(match, Limit.archived.is_(False)).order_by(Limit.id)
    return list(await session.scalars(query))


async def list_limits(
    session: AsyncSession,
    *,
    tenant_id: int | None,
    scope: str | None,
    scope_id: int | None,
    page: PageRequest,
    team_ids: frozenset[int] | None = None,
    user_ids: frozenset[int] | None = None,
) -> list[Limit]:
    query = select(Limit).where(Limit.archived.is_(False))
    if team_ids is not None or user_ids is not None:
        # a caller who sees only some teams and people: the tenant's own limits, their
        # teams', their people's and their people's keys'
        people = user_ids or frozenset()
        query = query.where(
            or_(
                Limit.scope == "tenant",
                and_(Limit.scope == "team", Limit.scope_id.in_(team_ids or frozenset())),
                and_(Limit.scope == "user", Limit.scope_id.in_(people)),
                and_(
                    Limit.scope == "key",
                    Limit.scope_id.in_(select(ApiKey.id).where(ApiKey.user_id.in_(people))),
                ),
            )
        )
    if tenant_id is not None:
        query = query.where(Limit.tenant_id == tenant_id)
    if scope is not None:
        query = query.where(Limit.scope == scope)
    if scope_id is not None:
        query = query.where(Limit.scope_id == scope_id)
    if page.after is not None:
        query = query.where(Limit.id > page.after)
    return list(await session.scalars(query.order_by(Limit.id).limit(page.limit)))


async def list_all_limits(session: AsyncSession) -> list[Limit]:
    query = select(Limit).where(Limit.archived.is_(False)).order_by(Limit.id)
    return list(await session.scalars(query))


async def find_limits(
    session: AsyncSession, *, scope: str, scope_ids: Sequence[int], metric: str, window: str
) -> list[Limit]:
    if not scope_ids:
        return []
    query = select(Limit).where(
        Limit.scope == scope,
        Limit.scope_id.in_(scope_ids),
        Limit.metric == metric,
        Limit.window == window,
        Limit.archived.is_(False),
    )
    return list(await session.scalars(query.order_by(Limit.id)))


async def list_active_grants(
    session: AsyncSession, *, limit_ids: Sequence[int], now: datetime
) -> list[Grant]:
    if not limit_ids:
        return []
    query = select(Grant).where(Grant.limit_id.in_(limit_ids), Grant.expires_at > now)
    return list(await session.scalars(query.order_by(Grant.id)))


async def list_grants(
    session: AsyncSession, *, tenant_id: int | None, page: PageRequest
) -> list[Grant]:
    query = select(Grant)
    if tenant_id is not None:
        query = query.where(Grant.tenant_id == tenant_id)
    if page.after is not None:
        query = query.where(Grant.id > page.after)
    return list(await session.scalars(query.order_by(Grant.id).limit(page.limit)))


async def list_relaxations(
    session: AsyncSession, *, limit_ids: Sequence[int] | None, tenant_id: int | None = None
) -> list[Relaxation]:
    query = select(Relaxation)
    if limit_ids is not None:
        if not limit_ids:
            return []
        query = query.where(Relaxation.limit_id.in_(limit_ids))
    if tenant_id is not None:
        query = query.where(Relaxation.tenant_id == tenant_id)
    return list(await session.scalars(query.order_by(Relaxation.id)))


async def list_exemptions(
    session: AsyncSession, *, scopes: Sequence[tuple[str, int]] | None, tenant_id: int | None = None
) -> list[Exemption]:
    query = select(Exemption)
    if scopes is not None:
        if not scopes:
            return []
        query = query.where(
            or_(*(and_(Exemption.scope == s, Exemption.scope_id == i) for s, i in scopes))
        )
    if tenant_id is not None:
        query = query.where(Exemption.tenant_id == tenant_id)
    return list(await session.scalars(query.order_by(Exemption.id)))
