"""The dashboard benchmark's data: the seed demo, more tenants and people, and millions of
usage events written by PostgreSQL itself (``INSERT … SELECT`` over ``generate_series``).

Events are spread over the last ``days`` days hour by hour, more on weekday office hours
(Korean time) than at night or at weekends, and growing over the period; each hour's events
are drawn from a skewed mix of keys (a few heavy users, a long tail), models and outcomes.
Their ids grow with their time, as the gateway's would. The hourly rollups are then summed
from the events in one ``INSERT … SELECT … GROUP BY`` and checked against them.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.db import create_engine, create_session_factory, transaction
from tokengate.demo.data import DEMO_TIMEZONE
from tokengate.demo.run import DEMO_SECRET_KEY, demo_settings, prepare_demo
from tokengate.keys import service as keys
from tokengate.keys.schemas import KeyCreate
from tokengate.ledger.setup import open_ledger
from tokengate.migrate import upgrade_database
from tokengate.quotas import service as quotas
from tokengate.quotas.reconcile import reconcile
from tokengate.quotas.schemas import LimitCreate
from tokengate.settings import Settings
from tokengate.tenancy import service as tenancy
from tokengate.tenancy.schemas import (
    MembershipCreate,
    PlanCreate,
    TeamCreate,
    TenantCreate,
    UserCreate,
)

MARKER_TABLE = "tokengate_bench_seed"
CHUNK_EVENTS = 1_000_000
# placeholder upstream: the benchmark only reads, no request reaches a model
UPSTREAM = "http://127.0.0.1:9/v1"
BENCH_PLANS = (
    PlanCreate(
        name="Bench Enterprise",
        monthly_token_limit=50_000_000,
        allowed_models=["C1", "C2", "C7"],
        max_users=2_000,
    ),
    PlanCreate(
        name="Bench Pro",
        monthly_token_limit=20_000_000,
        allowed_models=["C1", "C7"],
        max_users=2_000,
    ),
    PlanCreate(
        name="Bench Basic", monthly_token_limit=5_000_000, allowed_models=["C1"], max_users=2_000
    ),
)
# weight of each local hour of a weekday: office hours in Seoul, a lunch dip, quiet nights
HOUR_WEIGHTS = (
    (0.05,) * 7 + (0.2, 0.5, 1.0, 1.3, 1.3, 0.8) + (1.2,) * 5 + (0.8, 0.4, 0.4, 0.4, 0.15, 0.1)
)
WEEKEND_FACTOR = 0.25
GROWTH = 0.5  # the last hour is this much busier than the first: usage grows


@dataclass(frozen=True)
class Shape:
    """How big the data set is."""

    events: int = 10_000_000
    tenants: int = 20
    teams: int = 200
    users: int = 2_000
    days: int = 90


def tenant_sizes(users: int, tenants: int) -> list[int]:
    """Split ``users`` over ``tenants``, largest first (a long tail), each at least 2."""
    if tenants < 1 or users < 2 * tenants:
        raise ValueError("need at least one tenant and two users per tenant")
    weights = [1 / (rank + 1) ** 0.8 for rank in range(tenants)]
    spare = users - 2 * tenants
    sizes = [2 + int(spare * w / sum(weights)) for w in weights]
    for rank in range(users - sum(sizes)):
        sizes[rank % tenants] += 1
    return sizes


def team_counts(teams: int, sizes: Sequence[int]) -> list[int]:
    """Split ``teams`` over tenants in proportion to their people, at least one each and
    never more teams than people."""
    counts = [max(1, min(size, round(teams * size / sum(sizes)))) for size in sizes]
    while sum(counts) > teams and max(counts) > 1:
        counts[counts.index(max(counts))] -= 1
    return counts


def hourly_counts(
    *, events: int, start: datetime, end: datetime, tz: ZoneInfo
) -> list[tuple[datetime, float, int]]:
    """The hours of [start, end) — start whole, end possibly mid-hour — each with the share of
    it inside the range and how many events it gets; the counts add up to ``events``."""
    hours: list[tuple[datetime, float, float]] = []
    at = start
    total_hours = (end - start) / timedelta(hours=1)
    while at < end:
        share = min(1.0, (end - at) / timedelta(hours=1))
        local = at.astimezone(tz)
        weight = HOUR_WEIGHTS[local.hour] * (WEEKEND_FACTOR if local.weekday() >= 5 else 1.0)
        weight *= 1 + GROWTH * ((at - start) / timedelta(hours=1)) / total_hours
        hours.append((at, share, weight * share))
        at += timedelta(hours=1)
    whole = sum(w for _, _, w in hours)
    exact = [events * w / whole for _, _, w in hours]
    counts = [int(x) for x in exact]
    # largest remainders get the events rounding left over
    by_remainder = sorted(range(len(exact)), key=lambda i: counts[i] - exact[i])
    for i in by_remainder[: events - sum(counts)]:
        counts[i] += 1
    return [(at, share, n) for (at, share, _), n in zip(hours, counts, strict=True)]


def plain_url(url: str) -> str:
    """The asyncpg address of a SQLAlchemy PostgreSQL URL."""
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


async def ensure_database(url: str, *, fresh: bool) -> None:
    """Create the benchmark's database when missing; drop and re-create it when ``fresh``."""
    server, name = url.rsplit("/", 1)
    if name in ("test", "postgres", "template0", "template1"):
        raise SystemExit(f"bench: refusing to use the database {name!r}: pick a dedicated one")
    admin = await asyncpg.connect(plain_url(f"{server}/postgres"))
    try:
        exists = await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if exists and fresh:
            await admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        if not exists or fresh:
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()


