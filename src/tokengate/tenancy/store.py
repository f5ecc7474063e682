from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVarTuple

from sqlalchemy import Select, SQLColumnExpression, String, cast, exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.pagination import Position, SortedPage, SortValue, apply_keyset
from tokengate.tenancy.models import Plan, Team, TeamMembership, Tenant, User

Ts = TypeVarTuple("Ts")
Keys = Mapping[str, SQLColumnExpression[SortValue]]

# names sort regardless of case; a team's casefolded name is stored already
PLAN_KEYS: Keys = {"id": Plan.id, "name": func.lower(Plan.name), "created_at": Plan.created_at}
TENANT_KEYS: Keys = {
    "id": Tenant.id,
    "name": func.lower(Tenant.name),
    "created_at": Tenant.created_at,
}
TEAM_KEYS: Keys = {"id": Team.id, "name": Team.name_key, "created_at": Team.created_at}
USER_KEYS: Keys = {
    "id": User.id,
    "name": func.lower(User.name),
    "email": User.email,
    "created_at": User.created_at,
}


async def _page(
    session: AsyncSession,
    query: Select[*Ts],
    *,
    keys: Keys,
    id_column: SQLColumnExpression[int],
    page: SortedPage,
) -> list[tuple[tuple[*Ts], Position]]:
    """The rows of one sorted page, each with its position (for the next cursor)."""
    key = keys[page.sort.field]
    rows = await session.execute(
        apply_keyset(query.add_columns(key, id_column), key=key, id_column=id_column, page=page)
    )
    # each row ends with the sort value and the id the keyset was built from
    return [(tuple(row[:-2]), Position(row[-2], row[-1])) for row in rows]


async def flush_unique(session: AsyncSession) -> bool:
    """Flush; False when a unique constraint refused it (a concurrent insert won the race)."""
    try:
        await session.flush()
    except IntegrityError:
        return False
    return True


def _contains_role(role: str) -> SQLColumnExpression[bool]:
    # roles are a JSON list of known names, each quoted in the stored text on every backend
    return cast(User.roles, String).contains(f'"{role}"', autoescape=True)


async def get_plan(session: AsyncSession, *, plan_id: int) -> Plan | None:
    return await session.get(Plan, plan_id)


async def get_plan_by_name(session: AsyncSession, *, name: str) -> Plan | None:
    return await session.scalar(select(Plan).where(Plan.name == name))


async def list_plans(
    session: AsyncSession, *, search: str | None, include_archived: bool, page: SortedPage
) -> list[tuple[tuple[Plan], Position]]:
    query = select(Plan)
    if search:
        query = query.where(Plan.name.ilike(f"%{search}%"))
    if not include_archived:
        query = query.where(Plan.archived.is_(False))
    return await _page(session, query, keys=PLAN_KEYS, id_column=Plan.id, page=page)


async def get_tenant_with_plan(
    session: AsyncSession, *, tenant_id: int
) -> tuple[Tenant, Plan] | None:
    row = await session.execute(
        select(Tenant, Plan).join(Plan, Plan.id == Tenant.plan_id).where(Tenant.id == tenant_id)
    )
    found = row.first()
    return None if found is None else (found[0], found[1])


async def get_tenant_by_name(session: AsyncSession, *, name: str) -> Tenant | None:
    return await session.scalar(select(Tenant).where(Tenant.name == name))


async def list_tenants(
    session: AsyncSession,
    *,
    tenant_id: int | None,
    search: str | None,
    include_archived: bool,
    page: SortedPage,
) -> list[tuple[tuple[Tenant, str], Position]]:
    query = select(Tenant, Plan.name).join(Plan, Plan.id == Tenant.plan_id)
    if tenant_id is not None:
        query = query.where(Tenant.id == tenant_id)
    if search:
        query = query.where(Tenant.name.ilike(f"%{search}%"))
    if not include_archived:
        query = query.where(Tenant.archived.is_(False))
    return await _page(session, query, keys=TENANT_KEYS, id_column=Tenant.id, page=page)


async def get_team(session: AsyncSession, *, team_id: int) -> Team | None:
    return await session.get(Team, team_id)


async def get_team_by_name_key(
    session: AsyncSession, *, tenant_id: int, name_key: str
) -> Team | None:
    return await session.scalar(
        select(Team).where(Team.tenant_id == tenant_id, Team.name_key == name_key)
    )


