"""What the users page shows beside each person: tenant, plan, teams; and their extra tokens."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from tokengate.quotas import store as quota_store
from tokengate.quotas.resolve import plan_limit_id
from tokengate.tenancy.models import Plan, Team, TeamMembership, Tenant, User


@dataclass(frozen=True)
class Standing:
    """Where a person stands: their tenant, its plan, their own plan (if any) and teams."""

    tenant: str | None
    tenant_plan: str | None
    own_plan: str | None
    teams: tuple[str, ...]

    @property
    def plan(self) -> str | None:
        """The plan that gives their monthly allowance."""
        return self.own_plan or self.tenant_plan


@dataclass(frozen=True)
class TeamOption:
    id: int
    name: str
    tenant: str


@dataclass(frozen=True)
class ExtraTokens:
    """An unexpired grant on someone's monthly plan allowance."""

    amount: int
    expires_at: datetime
    reason: str
    created_at: datetime


async def standings(session: AsyncSession, user_ids: Sequence[int]) -> dict[int, Standing]:
    """The standing of each of these users, by user id."""
    if not user_ids:
        return {}
    own = aliased(Plan)
    rows = (
        await session.execute(
            select(User.id, Tenant.name, Plan.name, own.name)
            .outerjoin(Tenant, Tenant.id == User.tenant_id)
            .outerjoin(Plan, Plan.id == Tenant.plan_id)
            .outerjoin(own, own.id == User.plan_id)
            .where(User.id.in_(list(user_ids)))
        )
    ).all()
    memberships = (
        await session.execute(
            select(TeamMembership.user_id, Team.name)
            .join(Team, Team.id == TeamMembership.team_id)
            .where(TeamMembership.user_id.in_(list(user_ids)), Team.archived.is_(False))
            .order_by(Team.name)
        )
    ).all()
    teams: dict[int, list[str]] = {}
    for user_id, team in memberships:
        teams.setdefault(user_id, []).append(team)
    return {
        user_id: Standing(tenant, tenant_plan, own_plan, tuple(teams.get(user_id, ())))
        for user_id, tenant, tenant_plan, own_plan in rows
    }


async def team_options(
    session: AsyncSession, *, tenant_id: int | None, team_ids: frozenset[int] | None
) -> list[TeamOption]:
    """The live teams a viewer may filter by (of their tenant, or these teams), by tenant."""
    query = (
        select(Team.id, Team.name, Tenant.name)
        .join(Tenant, Tenant.id == Team.tenant_id)
        .where(Team.archived.is_(False), Tenant.archived.is_(False))
    )
    if tenant_id is not None:
        query = query.where(Team.tenant_id == tenant_id)
    if team_ids is not None:
        query = query.where(Team.id.in_(sorted(team_ids) or [0]))
    rows = (await session.execute(query.order_by(Tenant.name, Team.name, Team.id))).all()
    return [TeamOption(*row) for row in rows]


async def extra_tokens(session: AsyncSession, *, user_id: int, now: datetime) -> list[ExtraTokens]:
    """The grants on a user's monthly plan allowance that have not expired, oldest first."""
    grants = await quota_store.list_active_grants(
        session, limit_ids=[plan_limit_id(user_id)], now=now
    )
    return [ExtraTokens(g.amount, g.expires_at, g.reason, g.created_at) for g in grants]
