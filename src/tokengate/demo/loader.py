"""Loading the demo scenario through the domain services, plus its bulk usage history."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tokengate.catalog import service as catalog
from tokengate.catalog.schemas import ModelCreate
from tokengate.crypto import SecretBox
from tokengate.db import transaction
from tokengate.demo import store
from tokengate.demo.data import (
    DEMO_CURRENCY,
    DEMO_KEY_NAME,
    DEMO_LOCALE,
    DEMO_TIMEZONE,
    MODELS,
    PLANS,
    TENANTS,
    USERS,
    UserSpec,
)
from tokengate.demo.history import build_history
from tokengate.demo.records import Engine, Subject
from tokengate.demo.schemas import DemoCounts, DemoSummary, DemoTenant, DemoUser
from tokengate.errors import Conflict, InvalidRequest, ModelNotFound
from tokengate.keys import service as keys
from tokengate.keys.schemas import KeyCreate, KeyIssued
from tokengate.pagination import MAX_PAGE_SIZE, PageRequest
from tokengate.tenancy import service as tenancy
from tokengate.tenancy.schemas import (
    MembershipCreate,
    PlanCreate,
    PlanPublic,
    TeamCreate,
    TenantCreate,
    TenantPublic,
    UserCreate,
)

SEOUL = ZoneInfo(DEMO_TIMEZONE)
_ALL = PageRequest(None, MAX_PAGE_SIZE)


@dataclass(frozen=True)
class _Member:
    spec: UserSpec
    user_id: int
    team_id: int | None
    key: KeyIssued


async def load_demo(
    *,
    sessions: async_sessionmaker[AsyncSession],
    box: SecretBox,
    mock_base_url: str,
    now: datetime,
    tz: ZoneInfo = SEOUL,
) -> DemoSummary:
    """Load the demo scenario in one transaction; once loaded, only issue fresh keys."""
    if now.tzinfo is None:
        raise InvalidRequest("now must be timezone-aware", param="now")
    async with transaction(sessions) as session:
        existing = await _existing_tenants(session)
        if not existing:
            return await _create_demo(session, box=box, mock_base_url=mock_base_url, now=now, tz=tz)
        if len(existing) < len(TENANTS):
            missing = sorted({t.name for t in TENANTS} - set(existing))
            raise Conflict(f"the demo is partly loaded: tenants {missing} are missing")
        return await _reissue_keys(session, tenants=existing)


async def _existing_tenants(session: AsyncSession) -> dict[str, TenantPublic]:
    found: dict[str, TenantPublic] = {}
    for spec in TENANTS:
        page = await tenancy.list_tenants(session=session, search=spec.name, page=_ALL)
        found.update({t.name: t for t in page.items if t.name == spec.name})
    return found


async def _create_demo(
    session: AsyncSession, *, box: SecretBox, mock_base_url: str, now: datetime, tz: ZoneInfo
) -> DemoSummary:
    plans = {
        spec.name: await tenancy.create_plan(
            session=session,
            data=PlanCreate(
                name=spec.name,
                monthly_token_limit=spec.monthly_token_limit,
                allowed_models=list(spec.allowed_models),
                max_users=spec.max_users,
            ),
        )
        for spec in PLANS
    }
    engines = await _register_engines(session, box=box, mock_base_url=mock_base_url)
    tenants, teams = await _create_tenants(session, tz=tz)
    members = await _create_users(session, tenants=tenants, teams=teams)
    subjects = [_subject(m, plans=plans, tenants=tenants, engines=engines) for m in members]
    history = build_history(subjects=subjects, now=now, tz=tz)
    events, hourly_rows = await store.insert_usage_history(session, records=history)
    counts = DemoCounts(
        plans=len(plans),
        models=len(engines),
        tenants=len(tenants),
        teams=len(teams),
        users=len(members),
        keys=len(members),
        events=events,
        hourly_rows=hourly_rows,
    )
    return _summary(created=True, tenants=tenants, members=members, counts=counts)


async def _register_engines(
    session: AsyncSession, *, box: SecretBox, mock_base_url: str
) -> dict[str, Engine]:
    engines: dict[str, Engine] = {}
    for spec in MODELS:
        data = ModelCreate(
            name=spec.name,
            provider="openai_compatible",
            upstream_model=spec.upstream_model,
            base_url=mock_base_url,
            input_price_per_mtok=spec.input_price_per_mtok,
            output_price_per_mtok=spec.output_price_per_mtok,
            cached_input_price_per_mtok=spec.cached_input_price_per_mtok,
        )
        await catalog.register_model(session=session, box=box, data=data)
        route = await catalog.get_route(session=session, box=box, name=spec.name)
        if route is None:
            raise ModelNotFound(model=spec.name)
        engines[spec.name] = Engine(spec=spec, route=route)
    return engines


async def _create_tenants(
    session: AsyncSession, *, tz: ZoneInfo
) -> tuple[dict[str, TenantPublic], dict[tuple[str, str], int]]:
    tenants: dict[str, TenantPublic] = {}
    teams: dict[tuple[str, str], int] = {}
    for spec in TENANTS:
        tenant = await tenancy.create_tenant(
            session=session,
            data=TenantCreate(
                name=spec.name,
                plan=spec.plan,
                timezone=tz.key,
                locale=DEMO_LOCALE,
                currency=DEMO_CURRENCY,
            ),
        )
        tenants[spec.name] = tenant
        for team_spec in spec.teams:
            team = await tenancy.create_team(
                session=session,
                data=TeamCreate(
                    tenant_id=tenant.id, name=team_spec.name, description=team_spec.description
                ),
            )
            teams[spec.name, team.name] = team.id
    return tenants, teams


async def _create_users(
    session: AsyncSession, *, tenants: dict[str, TenantPublic], teams: dict[tuple[str, str], int]
) -> list[_Member]:
    members: list[_Member] = []
    for spec in USERS:
        user = await tenancy.create_user(
            session=session,
            data=UserCreate(
                tenant_id=tenants[spec.tenant].id,
                email=spec.email,
                name=spec.name,
                roles=[spec.role],
            ),
        )
        team_id = teams[spec.tenant, spec.team]
        await tenancy.add_team_member(
            session=session,
            team_id=team_id,
            data=MembershipCreate(user_id=user.id, role=_team_role(spec)),
        )
        key = await _issue(session, user_id=user.id, team_id=team_id)
        members.append(_Member(spec=spec, user_id=user.id, team_id=team_id, key=key))
    return members


async def _reissue_keys(session: AsyncSession, *, tenants: dict[str, TenantPublic]) -> DemoSummary:
    members: list[_Member] = []
    for name, tenant in tenants.items():
        page = await tenancy.list_users(
            session=session, tenant_id=tenant.id, search=None, page=_ALL
        )
        users = {user.email: user.id for user in page.items}
        team_page = await tenancy.list_teams(
            session=session, tenant_id=tenant.id, search=None, page=_ALL
        )
        teams = {team.name: team.id for team in team_page.items}
        for spec in USERS:
            if spec.tenant != name or spec.email not in users:
                continue
            team_id = teams.get(spec.team)
            await _revoke_demo_keys(session, user_id=users[spec.email])
            key = await _issue(session, user_id=users[spec.email], team_id=team_id)
            members.append(_Member(spec=spec, user_id=users[spec.email], team_id=team_id, key=key))
    counts = DemoCounts(keys=len(members))
    return _summary(created=False, tenants=tenants, members=members, counts=counts)


async def _revoke_demo_keys(session: AsyncSession, *, user_id: int) -> None:
    # a re-run hands out fresh keys; the previous run's keys stop working
    page = await keys.list_keys(session=session, tenant_id=None, user_id=user_id, page=_ALL)
    for key in page.items:
        if key.name == DEMO_KEY_NAME and key.status == "active":
            await keys.revoke_key(session=session, key_id=key.id)


def _team_role(spec: UserSpec) -> Literal["leader", "member"]:
    return "leader" if spec.role == "tenant_admin" else "member"


async def _issue(session: AsyncSession, *, user_id: int, team_id: int | None) -> KeyIssued:
    return await keys.issue_key(
        session=session, data=KeyCreate(user_id=user_id, team_id=team_id, name=DEMO_KEY_NAME)
    )


def _subject(
    member: _Member,
    *,
    plans: dict[str, PlanPublic],
    tenants: dict[str, TenantPublic],
    engines: dict[str, Engine],
) -> Subject:
    plan = plans[tenants[member.spec.tenant].plan]
    return Subject(
        email=member.spec.email,
        tenant_id=tenants[member.spec.tenant].id,
        team_id=member.team_id,
        user_id=member.user_id,
        key_id=member.key.id,
        monthly_token_limit=plan.monthly_token_limit,
        usage_percent=member.spec.usage_percent,
        engines=tuple(engines[name] for name in plan.allowed_models),
    )


def _summary(
    *,
    created: bool,
    tenants: dict[str, TenantPublic],
    members: list[_Member],
    counts: DemoCounts,
) -> DemoSummary:
    return DemoSummary(
        created=created,
        tenants=[
            DemoTenant(id=t.id, name=t.name, plan=t.plan, timezone=t.timezone)
            for t in tenants.values()
        ],
        users=[
            DemoUser(
                id=m.user_id,
                tenant=m.spec.tenant,
                email=m.spec.email,
                name=m.spec.name,
                role=m.spec.role,
                team=m.spec.team,
                usage_percent=m.spec.usage_percent,
                key=m.key.key,
            )
            for m in members
        ],
        counts=counts,
    )
