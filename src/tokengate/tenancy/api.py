from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from tokengate.deps import AdminDep, PageDep, SessionDep
from tokengate.pagination import Page
from tokengate.tenancy import service
from tokengate.tenancy.schemas import (
    BlockRequest,
    MembershipCreate,
    MembershipPublic,
    PlanCreate,
    PlanPublic,
    TeamCreate,
    TeamPublic,
    TenantCreate,
    TenantPublic,
    UserCreate,
    UserPublic,
)

router = APIRouter(prefix="/api/v1", dependencies=[AdminDep], tags=["tenancy"])
Search = Annotated[str | None, Query(max_length=200)]
TenantFilter = Annotated[int | None, Query()]


@router.post("/plans", status_code=status.HTTP_201_CREATED)
async def create_plan(data: PlanCreate, session: SessionDep) -> PlanPublic:
    return await service.create_plan(session=session, data=data)


@router.get("/plans")
async def list_plans(session: SessionDep) -> Page[PlanPublic]:
    return Page(items=await service.list_plans(session=session), next=None)


@router.post("/tenants", status_code=status.HTTP_201_CREATED)
async def create_tenant(data: TenantCreate, session: SessionDep) -> TenantPublic:
    return await service.create_tenant(session=session, data=data)


@router.get("/tenants")
async def list_tenants(
    session: SessionDep, page: PageDep, search: Search = None
) -> Page[TenantPublic]:
    return await service.list_tenants(session=session, search=search, page=page)


@router.get("/tenants/{tenant_id}")
async def get_tenant(tenant_id: int, session: SessionDep) -> TenantPublic:
    return await service.get_tenant(session=session, tenant_id=tenant_id)


@router.post("/teams", status_code=status.HTTP_201_CREATED)
async def create_team(data: TeamCreate, session: SessionDep) -> TeamPublic:
    return await service.create_team(session=session, data=data)


@router.get("/teams")
async def list_teams(
    session: SessionDep, page: PageDep, search: Search = None, tenant_id: TenantFilter = None
) -> Page[TeamPublic]:
    return await service.list_teams(session=session, tenant_id=tenant_id, search=search, page=page)


@router.get("/teams/{team_id}")
async def get_team(team_id: int, session: SessionDep) -> TeamPublic:
    return await service.get_team(session=session, team_id=team_id)


@router.post("/teams/{team_id}/members", status_code=status.HTTP_201_CREATED)
async def add_team_member(
    team_id: int, data: MembershipCreate, session: SessionDep
) -> MembershipPublic:
    return await service.add_team_member(session=session, team_id=team_id, data=data)


@router.get("/teams/{team_id}/members")
async def list_team_members(team_id: int, session: SessionDep) -> Page[MembershipPublic]:
    return Page(items=await service.list_team_members(session=session, team_id=team_id), next=None)


@router.post("/users", status_code=status.HTTP_201_CREATED)
async def create_user(data: UserCreate, session: SessionDep) -> UserPublic:
    return await service.create_user(session=session, data=data)


@router.get("/users")
async def list_users(
    session: SessionDep, page: PageDep, search: Search = None, tenant_id: TenantFilter = None
) -> Page[UserPublic]:
    return await service.list_users(session=session, tenant_id=tenant_id, search=search, page=page)


@router.get("/users/{user_id}")
async def get_user(user_id: int, session: SessionDep) -> UserPublic:
    return await service.get_user(session=session, user_id=user_id)


@router.post("/users/{user_id}/block")
async def block_user(user_id: int, data: BlockRequest, session: SessionDep) -> UserPublic:
    return await service.set_user_blocked(
        session=session, user_id=user_id, blocked=True, reason=data.reason
    )


@router.post("/users/{user_id}/unblock")
async def unblock_user(user_id: int, session: SessionDep) -> UserPublic:
    return await service.set_user_blocked(session=session, user_id=user_id, blocked=False)