async def seeded_events(url: str) -> int | None:
    """How many events the last complete seeding wrote, or None when there was none."""
    connection = await asyncpg.connect(plain_url(url))
    try:
        if await connection.fetchval("SELECT to_regclass($1)", MARKER_TABLE) is None:
            return None
        value = await connection.fetchval(f"SELECT events FROM {MARKER_TABLE}")  # noqa: S608
        return None if value is None else int(value)
    finally:
        await connection.close()


def bench_settings(url: str) -> Settings:
    """The settings the seeding and the server share (the demo's fixed secret key)."""
    return demo_settings(host="127.0.0.1", port=None).model_copy(
        update={
            "database_url": url,
            "secret_keys": SecretStr(DEMO_SECRET_KEY),
            "ledger": "sql",
            "demo": False,
        }
    )


def say(message: str) -> None:
    """Progress, on stderr."""
    sys.stderr.write(f"bench: {message}\n")


async def seed(url: str, shape: Shape, *, now: datetime) -> None:
    """Fill a fresh database: schema, demo, more people, events, rollups, ledger, marker."""
    began = time.perf_counter()
    await asyncio.to_thread(upgrade_database, url)
    settings = bench_settings(url)
    await prepare_demo(settings, mock_base_url=UPSTREAM)
    say(f"schema and demo ready ({time.perf_counter() - began:.0f} s)")
    await _add_people(url, shape)
    say(
        f"{shape.tenants} tenants, {shape.users} people ready ({time.perf_counter() - began:.0f} s)"
    )
    connection = await asyncpg.connect(plain_url(url))
    try:
        await _tune(connection)
        await _write_events(connection, shape, now=now)
        say(f"{shape.events:,} events written ({time.perf_counter() - began:.0f} s)")
        await _write_rollups(connection)
        await check_rollups(connection)
        say(f"rollups summed and checked ({time.perf_counter() - began:.0f} s)")
        for table in ("usage_events", "usage_hourly"):
            await connection.execute(f"VACUUM (ANALYZE) {table}")
    finally:
        await connection.close()
    await _reconcile(settings, now=now)
    await _mark(url, shape, now=now)
    say(f"seeded in {time.perf_counter() - began:.0f} s")


