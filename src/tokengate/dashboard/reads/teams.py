"""The people of teams, by name: a team's roster and the leaders of a list of teams."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import case, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.tenancy.models import TeamMembership, User


@dataclass(frozen=True)
class Member:
    user_id: int
    name: str
    email: str
    role: str
    status: str


async def members(session: AsyncSession, team_id: int) -> list[Member]:
    """A team's members with their team role, leaders first, then by name."""
    leaders_first = case((TeamMembership.role == "leader", 0), else_=1)
    rows = await session.execute(
        select(User.id, User.name, User.email, TeamMembership.role, User.status)
        .join(TeamMembership, TeamMembership.user_id == User.id)
        .where(TeamMembership.team_id == team_id)
        .order_by(leaders_first, User.name, User.id)
    )
    return [Member(*row) for row in rows.all()]


async def leaders(session: AsyncSession, team_ids: Collection[int]) -> dict[int, list[str]]:
    """The names of each team's leaders, by name."""
    if not team_ids:
        return {}
    rows = await session.execute(
        select(TeamMembership.team_id, User.name)
        .join(User, User.id == TeamMembership.user_id)
        .where(TeamMembership.team_id.in_(sorted(team_ids)), TeamMembership.role == "leader")
        .order_by(User.name, User.id)
    )
    found: dict[int, list[str]] = {team_id: [] for team_id in team_ids}
    for team_id, name in rows.all():
        found[int(team_id)].append(name)
    return found
