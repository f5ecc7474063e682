"""Queries behind the principal and the owners of objects (no HTTP here)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.catalog.models import Model
from tokengate.keys.models import ApiKey
from tokengate.quotas.models import Limit
from tokengate.tenancy.models import Team, TeamMembership, Tenant, User


async def get_user(session: AsyncSession, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def memberships_of(session: AsyncSession, user_id: int) -> list[tuple[int, str]]:
    """(team id, role) of each active team the user belongs to."""
    rows = await session.execute(
        select(TeamMembership.team_id, TeamMembership.role)
        .join(Team, Team.id == TeamMembership.team_id)
        .where(TeamMembership.user_id == user_id, Team.archived.is_(False))
    )
    return [(team_id, role) for team_id, role in rows.all()]


async def member_ids_of_teams(session: AsyncSession, team_ids: frozenset[int]) -> set[int]:
    if not team_ids:
        return set()
    rows = await session.scalars(
        select(TeamMembership.user_id).where(TeamMembership.team_id.in_(team_ids))
    )
    return set(rows.all())


async def tenant_exists(session: AsyncSession, tenant_id: int) -> bool:
    return await session.get(Tenant, tenant_id) is not None


async def team_tenant(session: AsyncSession, team_id: int) -> int | None:
    return await session.scalar(select(Team.tenant_id).where(Team.id == team_id))


async def user_tenant(session: AsyncSession, user_id: int) -> tuple[bool, int | None]:
    """(exists, tenant id) of a user; system administrators have no tenant."""
    row = (await session.execute(select(User.tenant_id).where(User.id == user_id))).first()
    return (False, None) if row is None else (True, row[0])


async def key_owner(session: AsyncSession, key_id: int) -> tuple[int, int] | None:
    """(tenant id, user id) of a virtual key."""
    row = (
        await session.execute(select(ApiKey.tenant_id, ApiKey.user_id).where(ApiKey.id == key_id))
    ).first()
    return None if row is None else (row[0], row[1])


async def limit_scope(session: AsyncSession, limit_id: int) -> tuple[int, str, int] | None:
    """(tenant id, scope, scope id) of a limit."""
    row = (
        await session.execute(
            select(Limit.tenant_id, Limit.scope, Limit.scope_id).where(Limit.id == limit_id)
        )
    ).first()
    return None if row is None else (row[0], row[1], row[2])


async def model_exists(session: AsyncSession, model_id: int) -> bool:
    return await session.get(Model, model_id) is not None