async def _add_people(url: str, shape: Shape) -> None:
    """Bench tenants (largest first) with teams, people (the first of each an administrator,
    the first of each team its leader), one key each (every tenth person two) and a few
    limits, through the same services the API uses."""
    engine = create_engine(url)
    sessions = create_session_factory(engine)
    sizes = tenant_sizes(shape.users, shape.tenants)
    try:
        async with transaction(sessions) as session:
            for plan in BENCH_PLANS:
                await tenancy.create_plan(session=session, data=plan)
            person = 0
            for rank, (size, team_count) in enumerate(
                zip(sizes, team_counts(shape.teams, sizes), strict=True)
            ):
                plan_name = BENCH_PLANS[rank % len(BENCH_PLANS)].name
                name = f"벤치 언론사 {rank + 1:02d}"
                tenant = await tenancy.create_tenant(
                    session=session, data=TenantCreate(name=name, plan=plan_name)
                )
                teams = [
                    await tenancy.create_team(
                        session=session,
                        data=TeamCreate(tenant_id=tenant.id, name=f"{name} 부서 {t + 1:02d}"),
                    )
                    for t in range(team_count)
                ]
                for n in range(size):
                    person += 1
                    user = await tenancy.create_user(
                        session=session,
                        data=UserCreate(
                            tenant_id=tenant.id,
                            email=f"user{person:05d}@bench{rank + 1:02d}.demo",
                            name=f"기자 {person:05d}",
                            roles=["tenant_admin" if n == 0 else "member"],
                        ),
                    )
                    team = teams[n % team_count]
                    role = "leader" if n < team_count else "member"
                    await tenancy.add_team_member(
                        session=session,
                        team_id=team.id,
                        data=MembershipCreate(user_id=user.id, role=role),
                    )
                    for k in range(2 if person % 10 == 0 else 1):
                        data = KeyCreate(user_id=user.id, team_id=team.id, name=f"키 {k + 1}")
                        await keys.issue_key(session=session, data=data)
                await _add_limits(session, tenant_id=tenant.id, team_ids=[t.id for t in teams])
    finally:
        await engine.dispose()


async def _add_limits(session: AsyncSession, *, tenant_id: int, team_ids: list[int]) -> None:
    """A tenant's monthly cost alert and rate limit, and monthly token alerts on three teams."""
    limits = [
        LimitCreate(
            scope="tenant",
            scope_id=tenant_id,
            metric="cost",
            window="month",
            amount=50_000_000_000,
            mode="alert_only",
        ),
        LimitCreate(
            scope="tenant", scope_id=tenant_id, metric="requests", window="minute", amount=100_000
        ),
    ]
    limits += [
        LimitCreate(
            scope="team",
            scope_id=team_id,
            metric="tokens",
            window="month",
            amount=2_000_000_000,
            mode="alert_only",
        )
        for team_id in team_ids[:3]
    ]
    for data in limits:
        await quotas.create_limit(session=session, data=data)


async def _tune(connection: asyncpg.Connection) -> None:
    # this session only: a bulk load, rebuilt indexes and one big GROUP BY
    for setting in (
        "SET TIME ZONE 'UTC'",
        "SET synchronous_commit = off",
        "SET work_mem = '512MB'",
        "SET maintenance_work_mem = '1GB'",
    ):
        await connection.execute(setting)


