"""Limits, grants, relaxations, exemptions and current usage over the admin API.

Tenant and team limits are their tenant's admins' to set; a person's and a key's limits are
their team leaders' as well. Grants, relaxations and exemptions are the admins'.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.principal import Level, admin_tenant_filter, tenant_filter
from tokengate.db import transaction, utcnow
from tokengate.deps import ActorDep, IdPath, IdQuery, PageDep, RuntimeDep, SessionDep
from tokengate.ids import MAX_ID
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

router = APIRouter(prefix="/api/v1", tags=["quotas"])
TenantFilter = IdQuery


@router.post("/limits", status_code=status.HTTP_201_CREATED)
async def create_limit(
    data: LimitCreate, session: SessionDep, actor: ActorDep, runtime: RuntimeDep
) -> LimitPublic:
    """Set a limit; usage already recorded in the current window counts against it."""
    await access.require_scope(session, actor, data.scope, data.scope_id, Level.LEAD)
    async with transaction(runtime.sessions) as writing:
        created = await service.create_limit(session=writing, data=data)
        await audit.record(
            writing,
            actor,
            "limit.create",
            target_type="limit",
            target_id=created.id,
            tenant_id=created.tenant_id,
            after=created,
        )
    await reconcile.backfill_limit(
        sessions=runtime.sessions, ledger=runtime.ledger, limit_id=created.id, now=utcnow()
    )
    return created


@router.get("/limits")
async def list_limits(
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    tenant_id: TenantFilter = None,
    scope: Annotated[Scope | None, Query()] = None,
    scope_id: IdQuery = None,
) -> Page[LimitPublic]:
    """The live limits the caller may see."""
    if scope is not None and scope_id is not None:
        await access.require_scope(session, actor, scope, scope_id, Level.READ)
    reach = actor.reach()
    return await service.list_limits(
        session=session,
        tenant_id=tenant_filter(actor, tenant_id),
        scope=scope,
        scope_id=scope_id,
        page=page,
        team_ids=reach.team_ids,
        user_ids=reach.user_ids,
    )


@router.get("/limits/{limit_id}")
async def get_limit(limit_id: IdPath, session: SessionDep, actor: ActorDep) -> LimitPublic:
    await access.require_limit(session, actor, limit_id, Level.READ)
    return LimitPublic.model_validate(await service.get_limit(session=session, limit_id=limit_id))


@router.patch("/limits/{limit_id}")
async def update_limit(
    limit_id: IdPath, data: LimitUpdate, session: SessionDep, actor: ActorDep
) -> LimitChange:
    """Change a limit; lowering a team's limit clamps the personal limits above it."""
    tenant_id = await access.require_limit(session, actor, limit_id, Level.LEAD)
    before = LimitPublic.model_validate(await service.get_limit(session=session, limit_id=limit_id))
    after = await service.update_limit(session=session, limit_id=limit_id, data=data)
    await audit.record(
        session,
        actor,
        "limit.update",
        target_type="limit",
        target_id=limit_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return after


@router.delete("/limits/{limit_id}", status_code=status.HTTP_204_NO_CONTENT)
async def archive_limit(limit_id: IdPath, session: SessionDep, actor: ActorDep) -> None:
    """Retire a limit: it stops applying; its counters and history stay."""
    tenant_id = await access.require_limit(session, actor, limit_id, Level.LEAD)
    before = LimitPublic.model_validate(await service.get_limit(session=session, limit_id=limit_id))
    await service.archive_limit(session=session, limit_id=limit_id)
    await audit.record(
        session,
        actor,
        "limit.archive",
        target_type="limit",
        target_id=limit_id,
        tenant_id=tenant_id,
        before=before,
    )


@router.post("/grants", status_code=status.HTTP_201_CREATED)
async def create_grant(data: GrantCreate, session: SessionDep, actor: ActorDep) -> GrantPublic:
    """Extra allowance on a limit, or on a user's monthly plan allowance, until it expires."""
    if data.user_id is not None:
        await access.require_user(session, actor, data.user_id, Level.ADMIN)
    elif data.limit_id is not None:
        await access.require_limit(session, actor, data.limit_id, Level.ADMIN)
    created = await service.create_grant(session=session, data=data)
    await audit.record(
        session,
        actor,
        "grant.create",
        target_type="grant",
        target_id=created.id,
        tenant_id=created.tenant_id,
        after=created,
    )
    return created


@router.get("/grants")
async def list_grants(
    session: SessionDep, actor: ActorDep, page: PageDep, tenant_id: TenantFilter = None
) -> Page[GrantPublic]:
    tenant = admin_tenant_filter(actor, tenant_id, "grants")
    return await service.list_grants(session=session, tenant_id=tenant, page=page)


@router.post("/relaxations", status_code=status.HTTP_201_CREATED)
async def create_relaxation(
    data: RelaxationCreate, session: SessionDep, actor: ActorDep
) -> RelaxationPublic:
    """Multiply a limit during given local hours (e.g. nights)."""
    await access.require_limit(session, actor, data.limit_id, Level.ADMIN)
    created = await service.create_relaxation(session=session, data=data)
    await audit.record(
        session,
        actor,
        "relaxation.create",
        target_type="relaxation",
        target_id=created.id,
        tenant_id=created.tenant_id,
        after=created,
    )
    return created


@router.get("/relaxations")
async def list_relaxations(
    session: SessionDep, actor: ActorDep, tenant_id: TenantFilter = None
) -> Page[RelaxationPublic]:
    tenant = admin_tenant_filter(actor, tenant_id, "relaxations")
    items = await service.list_relaxations(session=session, tenant_id=tenant)
    return Page(items=items, next=None)


@router.post("/exemptions", status_code=status.HTTP_201_CREATED)
async def create_exemption(
    data: ExemptionCreate, session: SessionDep, actor: ActorDep
) -> ExemptionPublic:
    """Exempt a user or a key from a metric's block limits (usage is still counted)."""
    await access.require_scope(session, actor, data.scope, data.scope_id, Level.ADMIN)
    created = await service.create_exemption(session=session, data=data)
    await audit.record(
        session,
        actor,
        "exemption.create",
        target_type="exemption",
        target_id=created.id,
        tenant_id=created.tenant_id,
        after=created,
    )
    return created


@router.get("/exemptions")
async def list_exemptions(
    session: SessionDep, actor: ActorDep, tenant_id: TenantFilter = None
) -> Page[ExemptionPublic]:
    tenant = admin_tenant_filter(actor, tenant_id, "exemptions")
    return Page(items=await service.list_exemptions(session=session, tenant_id=tenant), next=None)


@router.get("/usage/current")
async def current_usage(
    session: SessionDep,
    actor: ActorDep,
    runtime: RuntimeDep,
    scope: Annotated[Literal["tenant", "team", "user", "key"], Query()],
    scope_id: Annotated[int, Query(alias="id", ge=1, le=MAX_ID)],
) -> Page[LimitUsage]:
    """Each limit bearing on a tenant, team, user or key: used, reserved, remaining."""
    await access.require_scope(session, actor, scope, scope_id, Level.READ)
    items = await enforcement.current_usage(
        sessions=runtime.sessions,
        ledger=runtime.ledger,
        scope=scope,
        scope_id=scope_id,
        now=utcnow(),
    )
    return Page(items=items, next=None)
