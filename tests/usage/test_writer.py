from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select

from tests.conftest import run_sync
from tokengate.db import create_engine, create_session_factory
from tokengate.errors import UsageNotRecorded
from tokengate.migrate import upgrade_database
from tokengate.usage.models import UsageEvent, UsageHourly
from tokengate.usage.schemas import UsageRecord
from tokengate.usage.writer import UsageWriter

AT = datetime(2026, 11, 2, 10, 30, tzinfo=UTC)


def record(n: int, *, minutes: int = 0) -> UsageRecord:
    return UsageRecord(
        request_id=f"req-{n}",
        created_at=AT - timedelta(minutes=minutes),
        tenant_id=1,
        team_id=None,
        user_id=1 + n % 2,
        key_id=1,
        model_id=1,
        model="C1",
        endpoint="chat.completions",
        stream=False,
        input_tokens=10,
        output_tokens=n,
        cached_tokens=0,
        cost_micros=3,
        latency_ms=5,
        ttft_ms=None,
        status="ok",
        http_status=200,
        error_code=None,
        estimated=False,
    )


async def test_concurrent_writes_share_batches_and_rollups_add_up(any_database_url: str) -> None:
    engine = create_engine(any_database_url)
    writer = UsageWriter(create_session_factory(engine))
    writer.start()
    try:
        await asyncio.gather(*(writer.write(record(n)) for n in range(200)))
        assert writer.batches < 50
        async with create_session_factory(engine)() as session:
            events = await session.scalar(select(func.count()).select_from(UsageEvent))
            output = await session.scalar(select(func.sum(UsageHourly.output_tokens)))
            requests = await session.scalar(select(func.sum(UsageHourly.requests)))
        assert (events, output, requests) == (200, sum(range(200)), 200)
        # a second batch adds to the same hour's rollup rows (ON CONFLICT … DO UPDATE)
        await asyncio.gather(*(writer.write(record(n + 1000)) for n in range(10)))
        async with create_session_factory(engine)() as session:
            rows = await session.scalar(select(func.count()).select_from(UsageHourly))
            requests = await session.scalar(select(func.sum(UsageHourly.requests)))
        assert (rows, requests) == (2, 210)
    finally:
        await writer.stop()
        await engine.dispose()


async def test_a_failing_database_fails_the_waiting_requests(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite+aiosqlite:///{tmp_path / 'empty.db'}")  # never migrated
    writer = UsageWriter(create_session_factory(engine), retry_delays=(0.01, 0.01))
    writer.start()
    try:
        with pytest.raises(UsageNotRecorded):
            await writer.write(record(1))
    finally:
        await writer.stop()
        await engine.dispose()


async def test_a_batch_is_retried_until_the_database_is_back(tmp_path: Path) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path / 'late.db'}"
    engine = create_engine(url)
    writer = UsageWriter(create_session_factory(engine), retry_delays=(0.3, 0.3, 0.3))
    writer.start()
    try:
        pending = asyncio.create_task(writer.write(record(7)))
        await asyncio.sleep(0.1)
        assert not pending.done()
        await asyncio.to_thread(run_sync, lambda: upgrade_database(url))
        await asyncio.wait_for(pending, timeout=5)
        async with create_session_factory(engine)() as session:
            assert await session.scalar(select(func.count()).select_from(UsageEvent)) == 1
    finally:
        await writer.stop()
        await engine.dispose()
