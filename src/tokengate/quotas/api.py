from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from tokengate.db import transaction, utcnow
from tokengate.deps import AdminDep, PageDep, RuntimeDep, SessionDep
from tokengate.pagination import Page
from tokengate.quotas import enforcement, reconcile, service
from tokengate.quotas.schemas import (
    ExemptionCreate,
    ExemptionPublic,
    GrantCreate,
    GrantPublic,
    LimitChange,
    LimitCreate,
    LimitPublic,
    LimitUpdate,
    LimitUsage,
    RelaxationCreate,
    RelaxationPublic,
    Scope,
)

router = APIRouter(prefix="/api/v1", dependencies=[AdminDep], tags=["quotas"])
TenantFilter = Annotated[int | None, Query()]


@router.post("/limits", status_code=status.HTTP_201_CREATED)
async def create_limit(data: LimitCreate, runtime: RuntimeDep) -> LimitPublic:
    async with transaction(runtime.sessions) as session:
        created = await service.create_limit(session=session, data=data)
    # usage recorded earlier in the current window counts against the new limit
    await reconcile.backfill_limit(
        sessions=runtime.sessions, ledger=runtime.ledger, limit_id=created.id, now=utcnow()
    )
    return created


@router.get("/limits")
async def list_limits(
    session: SessionDep,
    page: PageDep,
    tenant_id: TenantFilter = None,
    scope: Annotated[Scope | None, Query()] = None,
    scope_id: Annotated[int | None, Query()] = None,
) -> Page[LimitPublic]:
    return await service.list_limits(
        session=session, tenant_id=tenant_id, scope=scope, scope_id=scope_id, page=page
    )


@router.get("/limits/{limit_id}")
async def get_limit(limit_id: int, session: SessionDep) -> LimitPublic:
    return LimitPublic.model_validate(await service.get_limit(session=session, limit_id=limit_id))


@router.patch("/limits/{limit_id}")
async def update_limit(limit_id: int, data: LimitUpdate, session: SessionDep) -> LimitChange:
    return await service.update_limit(session=session, limit_id=limit_id, data=data)


@router.delete("/limits/{limit_id}", status_code=status.HTTP_204_NO_CONTENT)
async def archive_limit(limit_id: int, session: SessionDep) -> None:
    await service.archive_limit(session=session, limit_id=limit_id)


@router.post("/grants", status_code=status.HTTP_201_CREATED)
async def create_grant(data: GrantCreate, session: SessionDep) -> GrantPublic:
    return await service.create_grant(session=session, data=data)


@router.get("/grants")
async def list_grants(
    session: SessionDep, page: PageDep, tenant_id: TenantFilter = None
) -> Page[GrantPublic]:
    return await service.list_grants(session=session, tenant_id=tenant_id, page=page)


@router.post("/relaxations", status_code=status.HTTP_201_CREATED)
async def create_relaxation(data: RelaxationCreate, session: SessionDep) -> RelaxationPublic:
    return await service.create_relaxation(session=session, data=data)


@router.get("/relaxations")
async def list_relaxations(
    session: SessionDep, tenant_id: TenantFilter = None
) -> Page[RelaxationPublic]:
    items = await service.list_relaxations(session=session, tenant_id=tenant_id)
    return Page(items=items, next=None)


@router.post("/exemptions", status_code=status.HTTP_201_CREATED)
async def create_exemption(data: ExemptionCreate, session: SessionDep) -> ExemptionPublic:
    return await service.create_exemption(session=session, data=data)


@router.get("/exemptions")
async def list_exemptions(
    session: SessionDep, tenant_id: TenantFilter = None
) -> Page[ExemptionPublic]:
    return Page(
        items=await service.list_exemptions(session=session, tenant_id=tenant_id), next=None
    )


@router.get("/usage/current")
async def current_usage(
    runtime: RuntimeDep,
    scope: Annotated[Literal["tenant", "team", "user", "key"], Query()],
    scope_id: Annotated[int, Query(alias="id")],
) -> Page[LimitUsage]:
    items = await enforcement.current_usage(
        sessions=runtime.sessions,
        ledger=runtime.ledger,
        scope=scope,
        scope_id=scope_id,
        now=utcnow(),
    )
    return Page(items=items, next=None)