_SLOTS = """
CREATE TEMP TABLE bench_slots AS
SELECT (row_number() OVER (ORDER BY md5(k.id::text)) - 1)::int AS slot,
       k.tenant_id, k.team_id, k.user_id, k.id AS key_id,
       json_array_length(p.allowed_models::json) AS models
FROM api_keys k
JOIN tenants t ON t.id = k.tenant_id
JOIN plans p ON p.id = t.plan_id
WHERE p.name LIKE 'Bench %'
"""
_MODELS = """
CREATE TEMP TABLE bench_models AS
SELECT (CASE name WHEN 'C1' THEN 0 WHEN 'C7' THEN 1 ELSE 2 END) AS idx, id, name,
       input_price, output_price, cached_input_price,
       (CASE name WHEN 'C1' THEN 300 WHEN 'C7' THEN 3000 ELSE 1500 END) AS in_lo,
       (CASE name WHEN 'C1' THEN 1700 WHEN 'C7' THEN 9000 ELSE 4500 END) AS in_span,
       (CASE name WHEN 'C1' THEN 500 WHEN 'C7' THEN 1500 ELSE 800 END) AS out_lo,
       (CASE name WHEN 'C1' THEN 2000 WHEN 'C7' THEN 2500 ELSE 2200 END) AS out_span,
       (CASE name WHEN 'C1' THEN 90 WHEN 'C7' THEN 40 ELSE 60 END) AS tps
FROM models WHERE name IN ('C1', 'C2', 'C7')
"""
# one row per event: its hour's start and share, then draws for key, model, sizes, outcome
# (failures carry no tokens); ORDER BY g keeps the ids in time order
_EVENTS = """
INSERT INTO usage_events (
    request_id, created_at, tenant_id, team_id, user_id, key_id, model_id, model, endpoint,
    stream, input_tokens, output_tokens, cached_tokens, cache_write_tokens, reasoning_tokens,
    cost_micros, latency_ms, ttft_ms, status, http_status, error_code, estimated, overage)
SELECT 'bench_' || e.g, e.at, e.tenant_id, e.team_id, e.user_id, e.key_id, e.model_id, e.model,
       'chat.completions', e.stream, e.input_tokens, e.output_tokens, e.cached, 0, 0,
       ((e.input_tokens - e.cached) * e.input_price + e.cached * e.cached_input_price
        + e.output_tokens * e.output_price + 500000) / 1000000,
       CASE WHEN e.status = 'ok' THEN e.ttft + (e.output_tokens * 1000 / e.tps)::int
            ELSE 300 + e.ttft * 7 END,
       CASE WHEN e.status = 'ok' AND e.stream THEN e.ttft END,
       e.status,
       CASE e.status WHEN 'ok' THEN 200 WHEN 'timeout' THEN 504 ELSE 502 END,
       CASE e.status WHEN 'ok' THEN NULL WHEN 'timeout' THEN 'upstream_timeout'
            ELSE 'upstream_unavailable' END,
       false, false
FROM (
    SELECT x.g, x.at, s.tenant_id, s.team_id, s.user_id, s.key_id, m.id AS model_id,
           m.name AS model, m.input_price, m.output_price, m.cached_input_price, m.tps,
           x.r_stream < 0.85 AS stream, 250 + (x.r_lat * 950)::int AS ttft,
           CASE WHEN x.r_status < 0.010 THEN 'upstream_error'
                WHEN x.r_status < 0.013 THEN 'timeout' ELSE 'ok' END AS status,
           CASE WHEN x.r_status >= 0.013 THEN m.in_lo + (power(x.r_in, 2) * m.in_span)::int
                ELSE 0 END AS input_tokens,
           CASE WHEN x.r_status >= 0.013 THEN m.out_lo + (power(x.r_out, 2) * m.out_span)::int
                ELSE 0 END AS output_tokens,
           CASE WHEN x.r_status >= 0.013 AND x.r_cache < 0.35
                THEN least(m.in_lo, 512 * (1 + (x.r_cache * 12)::int)) ELSE 0 END AS cached
    FROM (
        SELECT g, h.at + ((g - h.first + random()) / h.n) * h.share * interval '1 hour' AS at,
               floor($3::int * power(random(), 2.2))::int AS pick,
               random() AS r_model, random() AS r_in, random() AS r_out, random() AS r_cache,
               random() AS r_status, random() AS r_lat, random() AS r_stream
        FROM bench_hours h, generate_series(h.first, h.first + h.n - 1) AS g
        WHERE h.first >= $1 AND h.first < $2 AND h.n > 0
    ) x
    JOIN bench_slots s ON s.slot = x.pick
    JOIN bench_models m ON m.idx = CASE
        WHEN s.models = 1 OR x.r_model < 0.5 THEN 0
        WHEN s.models = 2 OR x.r_model < 0.75 THEN 1 ELSE 2 END
) e
ORDER BY e.g
"""


async def _write_events(connection: asyncpg.Connection, shape: Shape, *, now: datetime) -> None:
    end = now.astimezone(UTC)
    start = (end - timedelta(days=shape.days)).replace(minute=0, second=0, microsecond=0)
    hours = hourly_counts(events=shape.events, start=start, end=end, tz=ZoneInfo(DEMO_TIMEZONE))
    await connection.execute(
        "CREATE TEMP TABLE bench_hours (at timestamptz, share float8, first bigint, n bigint)"
    )
    rows, first = [], 0
    for at, share, n in hours:
        rows.append((at, share, first, n))
        first += n
    await connection.copy_records_to_table("bench_hours", records=rows)
    await connection.execute(_SLOTS)
    await connection.execute(_MODELS)
    slots = int(await connection.fetchval("SELECT count(*) FROM bench_slots"))
    await connection.execute("SELECT setseed(0.42)")
    async with _indexes_rebuilt_after(connection, "usage_events"):
        for low in range(0, shape.events, CHUNK_EVENTS):
            began = time.perf_counter()
            await connection.execute(_EVENTS, low, low + CHUNK_EVENTS, slots)
            say(f"  events {low + CHUNK_EVENTS:,} ({time.perf_counter() - began:.1f} s)")


