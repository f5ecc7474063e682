from collections import defaultdict
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Row, func, select

from tests.demo.factories import MOCK_BASE_URL, LoadedDemo, demo_box, migrated_engine
from tokengate.catalog.models import Model
from tokengate.db import create_session_factory, transaction
from tokengate.demo import load_demo
from tokengate.demo.data import MODELS, PLANS, TENANTS, USERS
from tokengate.errors import Conflict, InvalidRequest, KeyInvalid
from tokengate.keys import service as keys
from tokengate.keys.models import ApiKey
from tokengate.tenancy import service as tenancy
from tokengate.tenancy.models import Plan, Team, Tenant, User
from tokengate.tenancy.schemas import PlanCreate, TenantCreate
from tokengate.usage.models import UsageEvent, UsageHourly

pytestmark = pytest.mark.asyncio(loop_scope="package")


EVENT_COLUMNS = [
    UsageEvent.created_at,
    UsageEvent.tenant_id,
    UsageEvent.team_id,
    UsageEvent.user_id,
    UsageEvent.key_id,
    UsageEvent.model_id,
    UsageEvent.model,
    UsageEvent.status,
    UsageEvent.input_tokens,
    UsageEvent.output_tokens,
    UsageEvent.cached_tokens,
    UsageEvent.cost_micros,
    UsageEvent.latency_ms,
]


async def events_of(demo: LoadedDemo) -> Sequence[Row[*tuple[Any, ...]]]:
    """Return every usage event's columns (rows, not ORM objects: there are thousands)."""
    async with demo.sessions() as session:
        return (await session.execute(select(*EVENT_COLUMNS).order_by(UsageEvent.id))).all()


async def usage_percent_by_user(demo: LoadedDemo) -> dict[str, float]:
    """Return each user's share of the plan's monthly limit used this month (tenant's zone)."""
    async with demo.sessions() as session:
        rows = (
            await session.execute(
                select(User.id, User.name, Tenant.timezone, Plan.monthly_token_limit)
                .join(Tenant, Tenant.id == User.tenant_id)
                .join(Plan, Plan.id == Tenant.plan_id)
            )
        ).all()
        percent = {}
        for user_id, name, zone, limit in rows:
            local_now = demo.now.astimezone(ZoneInfo(zone))
            start = local_now.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
            used = await session.scalar(
                select(func.sum(UsageEvent.input_tokens + UsageEvent.output_tokens)).where(
                    UsageEvent.user_id == user_id, UsageEvent.created_at >= start
                )
            )
            percent[name] = 100 * (used or 0) / limit
    return percent


async def test_tenants_plans_and_engines(demo: LoadedDemo):
    async with demo.sessions() as session:
        rows = (
            await session.execute(
                select(Tenant, Plan).join(Plan, Plan.id == Tenant.plan_id).order_by(Tenant.id)
            )
        ).all()
        tenants = {
            t.name: (p.name, p.allowed_models, t.timezone, t.locale, t.currency) for t, p in rows
        }
        plans = list(await session.scalars(select(Plan).order_by(Plan.id)))
        models = list(await session.scalars(select(Model).order_by(Model.name)))
    assert tenants == {
        "서울경제신문": ("Enterprise", ["C1", "C2", "C7"], "Asia/Seoul", "ko", "USD"),
        "조선일보": ("Pro", ["C1", "C7"], "Asia/Seoul", "ko", "USD"),
        "한국경제신문": ("Pro", ["C1", "C7"], "Asia/Seoul", "ko", "USD"),
        "중앙일보": ("Basic", ["C1"], "Asia/Seoul", "ko", "USD"),
        "데모신문사": ("Free", ["C1"], "Asia/Seoul", "ko", "USD"),
    }
    assert [(p.name, p.monthly_token_limit, p.max_users) for p in plans] == [
        (s.name, s.monthly_token_limit, s.max_users) for s in PLANS
    ]
    assert [(m.name, m.provider, m.upstream_model, m.base_url) for m in models] == [
        (s.name, "openai_compatible", s.upstream_model, MOCK_BASE_URL) for s in MODELS
    ]
    assert models[0].output_price < models[1].output_price < models[2].output_price
    assert [t.name for t in demo.first.tenants] == [t.name for t in TENANTS]


async def test_fifteen_users_with_roles_and_teams(demo: LoadedDemo):
    async with demo.sessions() as session:
        users = list(await session.scalars(select(User).order_by(User.id)))
        teams = {t.id: t.name for t in await session.scalars(select(Team))}
        key_teams = {
            k.user_id: teams[k.team_id] for k in await session.scalars(select(ApiKey)) if k.team_id
        }
        profile = await tenancy.get_member_profile(session=session, user_id=users[13].id)
    assert len(users) == 15
    assert [(u.name, u.email, u.roles, u.status) for u in users] == [
        (s.name, s.email, [s.role], "active") for s in USERS
    ]
    assert {u.name: key_teams[u.id] for u in users} == {s.name: s.team for s in USERS}
    assert len(teams) == sum(len(t.teams) for t in TENANTS)
    assert profile is not None
    assert (profile.plan, profile.allowed_models, profile.monthly_token_limit) == (
        "Free",
        ["C1"],
        100_000,
    )


async def test_this_month_hits_the_seed_percentages(demo: LoadedDemo):
    percent = await usage_percent_by_user(demo)
    assert percent["이기자"] == 45
    assert percent["박기자"] == 80
    assert percent["정인턴"] == 95
    assert percent["데모관리자"] == 95
    assert percent == {s.name: s.usage_percent for s in USERS}
    assert sorted(name for name, p in percent.items() if p >= 80) == [
        "데모관리자",
        "박기자",
        "정인턴",
    ]


