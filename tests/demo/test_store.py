from datetime import UTC, datetime

from sqlalchemy import func, select

from tests.demo.factories import migrated_engine
from tokengate.db import create_session_factory, transaction
from tokengate.demo.store import hourly_rollups, insert_usage_history
from tokengate.usage.models import UsageEvent, UsageHourly
from tokengate.usage.schemas import UsageRecord


def record(request_id: str, at: datetime, **changes: object) -> UsageRecord:
    values: dict[str, object] = {
        "request_id": request_id,
        "created_at": at,
        "tenant_id": 1,
        "team_id": 2,
        "user_id": 3,
        "key_id": 4,
        "model_id": 5,
        "model": "C1",
        "endpoint": "chat.completions",
        "stream": True,
        "input_tokens": 100,
        "output_tokens": 200,
        "cached_tokens": 10,
        "cost_micros": 7,
        "latency_ms": 1_000,
        "ttft_ms": 300,
        "status": "ok",
        "http_status": 200,
        "error_code": None,
        "estimated": False,
    }
    return UsageRecord.model_validate(values | changes)


RECORDS = [
    record("a", datetime(2025, 3, 1, 9, 5, tzinfo=UTC)),
    record("b", datetime(2025, 3, 1, 9, 59, 59, tzinfo=UTC)),
    record(
        "c",
        datetime(2025, 3, 1, 9, 30, tzinfo=UTC),
        status="upstream_error",
        input_tokens=0,
        output_tokens=0,
        cached_tokens=0,
        cost_micros=0,
        latency_ms=500,
    ),
    record("d", datetime(2025, 3, 1, 10, 0, tzinfo=UTC)),
    record("e", datetime(2025, 3, 1, 9, 10, tzinfo=UTC), team_id=None, model_id=None),
]


def test_rollups_group_by_hour_and_owner():
    rows = {(r["hour"], r["team_id"], r["model_id"]): r for r in hourly_rollups(RECORDS)}
    nine, ten = datetime(2025, 3, 1, 9, tzinfo=UTC), datetime(2025, 3, 1, 10, tzinfo=UTC)
    assert set(rows) == {(nine, 2, 5), (ten, 2, 5), (nine, 0, 0)}
    busy = rows[nine, 2, 5]
    assert (busy["requests"], busy["errors"]) == (3, 1)
    assert (busy["input_tokens"], busy["output_tokens"], busy["cached_tokens"]) == (200, 400, 20)
    assert (busy["cost_micros"], busy["latency_ms_sum"]) == (14, 2_500)
    assert rows[ten, 2, 5]["requests"] == 1


async def test_insert_usage_history(tmp_path):
    engine = await migrated_engine(tmp_path / "store.db")
    try:
        sessions = create_session_factory(engine)
        async with transaction(sessions) as session:
            counts = await insert_usage_history(session, records=RECORDS)
        assert counts == (5, 3)
        async with sessions() as session:
            events = await session.scalar(select(func.count()).select_from(UsageEvent))
            hourly = await session.scalar(select(func.sum(UsageHourly.requests)))
            ids = await session.scalars(select(UsageEvent.request_id).order_by(UsageEvent.id))
            assert (events, hourly) == (5, 5)
            assert list(ids) == ["a", "b", "c", "d", "e"]
    finally:
        await engine.dispose()