def _member_count() -> SQLColumnExpression[int]:
    return (
        select(func.count())
        .where(TeamMembership.team_id == Team.id)
        .correlate(Team)
        .scalar_subquery()
    )


async def list_teams(
    session: AsyncSession,
    *,
    tenant_id: int | None,
    team_ids: frozenset[int] | None,
    search: str | None,
    include_archived: bool,
    page: SortedPage,
) -> list[tuple[tuple[Team, int], Position]]:
    query = select(Team, _member_count())
    if tenant_id is not None:
        query = query.where(Team.tenant_id == tenant_id)
    if team_ids is not None:
        query = query.where(Team.id.in_(team_ids))
    if search:
        query = query.where(Team.name_key.contains(search.casefold(), autoescape=True))
    if not include_archived:
        query = query.where(Team.archived.is_(False))
    return await _page(session, query, keys=TEAM_KEYS, id_column=Team.id, page=page)


async def count_members(session: AsyncSession, *, team_id: int) -> int:
    count = await session.scalar(select(func.count()).where(TeamMembership.team_id == team_id))
    return int(count or 0)


async def count_leaders(session: AsyncSession, *, team_id: int) -> int:
    count = await session.scalar(
        select(func.count()).where(
            TeamMembership.team_id == team_id, TeamMembership.role == "leader"
        )
    )
    return int(count or 0)


async def list_teams_owned_by(session: AsyncSession, *, user_id: int) -> list[Team]:
    return list(await session.scalars(select(Team).where(Team.owner_user_id == user_id)))


async def get_user(session: AsyncSession, *, user_id: int) -> User | None:
    return await session.get(User, user_id)


async def get_user_by_email(session: AsyncSession, *, email: str) -> User | None:
    return await session.scalar(select(User).where(User.email == email))


async def count_users(session: AsyncSession, *, tenant_id: int) -> int:
    """People of the tenant who count toward its plan: everyone not archived."""
    count = await session.scalar(
        select(func.count()).where(User.tenant_id == tenant_id, User.status != "archived")
    )
    return int(count or 0)


async def list_tenant_admin_ids(session: AsyncSession, *, tenant_id: int) -> list[int]:
    """The tenant's administrators who are not archived, first appointed first."""
    query = select(User.id).where(
        User.tenant_id == tenant_id, User.status != "archived", _contains_role("tenant_admin")
    )
    return list(await session.scalars(query.order_by(User.id)))


async def list_users_of_tenant(session: AsyncSession, *, tenant_id: int) -> list[User]:
    query = select(User).where(User.tenant_id == tenant_id).order_by(User.id)
    return list(await session.scalars(query))


def _leads_a_team() -> SQLColumnExpression[bool]:
    return exists(
        select(TeamMembership.user_id)
        .join(Team, Team.id == TeamMembership.team_id)
        .where(
            TeamMembership.user_id == User.id,
            TeamMembership.role == "leader",
            Team.archived.is_(False),
        )
    )


async def list_users(
    session: AsyncSession,
    *,
    tenant_id: int | None,
    user_ids: frozenset[int] | None = None,
    team_id: int | None = None,
    role: str | None = None,
    status: str | None = None,
    include_archived: bool = False,
    search: str | None = None,
    page: SortedPage,
) -> list[tuple[tuple[User], Position]]:
    query = select(User)
    if tenant_id is not None:
        query = query.where(User.tenant_id == tenant_id)
    if user_ids is not None:
        query = query.where(User.id.in_(user_ids))
    if team_id is not None:
        members = select(TeamMembership.user_id).where(TeamMembership.team_id == team_id)
        query = query.where(User.id.in_(members))
    if role == "team_leader":
        # leading a team makes a team leader, whatever the stored roles say
        query = query.where(or_(_contains_role(role), _leads_a_team()))
    elif role is not None:
        query = query.where(_contains_role(role))
    if status is not None:
        query = query.where(User.status == status)
    elif not include_archived:
        query = query.where(User.status != "archived")
    if search:
        pattern = f"%{search}%"
        query = query.where(or_(User.email.ilike(pattern), User.name.ilike(pattern)))
    return await _page(session, query, keys=USER_KEYS, id_column=User.id, page=page)


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


async def list_memberships_of_user(session: AsyncSession, *, user_id: int) -> list[TeamMembership]:
    query = select(TeamMembership).where(TeamMembership.user_id == user_id)
    return list(await session.scalars(query.order_by(TeamMembership.team_id)))


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
