from __future__ import annotations

from fastapi import APIRouter, status

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.deps import ActorDep, PageDep, SessionDep
from tokengate.pagination import Page, Sort
from tokengate.tenancy import service
from tokengate.tenancy.api.params import IdPath, IncludeArchived, Search, SortParam
from tokengate.tenancy.schemas import PLAN_SORTS, PlanCreate, PlanPublic, PlanUpdate

router = APIRouter()


@router.post("/plans", status_code=status.HTTP_201_CREATED)
async def create_plan(data: PlanCreate, session: SessionDep, actor: ActorDep) -> PlanPublic:
    """Create a plan (system administrators)."""
    access.require_system(actor, "plans")
    plan = await service.create_plan(session=session, data=data)
    await audit.record(
        session,
        actor,
        "plan.create",
        target_type="plan",
        target_id=plan.id,
        tenant_id=None,
        after=plan,
    )
    return plan


@router.get("/plans")
async def list_plans(
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    search: Search = None,
    include_archived: IncludeArchived = False,
    sort: SortParam = None,
) -> Page[PlanPublic]:
    """List plans: anyone signed in may read them."""
    return await service.list_plans(
        session=session,
        page=page,
        search=search,
        include_archived=include_archived,
        sort=Sort.parse(sort, PLAN_SORTS),
    )


@router.get("/plans/{plan_id}")
async def get_plan(plan_id: IdPath, session: SessionDep, actor: ActorDep) -> PlanPublic:
    """One plan: anyone signed in may read it."""
    return await service.get_plan(session=session, plan_id=plan_id)


@router.patch("/plans/{plan_id}")
async def update_plan(
    plan_id: IdPath, data: PlanUpdate, session: SessionDep, actor: ActorDep
) -> PlanPublic:
    """Change a plan (system administrators); tenants on it get the new terms at once."""
    access.require_system(actor, f"plan {plan_id}")
    before = await service.get_plan(session=session, plan_id=plan_id)
    after = await service.update_plan(session=session, plan_id=plan_id, data=data)
    await audit.record(
        session,
        actor,
        "plan.update",
        target_type="plan",
        target_id=plan_id,
        tenant_id=None,
        before=before,
        after=after,
    )
    return after


@router.delete("/plans/{plan_id}")
async def archive_plan(plan_id: IdPath, session: SessionDep, actor: ActorDep) -> PlanPublic:
    """Archive a plan (system administrators): nobody new may choose it."""
    access.require_system(actor, f"plan {plan_id}")
    before = await service.get_plan(session=session, plan_id=plan_id)
    after = await service.archive_plan(session=session, plan_id=plan_id)
    await audit.record(
        session,
        actor,
        "plan.archive",
        target_type="plan",
        target_id=plan_id,
        tenant_id=None,
        before=before,
        after=after,
    )
    return after
