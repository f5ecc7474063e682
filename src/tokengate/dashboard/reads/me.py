"""One person's own numbers: tokens per day in their timezone, and when each key was last used."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.usage.models import UsageEvent, UsageHourly


@dataclass(frozen=True)
class Day:
    """One local calendar day of a person's usage."""

    day: date
    requests: int
    tokens: int
    cost_micros: int


async def daily_usage(
    session: AsyncSession, *, user_id: int, days: int, now: datetime, timezone: str
) -> list[Day]:
    """The last ``days`` local days up to today (oldest first, days without usage included)."""
    zone = ZoneInfo(timezone)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    start = datetime.combine(first, datetime.min.time(), tzinfo=zone)
    rows = (
        await session.execute(
            select(
                UsageHourly.hour,
                func.sum(UsageHourly.requests),
                func.sum(UsageHourly.input_tokens + UsageHourly.output_tokens),
                func.sum(UsageHourly.cost_micros),
            )
            .where(UsageHourly.user_id == user_id, UsageHourly.hour >= start)
            .group_by(UsageHourly.hour)
        )
    ).all()
    sums: dict[date, list[int]] = defaultdict(lambda: [0, 0, 0])
    for hour, requests, tokens, cost in rows:
        # the rollups are hourly in UTC: each hour falls on one local day
        local = hour.astimezone(zone).date()
        totals = sums[local]
        totals[0] += int(requests or 0)
        totals[1] += int(tokens or 0)
        totals[2] += int(cost or 0)
    return [
        Day(first + timedelta(days=n), *sums.get(first + timedelta(days=n), [0, 0, 0]))
        for n in range(days)
    ]


async def last_used(session: AsyncSession, *, user_id: int) -> dict[int, datetime]:
    """When each of the person's keys last made a request, by key id."""
    rows = (
        await session.execute(
            select(UsageEvent.key_id, func.max(UsageEvent.created_at))
            .where(UsageEvent.user_id == user_id)
            .group_by(UsageEvent.key_id)
        )
    ).all()
    return {int(key_id): moment for key_id, moment in rows if moment is not None}