@asynccontextmanager
async def _indexes_rebuilt_after(connection: asyncpg.Connection, table: str) -> AsyncIterator[None]:
    """Drop the table's secondary indexes (not its keys) for a bulk load, and build them again
    once after it: far faster than maintaining them row by row."""
    indexes = await connection.fetch(
        "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = $1 "
        "AND indexname NOT IN (SELECT conname FROM pg_constraint)",
        table,
    )
    for row in indexes:
        await connection.execute(f'DROP INDEX "{row["indexname"]}"')
    yield
    for row in indexes:
        began = time.perf_counter()
        await connection.execute(row["indexdef"])
        say(f"  index {row['indexname']} rebuilt ({time.perf_counter() - began:.1f} s)")


# the rollup of every bench event, exactly as record_usages adds them one by one; in hour
# order, as the gateway writes them (range scans then read neighbouring pages)
_ROLLUPS = """
INSERT INTO usage_hourly (hour, tenant_id, team_id, user_id, key_id, model_id, requests, errors,
    input_tokens, output_tokens, cached_tokens, cost_micros, latency_ms_sum)
SELECT date_trunc('hour', created_at), tenant_id, coalesce(team_id, 0), user_id, key_id,
       coalesce(model_id, 0), count(*), count(*) FILTER (WHERE status <> 'ok'),
       sum(input_tokens), sum(output_tokens), sum(cached_tokens), sum(cost_micros),
       sum(latency_ms)
FROM usage_events WHERE request_id LIKE 'bench\\_%'
GROUP BY 1, 2, 3, 4, 5, 6
ORDER BY 1
ON CONFLICT (hour, tenant_id, team_id, user_id, key_id, model_id) DO UPDATE SET
    requests = usage_hourly.requests + excluded.requests,
    errors = usage_hourly.errors + excluded.errors,
    input_tokens = usage_hourly.input_tokens + excluded.input_tokens,
    output_tokens = usage_hourly.output_tokens + excluded.output_tokens,
    cached_tokens = usage_hourly.cached_tokens + excluded.cached_tokens,
    cost_micros = usage_hourly.cost_micros + excluded.cost_micros,
    latency_ms_sum = usage_hourly.latency_ms_sum + excluded.latency_ms_sum
"""
_EVENT_SUMS = """
SELECT tenant_id, count(*), count(*) FILTER (WHERE status <> 'ok'), sum(input_tokens),
       sum(output_tokens), sum(cost_micros), sum(latency_ms)
FROM usage_events GROUP BY tenant_id ORDER BY tenant_id
"""
_ROLLUP_SUMS = """
SELECT tenant_id, sum(requests), sum(errors), sum(input_tokens), sum(output_tokens),
       sum(cost_micros), sum(latency_ms_sum)
FROM usage_hourly GROUP BY tenant_id ORDER BY tenant_id
"""


async def _write_rollups(connection: asyncpg.Connection) -> None:
    async with _indexes_rebuilt_after(connection, "usage_hourly"):
        await connection.execute(_ROLLUPS)


async def check_rollups(connection: asyncpg.Connection) -> None:
    """Each tenant's requests, errors, tokens, cost and latency: rollups equal the events."""
    events = [tuple(r) for r in await connection.fetch(_EVENT_SUMS)]
    rollups = [tuple(r) for r in await connection.fetch(_ROLLUP_SUMS)]
    if events != rollups:
        raise RuntimeError(f"the rollups differ from the events:\n{events}\n{rollups}")


async def _reconcile(settings: Settings, *, now: datetime) -> None:
    """Charge the ledger's counters with this month's events, as after a real month."""
    engine = create_engine(settings.database_url)
    try:
        async with open_ledger(settings, engine) as ledger:
            await reconcile(
                sessions=create_session_factory(engine), ledger=ledger, now=now, repair=True
            )
    finally:
        await engine.dispose()


async def _mark(url: str, shape: Shape, *, now: datetime) -> None:
    connection = await asyncpg.connect(plain_url(url))
    try:
        await connection.execute(
            f"CREATE TABLE {MARKER_TABLE} (events bigint, tenants int, users int, days int, "
            "seeded_at timestamptz)"
        )
        await connection.execute(
            f"INSERT INTO {MARKER_TABLE} VALUES ($1, $2, $3, $4, $5)",  # noqa: S608
            shape.events,
            shape.tenants,
            shape.users,
            shape.days,
            now,
        )
    finally:
        await connection.close()