async def test_ninety_days_of_history(demo: LoadedDemo):
    events = await events_of(demo)
    seoul = ZoneInfo("Asia/Seoul")
    today = demo.now.astimezone(seoul).date()
    first_day = today - timedelta(days=89)
    days = {e.created_at.astimezone(seoul).date() for e in events}
    assert min(days) == first_day
    assert max(e.created_at for e in events) <= demo.now
    assert len(days) >= 85
    assert 10_000 <= len(events) <= 30_000
    assert len(events) == demo.first.counts.events
    errors = [e for e in events if e.status != "ok"]
    assert 0 < len(errors) < 0.03 * len(events)
    assert {e.status for e in errors} == {"upstream_error"}
    assert {e.model for e in events} == {"C1", "C2", "C7"}


async def test_models_stay_within_each_plan(demo: LoadedDemo):
    async with demo.sessions() as session:
        rows = (
            await session.execute(
                select(Plan.allowed_models, UsageEvent.model)
                .join(Tenant, Tenant.plan_id == Plan.id)
                .join(UsageEvent, UsageEvent.tenant_id == Tenant.id)
                .distinct()
            )
        ).all()
        assert all(model in allowed for allowed, model in rows)


async def test_rollups_equal_event_sums(demo: LoadedDemo):
    expected: defaultdict[tuple[object, ...], list[int]] = defaultdict(lambda: [0] * 7)
    for e in await events_of(demo):
        hour = e.created_at.replace(minute=0, second=0, microsecond=0)
        key = (hour, e.tenant_id, e.team_id or 0, e.user_id, e.key_id, e.model_id or 0)
        sums = (1, int(e.status != "ok"), e.input_tokens, e.output_tokens, e.cached_tokens)
        for n, value in enumerate((*sums, e.cost_micros, e.latency_ms)):
            expected[key][n] += value
    h = UsageHourly
    async with demo.sessions() as session:
        rows = await session.execute(
            select(h.hour, h.tenant_id, h.team_id, h.user_id, h.key_id, h.model_id)
            .add_columns(h.requests, h.errors, h.input_tokens, h.output_tokens, h.cached_tokens)
            .add_columns(h.cost_micros, h.latency_ms_sum)
        )
        actual = {tuple(row[:6]): list(row[6:]) for row in rows}
    assert actual == dict(expected)
    assert len(actual) == demo.first.counts.hourly_rows


async def test_loading_again_only_issues_new_keys(demo: LoadedDemo):
    first, second = demo.first, demo.second
    assert first.created and not second.created
    assert first.counts.model_dump() == {
        "plans": 4,
        "models": 3,
        "tenants": 5,
        "teams": 12,
        "users": 15,
        "keys": 15,
        "events": first.counts.events,
        "hourly_rows": first.counts.hourly_rows,
    }
    assert second.counts.model_dump() == {
        "plans": 0,
        "models": 0,
        "tenants": 0,
        "teams": 0,
        "users": 0,
        "keys": 15,
        "events": 0,
        "hourly_rows": 0,
    }
    assert second.tenants == first.tenants
    assert [u.model_copy(update={"key": ""}) for u in second.users] == [
        u.model_copy(update={"key": ""}) for u in first.users
    ]
    assert not {u.key for u in first.users} & {u.key for u in second.users}
    async with demo.sessions() as session:
        counts = [
            await session.scalar(select(func.count()).select_from(table))
            for table in (Tenant, User, Plan, Model, UsageEvent, ApiKey)
        ]
    assert counts == [5, 15, 4, 3, first.counts.events, 30]


async def test_a_rerun_revokes_the_previous_keys(demo: LoadedDemo):
    async with demo.sessions() as session:
        for user in demo.first.users:
            with pytest.raises(KeyInvalid):
                await keys.authenticate_key(session=session, raw_key=user.key, now=demo.now)


async def test_every_key_authenticates(demo: LoadedDemo):
    async with demo.sessions() as session:
        for user in demo.second.users:
            assert user.key.startswith("tg-")
            identity = await keys.authenticate_key(session=session, raw_key=user.key, now=demo.now)
            assert identity.user_id == user.id
            tenant = next(t for t in demo.first.tenants if t.name == user.tenant)
            assert identity.tenant_id == tenant.id
            assert identity.team_id is not None


async def test_now_must_be_aware(demo: LoadedDemo):
    with pytest.raises(InvalidRequest, match="timezone-aware"):
        await load_demo(
            sessions=demo.sessions,
            box=demo_box(),
            mock_base_url=MOCK_BASE_URL,
            now=datetime(2025, 3, 14, 12, 0),  # noqa: DTZ001
        )


async def test_a_partly_loaded_demo_is_refused(tmp_path):
    engine = await migrated_engine(tmp_path / "partial.db")
    sessions = create_session_factory(engine)
    try:
        async with transaction(sessions) as session:
            await tenancy.create_plan(
                session=session,
                data=PlanCreate(name="Pro", monthly_token_limit=1, allowed_models=[], max_users=1),
            )
            await tenancy.create_tenant(
                session=session, data=TenantCreate(name="조선일보", plan="Pro")
            )
        with pytest.raises(Conflict, match="partly loaded"):
            await load_demo(
                sessions=sessions,
                box=demo_box(),
                mock_base_url=MOCK_BASE_URL,
                now=datetime(2025, 3, 14, tzinfo=UTC),
            )
    finally:
        await engine.dispose()
