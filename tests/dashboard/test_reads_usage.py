"""The rollup reads answer exactly what one query each used to, though they now share a scan."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tests.dashboard.conftest import Prepared
from tokengate.dashboard.reads import usage
from tokengate.dashboard.reads.scope import Scope, period
from tokengate.db import create_engine, create_session_factory, utcnow
from tokengate.tenancy.models import Team, TeamMembership, User
from tokengate.usage.models import UsageHourly

_TOKENS = UsageHourly.input_tokens + UsageHourly.output_tokens


async def _totals(session: AsyncSession, scope: Scope, start: datetime, end: datetime):
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
    return usage.Totals(int(row[0]), int(row[1]), int(row[2]), int(row[3]))


async def _active(session: AsyncSession, scope: Scope, start: datetime, end: datetime):
    row = (
        await session.execute(
            select(
                func.count(func.distinct(UsageHourly.user_id)),
                func.count(func.distinct(UsageHourly.model_id)),
            ).where(scope.hourly(), UsageHourly.hour >= start, UsageHourly.hour < end)
        )
    ).one()
    return int(row[0]), int(row[1])


async def _top(
    session: AsyncSession,
    scope: Scope,
    start: datetime,
    end: datetime,
    by: Literal["user", "team"],
    limit: int,
):
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
    return [usage.Ranked(int(r[0]), r[1], int(r[2]), int(r[3]), int(r[4])) for r in rows]


async def test_every_scope_and_period_gets_the_same_figures(prepared_demo: Prepared):
    engine = create_engine(f"sqlite+aiosqlite:///{prepared_demo.path}")
    now = utcnow()
    tenant = next(t.id for t in prepared_demo.summary.tenants if t.name == "서울경제신문")
    try:
        async with create_session_factory(engine)() as session:
            team = await session.scalar(select(Team.id).where(Team.tenant_id == tenant))
            assert team is not None
            members = frozenset(
                await session.scalars(
                    select(TeamMembership.user_id).where(TeamMembership.team_id == team)
                )
            )
            person = min(members)
            scopes = [
                Scope(),
                Scope(tenant_id=tenant),
                Scope(tenant_id=tenant, user_ids=members),
                Scope(tenant_id=tenant).narrowed(team_id=team),
                Scope().narrowed(user_id=person),
                Scope(tenant_id=tenant, user_ids=frozenset()),
            ]
            periods = [period(w, now, "Asia/Seoul") for w in ("day", "week", "month")]
            periods += [(now - timedelta(days=90), now), (now, now + timedelta(days=1))]
            checked = 0
            for scope in scopes:
                for start, end in periods:
                    session.info.clear()
                    expected = await _totals(session, scope, start, end)
                    assert await usage.totals(session, scope, start, end) == expected  # a sum
                    found = await usage.active_counts(session, scope, start, end)
                    assert found == await _active(session, scope, start, end)
                    # from the breakdown active_counts left in the session
                    assert await usage.totals(session, scope, start, end) == expected
                    for by in ("user", "team"):
                        for limit in (1, 5, 50):
                            got = await usage.top(session, scope, start, end, by=by, limit=limit)
                            assert got == await _top(session, scope, start, end, by, limit)
                    session.info.clear()
                    got = await usage.top(session, scope, start, end, by="team")
                    assert got == await _top(session, scope, start, end, "team", 5)
                    checked += expected.requests > 0
            assert checked >= 20  # most combinations had usage to compare
    finally:
        await engine.dispose()
