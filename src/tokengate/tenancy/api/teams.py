from __future__ import annotations

from fastapi import APIRouter, status

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.principal import Level, tenant_filter
from tokengate.deps import ActorDep, PageDep, SessionDep
from tokengate.pagination import Page, Sort
from tokengate.tenancy import service
from tokengate.tenancy.api.guards import require_colleague, require_tenant_admin
from tokengate.tenancy.api.params import IdPath, IncludeArchived, Search, SortParam, TenantFilter
from tokengate.tenancy.schemas import TEAM_SORTS, TeamCreate, TeamPublic, TeamUpdate

router = APIRouter()


@router.post("/teams", status_code=status.HTTP_201_CREATED)
async def create_team(data: TeamCreate, session: SessionDep, actor: ActorDep) -> TeamPublic:
    """Create a team (tenant admins); without a named owner the tenant's first admin owns it."""
    await require_tenant_admin(session, actor, data.tenant_id)
    if data.owner_user_id is not None:
        await require_colleague(session, actor, data.owner_user_id, data.tenant_id)
    team = await service.create_team(session=session, data=data)
    await audit.record(
        session,
        actor,
        "team.create",
        target_type="team",
        target_id=team.id,
        tenant_id=team.tenant_id,
        after=team,
    )
    return team


@router.get("/teams")
async def list_teams(
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    search: Search = None,
    tenant_id: TenantFilter = None,
    include_archived: IncludeArchived = False,
    sort: SortParam = None,
) -> Page[TeamPublic]:
    """List teams: the tenant's for its admins, the teams one is in for everyone else."""
    return await service.list_teams(
        session=session,
        tenant_id=tenant_filter(actor, tenant_id),
        team_ids=actor.reach().team_ids,
        search=search,
        page=page,
        include_archived=include_archived,
        sort=Sort.parse(sort, TEAM_SORTS),
    )


@router.get("/teams/{team_id}")
async def get_team(team_id: IdPath, session: SessionDep, actor: ActorDep) -> TeamPublic:
    """One team: its members, leaders and the tenant's admins may read it."""
    await access.require_team(session, actor, team_id, Level.READ)
    return await service.get_team(session=session, team_id=team_id)


@router.patch("/teams/{team_id}")
async def update_team(
    team_id: IdPath, data: TeamUpdate, session: SessionDep, actor: ActorDep
) -> TeamPublic:
    """Rename a team or change its description or owner (tenant admins)."""
    tenant_id = await access.require_team(session, actor, team_id, Level.ADMIN)
    if data.owner_user_id is not None:
        await require_colleague(session, actor, data.owner_user_id, tenant_id)
    before = await service.get_team(session=session, team_id=team_id)
    after = await service.update_team(session=session, team_id=team_id, data=data)
    await audit.record(
        session,
        actor,
        "team.update",
        target_type="team",
        target_id=team_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return after


@router.delete("/teams/{team_id}")
async def archive_team(team_id: IdPath, session: SessionDep, actor: ActorDep) -> TeamPublic:
    """Archive a team (tenant admins); teams are never deleted, their usage stays theirs."""
    tenant_id = await access.require_team(session, actor, team_id, Level.ADMIN)
    before = await service.get_team(session=session, team_id=team_id)
    after = await service.archive_team(session=session, team_id=team_id)
    await audit.record(
        session,
        actor,
        "team.archive",
        target_type="team",
        target_id=team_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return after
