from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.errors import Conflict, InvalidRequest, NotFound
from tokengate.pagination import BY_ID, Page, PageRequest, Sort, SortedPage
from tokengate.tenancy import store
from tokengate.tenancy.models import Team
from tokengate.tenancy.schemas import TeamCreate, TeamPublic, TeamUpdate
from tokengate.tenancy.service.tenants import ensure_open, tenant_with_plan


async def create_team(*, session: AsyncSession, data: TeamCreate) -> TeamPublic:
    """Create a team; names are unique per tenant regardless of case, and someone owns it."""
    tenant, _ = await tenant_with_plan(session, data.tenant_id)
    ensure_open(tenant)
    name_key = data.name.casefold()
    await _check_name_free(session, tenant.id, data.name)
    if data.owner_user_id is not None:
        await _check_owner(session, tenant.id, data.owner_user_id)
        owner: int | None = data.owner_user_id
    else:
        admins = await store.list_tenant_admin_ids(session, tenant_id=tenant.id)
        owner = admins[0] if admins else None
    team = Team(
        tenant_id=tenant.id,
        name=data.name,
        name_key=name_key,
        description=data.description,
        owner_user_id=owner,
        archived=False,
    )
    session.add(team)
    if not await store.flush_unique(session):
        raise _name_taken(data.name)
    return team_public(team, 0)


async def list_teams(
    *,
    session: AsyncSession,
    tenant_id: int | None,
    search: str | None,
    page: PageRequest,
    team_ids: frozenset[int] | None = None,
    include_archived: bool = False,
    sort: Sort = BY_ID,
) -> Page[TeamPublic]:
    """List teams (archived ones only when asked), of one tenant or of some ids."""
    window = SortedPage.of(page, sort)
    rows = await store.list_teams(
        session,
        tenant_id=tenant_id,
        team_ids=team_ids,
        search=search,
        include_archived=include_archived,
        page=window,
    )
    return Page(
        items=[team_public(team, count) for (team, count), _ in rows],
        next=window.next_cursor(rows[-1][1] if rows else None, len(rows)),
    )


async def get_team(*, session: AsyncSession, team_id: int) -> TeamPublic:
    """Return one team or raise NotFound."""
    team = await team_row(session, team_id)
    return team_public(team, await store.count_members(session, team_id=team_id))


async def update_team(*, session: AsyncSession, team_id: int, data: TeamUpdate) -> TeamPublic:
    """Rename a team, or change its description or owner."""
    team = await team_row(session, team_id)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes:
        if changes["name"].casefold() != team.name_key:
            await _check_name_free(session, team.tenant_id, changes["name"])
        team.name_key = changes["name"].casefold()
    if "owner_user_id" in changes:
        await _check_owner(session, team.tenant_id, changes["owner_user_id"])
    for field, value in changes.items():
        setattr(team, field, value)
    if not await store.flush_unique(session):
        raise _name_taken(team.name)
    return team_public(team, await store.count_members(session, team_id=team_id))


async def archive_team(*, session: AsyncSession, team_id: int) -> TeamPublic:
    """Archive a team (never deleted): its history stays, it takes no new members."""
    team = await team_row(session, team_id)
    if team.archived:
        raise Conflict(f"team {team.name!r} is already archived")
    team.archived = True
    await session.flush()
    return team_public(team, await store.count_members(session, team_id=team_id))


async def team_row(session: AsyncSession, team_id: int) -> Team:
    """The team, or NotFound."""
    team = await store.get_team(session, team_id=team_id)
    if team is None:
        raise NotFound(f"team {team_id} does not exist")
    return team


def team_public(team: Team, member_count: int) -> TeamPublic:
    """The public view of a team with its number of members."""
    return TeamPublic(
        id=team.id,
        tenant_id=team.tenant_id,
        name=team.name,
        description=team.description,
        owner_user_id=team.owner_user_id,
        member_count=member_count,
        archived=team.archived,
        created_at=team.created_at,
    )


async def _check_owner(session: AsyncSession, tenant_id: int, user_id: int) -> None:
    user = await store.get_user(session, user_id=user_id)
    if user is None or user.tenant_id != tenant_id:
        raise InvalidRequest(
            f"user {user_id} is not a person of this team's tenant", param="owner_user_id"
        )
    if user.status == "archived":
        raise InvalidRequest(f"user {user_id} is archived", param="owner_user_id")


async def _check_name_free(session: AsyncSession, tenant_id: int, name: str) -> None:
    taken = await store.get_team_by_name_key(session, tenant_id=tenant_id, name_key=name.casefold())
    if taken is not None and taken.archived:
        raise Conflict(
            f"the archived team {taken.name!r} of this tenant keeps its name: rename it first",
            param="name",
        )
    if taken is not None:
        raise _name_taken(name)


def _name_taken(name: str) -> Conflict:
    return Conflict(f"this tenant already has a team named {name!r}", param="name")
