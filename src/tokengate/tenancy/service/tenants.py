from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.auth.sessions import end_user_sessions
from tokengate.errors import Conflict, NotFound
from tokengate.pagination import BY_ID, Page, PageRequest, Sort, SortedPage
from tokengate.tenancy import store
from tokengate.tenancy.models import Plan, Tenant
from tokengate.tenancy.schemas import TenantCreate, TenantPublic, TenantUpdate
from tokengate.tenancy.service.plans import active_plan_named


async def create_tenant(*, session: AsyncSession, data: TenantCreate) -> TenantPublic:
    """Create a tenant on an existing plan; tenant names are unique."""
    plan = await active_plan_named(session, data.plan, param="plan")
    await _check_name_free(session, data.name)
    tenant = Tenant(**data.model_dump(exclude={"plan"}), plan_id=plan.id)
    session.add(tenant)
    if not await store.flush_unique(session):
        raise _name_taken(data.name)
    return _tenant_public(tenant, plan.name)


async def list_tenants(
    *,
    session: AsyncSession,
    search: str | None,
    page: PageRequest,
    tenant_id: int | None = None,
    include_archived: bool = False,
    sort: Sort = BY_ID,
) -> Page[TenantPublic]:
    """List tenants (archived ones only when asked), optionally one or matching a fragment."""
    window = SortedPage.of(page, sort)
    rows = await store.list_tenants(
        session,
        tenant_id=tenant_id,
        search=search,
        include_archived=include_archived,
        page=window,
    )
    return Page(
        items=[_tenant_public(tenant, plan) for (tenant, plan), _ in rows],
        next=window.next_cursor(rows[-1][1] if rows else None, len(rows)),
    )


async def get_tenant(*, session: AsyncSession, tenant_id: int) -> TenantPublic:
    """Return one tenant or raise NotFound."""
    tenant, plan = await tenant_with_plan(session, tenant_id)
    return _tenant_public(tenant, plan.name)


async def update_tenant(
    *, session: AsyncSession, tenant_id: int, data: TenantUpdate
) -> TenantPublic:
    """Change a tenant's settings or plan; the gateway applies them from the next request."""
    tenant, plan = await tenant_with_plan(session, tenant_id)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] != tenant.name:
        await _check_name_free(session, changes["name"])
    if "plan" in changes:
        plan = await _plan_for(session, tenant, changes.pop("plan"))
        tenant.plan_id = plan.id
    for field, value in changes.items():
        setattr(tenant, field, value)
    if not await store.flush_unique(session):
        raise _name_taken(tenant.name)
    return _tenant_public(tenant, plan.name)


async def archive_tenant(*, session: AsyncSession, tenant_id: int, now: datetime) -> TenantPublic:
    """Archive a tenant: its keys stop working and its people are signed out everywhere."""
    tenant, plan = await tenant_with_plan(session, tenant_id)
    if tenant.archived:
        raise Conflict(f"tenant {tenant.name!r} is already archived")
    tenant.archived = True
    for user in await store.list_users_of_tenant(session, tenant_id=tenant_id):
        # tokens carry the version they were issued at: bumping it ends them
        user.auth_version += 1
        await end_user_sessions(session, user.id, now=now)
    await session.flush()
    return _tenant_public(tenant, plan.name)


async def tenant_with_plan(session: AsyncSession, tenant_id: int) -> tuple[Tenant, Plan]:
    """The tenant and its plan, or NotFound."""
    found = await store.get_tenant_with_plan(session, tenant_id=tenant_id)
    if found is None:
        raise NotFound(f"tenant {tenant_id} does not exist")
    return found


def ensure_open(tenant: Tenant) -> None:
    """Refuse to add people or teams to an archived tenant."""
    if tenant.archived:
        raise Conflict(f"tenant {tenant.name!r} is archived: nothing can be added to it")


async def _plan_for(session: AsyncSession, tenant: Tenant, name: str) -> Plan:
    plan = await active_plan_named(session, name, param="plan")
    people = await store.count_users(session, tenant_id=tenant.id)
    if people > plan.max_users:
        raise Conflict(
            f"the {plan.name} plan allows at most {plan.max_users} users and this tenant has "
            f"{people}: archive some users before moving to it",
            param="plan",
        )
    return plan


def _tenant_public(tenant: Tenant, plan: str) -> TenantPublic:
    return TenantPublic(
        id=tenant.id,
        name=tenant.name,
        plan=plan,
        timezone=tenant.timezone,
        locale=tenant.locale,
        currency=tenant.currency,
        local_login=tenant.local_login,
        mfa_required_for=list(tenant.mfa_required_for),
        archived=tenant.archived,
        created_at=tenant.created_at,
    )


async def _check_name_free(session: AsyncSession, name: str) -> None:
    if await store.get_tenant_by_name(session, name=name) is not None:
        raise _name_taken(name)


def _name_taken(name: str) -> Conflict:
    return Conflict(f"a tenant named {name!r} already exists", param="name")
