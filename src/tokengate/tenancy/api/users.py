from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.principal import Level, tenant_filter
from tokengate.db import utcnow
from tokengate.deps import ActorDep, PageDep, SessionDep
from tokengate.ids import MAX_ID
from tokengate.pagination import Page, Sort
from tokengate.tenancy import service
from tokengate.tenancy.api.guards import (
    guard_roles,
    guard_target,
    refuse_fields,
    require_tenant_admin,
)
from tokengate.tenancy.api.params import IdPath, IncludeArchived, Search, SortParam, TenantFilter
from tokengate.tenancy.schemas import (
    USER_SORTS,
    AccountStatus,
    BlockRequest,
    Role,
    UserCreate,
    UserPublic,
    UserUpdate,
)

router = APIRouter()
# an individual plan raises what the tenant's plan grants: a system administrator's decision
SYSTEM_USER_FIELDS = ("plan",)


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def create_user(data: UserCreate, session: SessionDep, actor: ActorDep) -> UserPublic:
    """Create a user in a tenant (its admins), within the plan's number of users."""
    await require_tenant_admin(session, actor, data.tenant_id)
    guard_roles(actor, (), data.roles)
    refuse_fields(actor, data.model_fields_set, SYSTEM_USER_FIELDS)
    user = await service.create_user(session=session, data=data)
    await audit.record(
        session,
        actor,
        "user.create",
        target_type="user",
        target_id=user.id,
        tenant_id=user.tenant_id,
        after=user,
    )
    return user


@router.get("/users")
async def list_users(
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    search: Search = None,
    tenant_id: TenantFilter = None,
    team_id: Annotated[
        int | None, Query(ge=1, le=MAX_ID, description="only this team's members")
    ] = None,
    role: Annotated[Role | None, Query()] = None,
    status: Annotated[AccountStatus | None, Query()] = None,
    include_archived: IncludeArchived = False,
    sort: SortParam = None,
) -> Page[UserPublic]:
    """List users: a tenant's admins see it all, a team leader their teams' members and
    themself, anyone else themself."""
    if team_id is not None:
        await access.require_team(session, actor, team_id, Level.READ)
    return await service.list_users(
        session=session,
        tenant_id=tenant_filter(actor, tenant_id),
        user_ids=actor.reach().user_ids,
        team_id=team_id,
        role=role,
        status=status,
        include_archived=include_archived,
        search=search,
        page=page,
        sort=Sort.parse(sort, USER_SORTS),
    )


@router.get("/users/{user_id}")
async def get_user(user_id: IdPath, session: SessionDep, actor: ActorDep) -> UserPublic:
    """One user: themself, their team leaders and their tenant's admins may read it."""
    await access.require_user(session, actor, user_id, Level.READ)
    return await service.get_user(session=session, user_id=user_id)


@router.patch("/users/{user_id}")
async def update_user(
    user_id: IdPath, data: UserUpdate, session: SessionDep, actor: ActorDep
) -> UserPublic:
    """Change a user's e-mail, name, roles or language (tenant admins); roles apply from the
    user's very next request."""
    tenant_id = await access.require_user(session, actor, user_id, Level.ADMIN)
    before = await service.get_user(session=session, user_id=user_id)
    guard_target(actor, before)
    guard_roles(actor, before.roles, before.roles if data.roles is None else data.roles)
    refuse_fields(actor, data.model_fields_set, SYSTEM_USER_FIELDS)
    after = await service.update_user(session=session, user_id=user_id, data=data)
    await audit.record(
        session,
        actor,
        "user.update",
        target_type="user",
        target_id=user_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return after


@router.delete("/users/{user_id}")
async def archive_user(user_id: IdPath, session: SessionDep, actor: ActorDep) -> UserPublic:
    """Archive someone who left (tenant admins): signed out, keys dead, history kept."""
    tenant_id = await access.require_user(session, actor, user_id, Level.ADMIN)
    before = await service.get_user(session=session, user_id=user_id)
    guard_target(actor, before)
    after = await service.archive_user(session=session, user_id=user_id, now=utcnow())
    await audit.record(
        session,
        actor,
        "user.archive",
        target_type="user",
        target_id=user_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return after


@router.post("/users/{user_id}/block")
async def block_user(
    user_id: IdPath, data: BlockRequest, session: SessionDep, actor: ActorDep
) -> UserPublic:
    """Block someone's gateway use (their team leaders or tenant admins)."""
    tenant_id = await access.require_user(session, actor, user_id, Level.LEAD)
    before = await service.get_user(session=session, user_id=user_id)
    guard_target(actor, before)
    after = await service.block_user(session=session, user_id=user_id, reason=data.reason)
    await audit.record(
        session,
        actor,
        "user.block",
        target_type="user",
        target_id=user_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return after


@router.post("/users/{user_id}/unblock")
async def unblock_user(user_id: IdPath, session: SessionDep, actor: ActorDep) -> UserPublic:
    """Let someone use the gateway again (their team leaders or tenant admins)."""
    tenant_id = await access.require_user(session, actor, user_id, Level.LEAD)
    before = await service.get_user(session=session, user_id=user_id)
    guard_target(actor, before)
    after = await service.unblock_user(session=session, user_id=user_id)
    await audit.record(
        session,
        actor,
        "user.unblock",
        target_type="user",
        target_id=user_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return after
