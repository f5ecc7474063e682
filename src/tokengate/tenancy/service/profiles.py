from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.tenancy import store
from tokengate.tenancy.schemas import MemberProfile


async def get_member_profile(*, session: AsyncSession, user_id: int) -> MemberProfile | None:
    """What the gateway needs about a user: status, locale, plan and its models; None when the
    user or their tenant is gone or archived (their keys no longer work)."""
    rows = await store.get_profile_rows(session, user_id=user_id)
    if rows is None:
        return None
    user, tenant, tenant_plan, override = rows
    if user.status == "archived" or tenant.archived:
        return None
    plan = override or tenant_plan
    return MemberProfile(
        user_id=user.id,
        tenant_id=tenant.id,
        status="blocked" if user.status == "blocked" else "active",
        blocked_reason=user.blocked_reason,
        locale=user.locale,
        tenant_locale=tenant.locale,
        timezone=tenant.timezone,
        plan=plan.name,
        allowed_models=list(plan.allowed_models),
        monthly_token_limit=plan.monthly_token_limit,
    )


async def list_tenant_user_ids(*, session: AsyncSession) -> list[int]:
    """The ids of every user who belongs to a tenant."""
    return await store.list_tenant_user_ids(session)
