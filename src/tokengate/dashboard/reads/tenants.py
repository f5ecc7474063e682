"""What the tenants page adds to the tenancy service's lists: seats taken and tokens used."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.dashboard.reads.scope import Scope, period
from tokengate.dashboard.reads.usage import totals
from tokengate.tenancy.models import User


async def seats(session: AsyncSession, tenant_ids: Collection[int]) -> dict[int, int]:
    """How many people of each tenant count toward its plan: everyone not archived (the
    same count the plan's maximum is checked against)."""
    if not tenant_ids:
        return {}
    rows = await session.execute(
        select(User.tenant_id, func.count())
        .where(User.tenant_id.in_(sorted(tenant_ids)), User.status != "archived")
        .group_by(User.tenant_id)
    )
    counted = {int(tenant): int(count) for tenant, count in rows.all() if tenant is not None}
    return {tenant: counted.get(tenant, 0) for tenant in tenant_ids}


async def month_tokens(
    session: AsyncSession, tenants: Collection[tuple[int, str]], now: datetime
) -> dict[int, int]:
    """Tokens each tenant used this month, the month as its own timezone counts it.

    ``tenants`` holds (id, timezone) pairs the viewer may already see.
    """
    used: dict[int, int] = {}
    for tenant_id, timezone in tenants:
        start, end = period("month", now, timezone)
        used[tenant_id] = (await totals(session, Scope(tenant_id=tenant_id), start, end)).tokens
    return used
