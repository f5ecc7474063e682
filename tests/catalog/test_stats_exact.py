"""A model's statistics stay exact though they are no longer read by sorting every request:
the latency percentile against a plain nearest-rank, the sums against the events."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest

from tokengate.catalog import store
from tokengate.db import create_engine, create_session_factory, transaction
from tokengate.usage import service as usage
from tokengate.usage.schemas import UsageRecord

START = datetime(2026, 3, 1, tzinfo=UTC)


def _record(n: int, rng: random.Random) -> UsageRecord:
    # latencies on and around the 100 ms buckets' edges, repeated values, a long tail
    latency = rng.choice([0, 99, 100, 101, 199, 200, 1_000, rng.randint(0, 5_000)])
    latency += rng.choice([0, 0, 0, rng.randint(0, 120_000)])
    return UsageRecord(
        request_id=f"req_{n}",
        created_at=START + timedelta(minutes=7 * n),
        tenant_id=1 + n % 2,
        team_id=None,
        user_id=10 + n % 5,
        key_id=1,
        model_id=1 + (n % 7 == 0),
        model="C1",
        endpoint="chat",
        stream=False,
        input_tokens=n,
        output_tokens=2 * n,
        cached_tokens=n % 3,
        cost_micros=n * 11,
        latency_ms=latency,
        ttft_ms=None,
        status="ok" if n % 13 else "upstream_error",
        http_status=200,
        error_code=None,
        estimated=False,
    )


async def test_percentiles_and_sums_match_the_plain_definitions(any_database_url: str) -> None:
    rng = random.Random(7)
    records = [_record(n, rng) for n in range(1, 700)]
    engine = create_engine(any_database_url)
    sessions = create_session_factory(engine)
    try:
        async with transaction(sessions) as session:
            await usage.record_usages(session=session, records=records)
        windows = [
            (None, None, None, None),
            (START + timedelta(hours=5), START + timedelta(hours=40), None, None),
            (None, START + timedelta(hours=60), 2, None),
            (START + timedelta(hours=3), None, None, frozenset({10, 12})),
            (START + timedelta(days=400), None, None, None),  # nothing
        ]
        async with sessions() as session:
            for since, until, tenant, people in windows:
                chosen = [
                    r
                    for r in records
                    if r.model_id == 1
                    and (since is None or r.created_at >= since)
                    and (until is None or r.created_at < until)
                    and (tenant is None or r.tenant_id == tenant)
                    and (people is None or r.user_id in people)
                ]
                latencies = sorted(r.latency_ms for r in chosen)
                for fraction in (0.01, 0.5, 0.95, 0.99, 1.0):
                    expected = (
                        latencies[math.ceil(fraction * len(latencies)) - 1] if latencies else None
                    )
                    found = await store.latency_percentile(
                        session,
                        model_id=1,
                        since=since,
                        until=until,
                        tenant_id=tenant,
                        user_ids=people,
                        fraction=fraction,
                    )
                    assert found == expected, (since, until, tenant, people, fraction)
                # the rollups hold whole hours; these windows start and end on the hour
                sums = await store.sum_usage(
                    session, model_id=1, since=since, until=until, tenant_id=tenant, user_ids=people
                )
                assert sums == (
                    len(chosen),
                    sum(r.status != "ok" for r in chosen),
                    sum(r.input_tokens for r in chosen),
                    sum(r.output_tokens for r in chosen),
                    sum(r.cached_tokens for r in chosen),
                    sum(r.cost_micros for r in chosen),
                    sum(r.latency_ms for r in chosen),
                    len({r.user_id for r in chosen}),
                )
    finally:
        await engine.dispose()


@pytest.mark.parametrize("fraction", [0.0001, 1.0])
async def test_the_extremes_are_the_smallest_and_largest(any_database_url: str, fraction: float):
    engine = create_engine(any_database_url)
    sessions = create_session_factory(engine)
    rng = random.Random(3)
    records = [_record(n, rng) for n in range(1, 60)]
    try:
        async with transaction(sessions) as session:
            await usage.record_usages(session=session, records=records)
        async with sessions() as session:
            found = await store.latency_percentile(
                session,
                model_id=1,
                since=None,
                until=None,
                tenant_id=None,
                user_ids=None,
                fraction=fraction,
            )
        mine = [r.latency_ms for r in records if r.model_id == 1]
        assert found == (min(mine) if fraction < 0.01 else max(mine))
    finally:
        await engine.dispose()
