"""Sums of the hourly rollups: totals, rankings (what overview and monitoring show)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.dashboard.reads.scope import Scope
from tokengate.tenancy.models import Team, User
from tokengate.usage.models import UsageHourly

_TOKENS = UsageHourly.input_tokens + UsageHourly.output_tokens


@dataclass(frozen=True)
class Totals:
    requests: int
    tokens: int
    cost_micros: int
    errors: int = 0


@dataclass(frozen=True)
class Ranked:
    id: int
    name: str
    requests: int
    tokens: int
    cost_micros: int


async def totals(session: AsyncSession, scope: Scope, start: datetime, end: datetime) -> Totals:
    """Requests, tokens and cost in [start, end)."""
    row = (
        await session.execute(
            select(
                func.coalesce(func.sum(UsageHourly.requests), 0),
                func.coalesce(func.sum(_TOKENS), 0),
                func.coalesce(func.sum(UsageHourly.cost_micros), 0),
                func.coalesce(func.sum(UsageHourly.errors), 0),
            ).where(scope.hourly(), UsageHourly.hour >= start, UsageHourly.hour < end)
        )
    ).one()
    return Totals(int(row[0]), int(row[1]), int(row[2]), int(row[3]))


async def active_counts(
    session: AsyncSession, scope: Scope, start: datetime, end: datetime
) -> tuple[int, int]:
    """How many users made a request, and how many models were used, in [start, end)."""
    row = (
        await session.execute(
            select(
                func.count(func.distinct(UsageHourly.user_id)),
                func.count(func.distinct(UsageHourly.model_id)),
            ).where(scope.hourly(), UsageHourly.hour >= start, UsageHourly.hour < end)
        )
    ).one()
    return int(row[0]), int(row[1])


async def top(
    session: AsyncSession,
    scope: Scope,
    start: datetime,
    end: datetime,
    *,
    by: Literal["user", "team"],
    limit: int = 5,
) -> list[Ranked]:
    """The users or teams that used the most tokens in [start, end), most first."""
    column = UsageHourly.user_id if by == "user" else UsageHourly.team_id
    tokens = func.sum(_TOKENS).label("tokens")
    sums = (
        select(
            column.label("id"),
            func.sum(UsageHourly.requests).label("requests"),
            tokens,
            func.sum(UsageHourly.cost_micros).label("cost"),
        )
        .where(scope.hourly(), UsageHourly.hour >= start, UsageHourly.hour < end, column != 0)
        .group_by(column)
        .order_by(tokens.desc(), column)
        .limit(limit)
        .subquery()
    )
    names = User if by == "user" else Team
    rows = (
        await session.execute(
            select(sums.c.id, names.name, sums.c.requests, sums.c.tokens, sums.c.cost)
            .join(names, names.id == sums.c.id)
            .order_by(sums.c.tokens.desc(), sums.c.id)
        )
    ).all()
    return [Ranked(int(r[0]), r[1], int(r[2]), int(r[3]), int(r[4])) for r in rows]
