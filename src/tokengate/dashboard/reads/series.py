"""Usage over time: the hourly rollups summed per hour in SQL, then spread over contiguous
buckets (hours, or local days, weeks from Monday, months) in the viewer's timezone.

Only ``usage_hourly`` is read, filtered by the viewer's scope and the hour range, so the
``(tenant_id, hour)`` and ``(user_id, hour)`` indexes (or the primary key, which starts with
the hour) answer it; the database returns at most one row per hour of the range.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.dashboard.reads.scope import Scope
from tokengate.ledger.windows import local_midnight, next_period, period_start
from tokengate.usage.models import UsageHourly

Bucket = Literal["hour", "day", "week", "month"]
Metric = Literal["tokens", "requests", "cost"]
BUCKETS: tuple[Bucket, ...] = ("hour", "day", "week", "month")
METRICS: tuple[Metric, ...] = ("tokens", "requests", "cost")
# roughly how many hours one bucket spans, to count buckets before building them
BUCKET_HOURS: dict[Bucket, float] = {"hour": 1, "day": 24, "week": 168, "month": 730.5}
_HOUR = timedelta(hours=1)


@dataclass(frozen=True)
class Grid:
    """Contiguous buckets: ``edges[i]`` to ``edges[i + 1]`` is bucket i (UTC instants)."""

    bucket: Bucket
    edges: tuple[datetime, ...]

    @property
    def start(self) -> datetime:
        return self.edges[0]

    @property
    def end(self) -> datetime:
        return self.edges[-1]

    @property
    def starts(self) -> tuple[datetime, ...]:
        return self.edges[:-1]

    def __len__(self) -> int:
        return len(self.edges) - 1

    def index_of(self, moment: datetime) -> int | None:
        """The bucket holding ``moment``, or None outside the grid."""
        index = bisect_right(self.edges, moment) - 1
        return index if 0 <= index < len(self) else None


def estimate(start: datetime, end: datetime, bucket: Bucket) -> int:
    """About how many buckets cover [start, end) (to refuse or coarsen before building them)."""
    return int((end - start) / _HOUR / BUCKET_HOURS[bucket]) + 1


def grid(start: datetime, end: datetime, bucket: Bucket, tz: ZoneInfo) -> Grid:
    """The buckets covering [start, end): the first holds ``start``, the last ends at or after
    ``end``."""
    edges = [floor(start, bucket, tz)]
    while len(edges) == 1 or edges[-1] < end:
        edges.append(shift(edges[-1], bucket, tz, 1))
    return Grid(bucket, tuple(edges))


def previous(current: Grid, tz: ZoneInfo) -> Grid:
    """As many buckets again, ending where ``current`` starts: the period before."""
    edges = [current.start]
    for _ in range(len(current)):
        edges.append(shift(edges[-1], current.bucket, tz, -1))
    return Grid(current.bucket, tuple(reversed(edges)))


def floor(moment: datetime, bucket: Bucket, tz: ZoneInfo) -> datetime:
    """The start of the bucket holding ``moment`` (a UTC hour, or a local day/week/month)."""
    if bucket == "hour":
        return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    first = period_start(bucket, moment.astimezone(tz).date())
    start = local_midnight(first, tz)
    # just after a clock change the local date can name the bucket that has not begun
    return start if start <= moment else local_midnight(_back(bucket, first), tz)


def shift(edge: datetime, bucket: Bucket, tz: ZoneInfo, count: int) -> datetime:
    """The bucket start ``count`` buckets after (or, negative, before) the start ``edge``."""
    if bucket == "hour":
        return edge + count * _HOUR
    first = period_start(bucket, edge.astimezone(tz).date())
    for _ in range(abs(count)):
        first = next_period(bucket, first) if count > 0 else _back(bucket, first)
    return local_midnight(first, tz)


def _back(bucket: Bucket, first: date) -> date:
    if bucket == "day":
        return first - timedelta(days=1)
    if bucket == "week":
        return first - timedelta(days=7)
    index = first.year * 12 + first.month - 2
    return date(index // 12, index % 12 + 1, 1)


def spread(rows: Iterable[tuple[datetime, int]], over: Grid) -> list[int]:
    """Hourly sums added into their buckets; a bucket without rows is 0 (never interpolated)."""
    values = [0] * len(over)
    for hour, value in rows:
        index = over.index_of(hour)
        if index is not None:
            values[index] += value
    return values


def metric_column(metric: Metric) -> ColumnElement[int]:
    if metric == "tokens":
        return UsageHourly.input_tokens + UsageHourly.output_tokens
    column = UsageHourly.requests if metric == "requests" else UsageHourly.cost_micros
    return column.expression


async def hourly(
    session: AsyncSession, scope: Scope, start: datetime, end: datetime, metric: Metric
) -> Sequence[tuple[datetime, int]]:
    """The metric summed per rollup hour in [start, end) (cost in micro-units), hours without
    usage left out."""
    total = func.sum(metric_column(metric))
    rows = (
        await session.execute(
            select(UsageHourly.hour, total)
            .where(scope.hourly(), UsageHourly.hour >= start, UsageHourly.hour < end)
            .group_by(UsageHourly.hour)
        )
    ).all()
    return [(row[0], int(row[1] or 0)) for row in rows]
