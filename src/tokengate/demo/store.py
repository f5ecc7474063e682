from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.usage.models import UsageEvent, UsageHourly
from tokengate.usage.schemas import UsageRecord

_BATCH = 5_000
_RollupKey = tuple[datetime, int, int, int, int, int]
_SUMS = (
    "requests",
    "errors",
    "input_tokens",
    "output_tokens",
    "cached_tokens",
    "cost_micros",
    "latency_ms_sum",
)


async def insert_usage_history(
    session: AsyncSession, *, records: Sequence[UsageRecord]
) -> tuple[int, int]:
    """Insert usage events and their hourly rollups (for keys with no usage yet) in bulk.

    Return how many events and rollup rows were inserted.
    """
    events = [record.model_dump() for record in records]
    rollups = hourly_rollups(records)
    # Core executemany on the session's connection: one driver call per batch, no ORM bookkeeping
    connection = await session.connection()
    for start in range(0, len(events), _BATCH):
        await connection.execute(insert(UsageEvent), events[start : start + _BATCH])
    for start in range(0, len(rollups), _BATCH):
        await connection.execute(insert(UsageHourly), rollups[start : start + _BATCH])
    return len(events), len(rollups)


def hourly_rollups(records: Sequence[UsageRecord]) -> list[dict[str, object]]:
    """Sum events into rows of usage_hourly, exactly as record_usage adds them one by one."""
    sums: defaultdict[_RollupKey, list[int]] = defaultdict(lambda: [0] * len(_SUMS))
    for record in records:
        at = record.created_at.astimezone(UTC)
        key = (
            at.replace(minute=0, second=0, microsecond=0),
            record.tenant_id,
            record.team_id or 0,
            record.user_id,
            record.key_id,
            record.model_id or 0,
        )
        row = sums[key]
        row[0] += 1
        row[1] += record.status != "ok"
        row[2] += record.input_tokens
        row[3] += record.output_tokens
        row[4] += record.cached_tokens
        row[5] += record.cost_micros
        row[6] += record.latency_ms
    return [
        {
            "hour": hour,
            "tenant_id": tenant_id,
            "team_id": team_id,
            "user_id": user_id,
            "key_id": key_id,
            "model_id": model_id,
            **dict(zip(_SUMS, row, strict=True)),
        }
        for (hour, tenant_id, team_id, user_id, key_id, model_id), row in sums.items()
    ]
