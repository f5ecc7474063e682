from __future__ import annotations

from fastapi import APIRouter, status

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.principal import Level, tenant_filter
from tokengate.db import utcnow
from tokengate.deps import ActorDep, PageDep, SessionDep
from tokengate.pagination import Page, Sort
from tokengate.tenancy import service
from tokengate.tenancy.api.guards import refuse_fields
from tokengate.tenancy.api.params import IdPath, IncludeArchived, Search, SortParam, TenantFilter
from tokengate.tenancy.schemas import TENANT_SORTS, TenantCreate, TenantPublic, TenantUpdate

router = APIRouter()


@router.post("/tenants", status_code=status.HTTP_201_CREATED)
async def create_tenant(data: TenantCreate, session: SessionDep, actor: ActorDep) -> TenantPublic:
    """Create a tenant on a plan (system administrators)."""
    access.require_system(actor, "tenants")
    tenant = await service.create_tenant(session=session, data=data)
    await audit.record(
        session,
        actor,
        "tenant.create",
        target_type="tenant",
        target_id=tenant.id,
        tenant_id=tenant.id,
        after=tenant,
    )
    return tenant


@router.get("/tenants")
async def list_tenants(
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    search: Search = None,
    tenant_id: TenantFilter = None,
    include_archived: IncludeArchived = False,
    sort: SortParam = None,
) -> Page[TenantPublic]:
    """List tenants: every one for system administrators, one's own for everyone else."""
    return await service.list_tenants(
        session=session,
        search=search,
        page=page,
        tenant_id=tenant_filter(actor, tenant_id),
        include_archived=include_archived,
        sort=Sort.parse(sort, TENANT_SORTS),
    )


@router.get("/tenants/{tenant_id}")
async def get_tenant(tenant_id: IdPath, session: SessionDep, actor: ActorDep) -> TenantPublic:
    """One tenant: its own people may read it."""
    await access.require_tenant(session, actor, tenant_id, Level.READ)
    return await service.get_tenant(session=session, tenant_id=tenant_id)


@router.patch("/tenants/{tenant_id}")
async def update_tenant(
    tenant_id: IdPath, data: TenantUpdate, session: SessionDep, actor: ActorDep
) -> TenantPublic:
    """Change a tenant: its admins change its settings; its name, plan and currency only
    system administrators. A new plan applies from the tenant's next request."""
    await access.require_tenant(session, actor, tenant_id, Level.ADMIN)
    refuse_fields(actor, data.model_fields_set, TenantUpdate.SYSTEM_FIELDS)
    before = await service.get_tenant(session=session, tenant_id=tenant_id)
    after = await service.update_tenant(session=session, tenant_id=tenant_id, data=data)
    await audit.record(
        session,
        actor,
        "tenant.update",
        target_type="tenant",
        target_id=tenant_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return after


@router.delete("/tenants/{tenant_id}")
async def archive_tenant(tenant_id: IdPath, session: SessionDep, actor: ActorDep) -> TenantPublic:
    """Archive a tenant (system administrators): its keys stop and its people are signed out."""
    # another tenant's id must look missing, so the tenant is looked up before the role check
    await access.require_tenant(session, actor, tenant_id, Level.SYSTEM)
    before = await service.get_tenant(session=session, tenant_id=tenant_id)
    after = await service.archive_tenant(session=session, tenant_id=tenant_id, now=utcnow())
    await audit.record(
        session,
        actor,
        "tenant.archive",
        target_type="tenant",
        target_id=tenant_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return after
