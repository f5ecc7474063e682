from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.errors import Conflict, InvalidRequest, NotFound
from tokengate.pagination import BY_ID, Page, PageRequest, Sort, SortedPage
from tokengate.tenancy import store
from tokengate.tenancy.models import Plan
from tokengate.tenancy.schemas import PlanCreate, PlanPublic, PlanUpdate


async def create_plan(*, session: AsyncSession, data: PlanCreate) -> PlanPublic:
    """Create a plan; its name must be new."""
    await _check_name_free(session, data.name)
    plan = Plan(**data.model_dump())
    session.add(plan)
    if not await store.flush_unique(session):
        raise _name_taken(data.name)
    return PlanPublic.model_validate(plan)


async def list_plans(
    *,
    session: AsyncSession,
    page: PageRequest,
    search: str | None = None,
    include_archived: bool = False,
    sort: Sort = BY_ID,
) -> Page[PlanPublic]:
    """List plans (archived ones only when asked), optionally matching a name fragment."""
    window = SortedPage.of(page, sort)
    rows = await store.list_plans(
        session, search=search, include_archived=include_archived, page=window
    )
    return Page(
        items=[PlanPublic.model_validate(plan) for (plan,), _ in rows],
        next=window.next_cursor(rows[-1][1] if rows else None, len(rows)),
    )


async def get_plan(*, session: AsyncSession, plan_id: int) -> PlanPublic:
    """Return one plan or raise NotFound."""
    return PlanPublic.model_validate(await _plan(session, plan_id))


async def update_plan(*, session: AsyncSession, plan_id: int, data: PlanUpdate) -> PlanPublic:
    """Change a plan; every tenant on it gets the new terms from its next request."""
    plan = await _plan(session, plan_id)
    changes = data.model_dump(exclude_unset=True)
    if "name" in changes and changes["name"] != plan.name:
        await _check_name_free(session, changes["name"])
    for field, value in changes.items():
        setattr(plan, field, value)
    if not await store.flush_unique(session):
        raise _name_taken(plan.name)
    return PlanPublic.model_validate(plan)


async def archive_plan(*, session: AsyncSession, plan_id: int) -> PlanPublic:
    """Archive a plan: no new tenant or user may choose it; those on it keep it."""
    plan = await _plan(session, plan_id)
    if plan.archived:
        raise Conflict(f"plan {plan.name!r} is already archived")
    plan.archived = True
    await session.flush()
    return PlanPublic.model_validate(plan)


async def active_plan_named(session: AsyncSession, name: str, *, param: str) -> Plan:
    """The plan of this name, which must exist and not be archived (else bad input)."""
    plan = await store.get_plan_by_name(session, name=name)
    if plan is None:
        raise InvalidRequest(f"there is no plan named {name!r}", param=param)
    if plan.archived:
        raise InvalidRequest(f"the plan {name!r} is archived: choose another one", param=param)
    return plan


async def _plan(session: AsyncSession, plan_id: int) -> Plan:
    plan = await store.get_plan(session, plan_id=plan_id)
    if plan is None:
        raise NotFound(f"plan {plan_id} does not exist")
    return plan


async def _check_name_free(session: AsyncSession, name: str) -> None:
    if await store.get_plan_by_name(session, name=name) is not None:
        raise _name_taken(name)


def _name_taken(name: str) -> Conflict:
    return Conflict(f"a plan named {name!r} already exists", param="name")
