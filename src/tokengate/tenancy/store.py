from __future__ import annotations

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.pagination import PageRequest
from tokengate.tenancy.models import Plan, Team, TeamMembership, Tenant, User


async def get_plan_by_name(session: AsyncSession, *, name: str) -> Plan | None:
    return await session.scalar(select(Plan).where(Plan.name == name))


async def list_plans(session: AsyncSession) -> list[Plan]:
    return list(await session.scalars(select(Plan).order_by(Plan.id)))


async def list_tenants(
    session: AsyncSession, *, search: str | None, page: PageRequest
) -> list[tuple[Tenant, str]]:
    query = select(Tenant, Plan.name).join(Plan, Plan.id == Tenant.plan_id)
    if search:
        query = query.where(Tenant.name.ilike(f"%{search}%"))
    if page.after is not None:
        query = query.where(Tenant.id > page.after)
    rows = await session.execute(query.order_by(Tenant.id).limit(page.limit))
    return [(tenant, plan) for tenant, plan in rows]


async def get_tenant_with_plan(
    session: AsyncSession, *, tenant_id: int
) -> tuple[Tenant, Plan] | None:
    row = await session.execute(
        select(Tenant, Plan).join(Plan, Plan.id == Tenant.plan_id).where(Tenant.id == tenant_id)
    )
    found = row.first()
    return None if found is None else (found[0], found[1])


async def get_team_by_name_key(
    session: AsyncSession, *, tenant_id: int, name_key: str
) -> Team | None:
    return await session.scalar(
        select(Team).where(Team.tenant_id == tenant_id, Team.name_key == name_key)
    )


async def list_teams(
    session: AsyncSession, *, tenant_id: int | None, search: str | None, page: PageRequest
) -> list[Team]:
    query = select(Team)
    if tenant_id is not None:
        query = query.where(Team.tenant_id == tenant_id)
    if search:
        query = query.where(Team.name_key.contains(search.casefold()))
    if page.after is not None:
        query = query.where(Team.id > page.after)
    return list(await session.scalars(query.order_by(Team.id).limit(page.limit)))


async def get_user_by_email(session: AsyncSession, *, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email))


async def count_users(session: AsyncSession, *, tenant_id: int) -> int:
    count = await session.scalar(select(func.count()).where(User.tenant_id == tenant_id))
    return int(count or 0)


async def list_users(
    session: AsyncSession, *, tenant_id: int | None, search: str | None, page: PageRequest
) -> list[User]:
    query = select(User)
    if tenant_id is not None:
        query = query.where(User.tenant_id == tenant_id)
    if search:
        pattern = f"%{search}%"
        query = query.where(or_(User.email.ilike(pattern), User.name.ilike(pattern)))
    if page.after is not None:
        query = query.where(User.id > page.after)
    return list(await session.scalars(query.order_by(User.id).limit(page.limit)))


async def get_profile_rows(
    session: AsyncSession, *, user_id: int
) -> tuple[User, Tenant, Plan, Plan | None] | None:
    row = await session.execute(
        select(User, Tenant, Plan)
        .join(Tenant, Tenant.id == User.tenant_id)
        .join(Plan, Plan.id == Tenant.plan_id)
        .where(User.id == user_id)
    )
    found = row.first()
    if found is None:
        return None
    user, tenant, plan = found[0], found[1], found[2]
    override = await session.get(Plan, user.plan_id) if user.plan_id is not None else None
    return user, tenant, plan, override


async def get_membership(
    session: AsyncSession, *, team_id: int, user_id: int
) -> TeamMembership | None:
    return await session.get(TeamMembership, (team_id, user_id))


async def list_memberships(session: AsyncSession, *, team_id: int) -> list[TeamMembership]:
    query = select(TeamMembership).where(TeamMembership.team_id == team_id)
    return list(await session.scalars(query.order_by(TeamMembership.user_id)))


async def list_team_ids_of_user(session: AsyncSession, *, user_id: int) -> list[int]:
    query = (
        select(TeamMembership.team_id)
        .join(Team, Team.id == TeamMembership.team_id)
        .where(TeamMembership.user_id == user_id, Team.archived.is_(False))
        .order_by(TeamMembership.created_at, TeamMembership.team_id)
    )
    return list(await session.scalars(query))


async def list_member_ids(session: AsyncSession, *, team_id: int) -> list[int]:
    query = select(TeamMembership.user_id).where(TeamMembership.team_id == team_id)
    return list(await session.scalars(query))


async def list_tenant_user_ids(session: AsyncSession) -> list[int]:
    query = select(User.id).where(User.tenant_id.is_not(None)).order_by(User.id)
    return list(await session.scalars(query))
