"""Each user's monthly plan allowance as the ledger holds it: the numbers the enforcer uses.

The dashboard never recomputes usage from events for a percentage: it asks the ledger for the
same counter a request is admitted against (amount with unexpired grants, used, reserved).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tokengate.ledger.backends.base import LedgerBackend
from tokengate.quotas import store as quota_store
from tokengate.quotas.reconcile import states_by_tenant
from tokengate.quotas.resolve import Subject, plan_limit_id, resolve_checks
from tokengate.tenancy.models import Plan, Tenant, User


@dataclass(frozen=True)
class Allowance:
    """A user's monthly token allowance now."""

    user_id: int
    plan: str
    amount: int
    used: int
    reserved: int
    percent: float
    window_end: datetime

    @property
    def remaining(self) -> int:
        return max(self.amount - self.used - self.reserved, 0)


async def allowances(
    session: AsyncSession, ledger: LedgerBackend, *, user_ids: Sequence[int], now: datetime
) -> dict[int, Allowance]:
    """The allowance of each of these users who belongs to a tenant, by user id."""
    if not user_ids:
        return {}
    override = aliased(Plan)
    rows = (
        await session.execute(
            select(
                User.id,
                Tenant.id,
                Tenant.timezone,
                Plan.name,
                Plan.monthly_token_limit,
                override.name,
                override.monthly_token_limit,
            )
            .join(Tenant, Tenant.id == User.tenant_id)
            .join(Plan, Plan.id == Tenant.plan_id)
            .outerjoin(override, override.id == User.plan_id)
            .where(User.id.in_(list(user_ids)))
        )
    ).all()
    grants = await quota_store.list_active_grants(
        session, limit_ids=[plan_limit_id(row[0]) for row in rows], now=now
    )
    plans: dict[int, str] = {}
    checks = []
    for user_id, tenant_id, timezone, plan, monthly, own_plan, own_monthly in rows:
        plans[user_id] = own_plan or plan
        subject = Subject(
            tenant_id=tenant_id,
            team_id=None,
            user_id=user_id,
            key_id=0,
            timezone=timezone,
            plan=own_plan or plan,
            monthly_token_limit=own_monthly if own_plan else monthly,
            model=None,
        )
        [resolved] = resolve_checks(
            subject=subject,
            limits=[],
            grants=[g for g in grants if g.limit_id == plan_limit_id(user_id)],
            relaxations=[],
            exempt_metrics=set(),
            now=now,
        )
        checks.append(resolved.check)
    states = await states_by_tenant(ledger, checks, now)
    found: dict[int, Allowance] = {}
    for check, state in zip(checks, states, strict=True):
        user_id = -check.limit_id
        found[user_id] = Allowance(
            user_id=user_id,
            plan=plans[user_id],
            amount=check.amount,
            used=state.used,
            reserved=state.reserved,
            percent=round(state.used * 100 / check.amount, 1) if check.amount else 100.0,
            window_end=state.window_end,
        )
    return found
