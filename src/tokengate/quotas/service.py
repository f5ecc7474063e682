from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.catalog import service as catalog
from tokengate.db import utcnow
from tokengate.errors import InvalidRequest, NotFound
from tokengate.keys import service as keys
from tokengate.pagination import Page, PageRequest, next_cursor
from tokengate.quotas import store
from tokengate.quotas.models import Exemption, Grant, Limit, Relaxation
from tokengate.quotas.resolve import (
    ResolvedCheck,
    RuleSet,
    Subject,
    plan_limit_id,
    resolve_checks,
    scopes_of,
)
from tokengate.quotas.schemas import (
    ClampedLimit,
    ExemptionCreate,
    ExemptionPublic,
    GrantCreate,
    GrantPublic,
    LimitChange,
    LimitCreate,
    LimitPublic,
    LimitUpdate,
    RelaxationCreate,
    RelaxationPublic,
)
from tokengate.tenancy import service as tenancy


async def tenant_of_scope(*, session: AsyncSession, scope: str, scope_id: int) -> int:
    """Return the tenant a scope belongs to; an unknown scope is bad input."""
    try:
        if scope == "tenant":
            return (await tenancy.get_tenant(session=session, tenant_id=scope_id)).id
        if scope == "team":
            return (await tenancy.get_team(session=session, team_id=scope_id)).tenant_id
        if scope == "key":
            return (await keys.get_key(session=session, key_id=scope_id)).tenant_id
        user = await tenancy.get_user(session=session, user_id=scope_id)
    except NotFound as exc:
        raise InvalidRequest(f"{scope} {scope_id} does not exist", param="scope_id") from exc
    if user.tenant_id is None:
        raise InvalidRequest("system administrators belong to no tenant", param="scope_id")
    return user.tenant_id


async def create_limit(*, session: AsyncSession, data: LimitCreate) -> LimitPublic:
    """Create a limit; a personal limit may not exceed its teams' limit for the same period."""
    tenant_id = await tenant_of_scope(session=session, scope=data.scope, scope_id=data.scope_id)
    if data.model is not None and not await catalog.model_exists(session=session, name=data.model):
        raise InvalidRequest(f"there is no model named {data.model!r}", param="model")
    if data.scope == "user":
        await _check_within_teams(session, user_id=data.scope_id, data=data, amount=data.amount)
    now = utcnow()
    limit = Limit(tenant_id=tenant_id, **data.model_dump(), created_at=now, updated_at=now)
    session.add(limit)
    await session.flush()
    return LimitPublic.model_validate(limit)


async def _check_within_teams(
    session: AsyncSession, *, user_id: int, data: LimitCreate | Limit, amount: int
) -> None:
    team_ids = await tenancy.list_team_ids_of_user(session=session, user_id=user_id)
    team_limits = await store.find_limits(
        session, scope="team", scope_ids=team_ids, metric=data.metric, window=data.window
    )
    for team_limit in team_limits:
        if team_limit.model == data.model and amount > team_limit.amount:
            raise InvalidRequest(
                f"a personal limit of {amount} exceeds team {team_limit.scope_id}'s "
                f"{data.window} {data.metric} limit of {team_limit.amount}",
                param="amount",
            )


async def get_limit(*, session: AsyncSession, limit_id: int) -> Limit:
    """Return a live limit row or raise NotFound."""
    limit = await session.get(Limit, limit_id)
    if limit is None or limit.archived:
        raise NotFound(f"limit {limit_id} does not exist")
    return limit


async def update_limit(*, session: AsyncSession, limit_id: int, data: LimitUpdate) -> LimitChange:
    """Change a limit; lowering a team's amount clamps the personal limits above it."""
    limit = await get_limit(session=session, limit_id=limit_id)
    if data.amount is not None and limit.scope == "user":
        await _check_within_teams(session, user_id=limit.scope_id, data=limit, amount=data.amount)
    for field, value in data.model_dump(exclude_none=True).items():
        setattr(limit, field, value)
    limit.updated_at = utcnow()
    clamped: list[ClampedLimit] = []
    if limit.scope == "team" and data.amount is not None:
        clamped = await _clamp_members(session, team_limit=limit)
    await session.flush()
    return LimitChange(**LimitPublic.model_validate(limit).model_dump(), clamped=clamped)


async def _clamp_members(session: AsyncSession, *, team_limit: Limit) -> list[ClampedLimit]:
    members = await tenancy.list_member_ids(session=session, team_id=team_limit.scope_id)
    personal = await store.find_limits(
        session, scope="user", scope_ids=members, metric=team_limit.metric, window=team_limit.window
    )
    clamped = []
    for limit in personal:
        if limit.model == team_limit.model and limit.amount > team_limit.amount:
            clamped.append(
                ClampedLimit(
                    limit_id=limit.id,
                    user_id=limit.scope_id,
                    old_amount=limit.amount,
                    new_amount=team_limit.amount,
                )
            )
            limit.amount = team_limit.amount
            limit.updated_at = utcnow()
    return clamped


async def archive_limit(*, session: AsyncSession, limit_id: int) -> None:
    """Retire a limit: it stops applying; its counters and history stay."""
    limit = await get_limit(session=session, limit_id=limit_id)
    limit.archived = True
    await session.flush()


async def list_limits(
    *,
    session: AsyncSession,
    tenant_id: int | None,
    scope: str | None,
    scope_id: int | None,
    page: PageRequest,
    team_ids: frozenset[int] | None = None,
    user_ids: frozenset[int] | None = None,
) -> Page[LimitPublic]:
    """List live limits, optionally of one tenant or scope, or bearing on some teams and
    people."""
    rows = await store.list_limits(
        session,
        tenant_id=tenant_id,
        scope=scope,
        scope_id=scope_id,
        page=page,
        team_ids=team_ids,
        user_ids=user_ids,
    )
    return Page(
        items=[LimitPublic.model_validate(r) for r in rows],
        next=next_cursor([r.id for r in rows], page),
    )


async def create_grant(*, session: AsyncSession, data: GrantCreate) -> GrantPublic:
    """Add extra allowance to a limit (or a user's plan allowance) until it expires."""
    if data.expires_at <= utcnow():
        raise InvalidRequest("expires_at must be in the future", param="expires_at")
    if data.user_id is not None:
        tenant_id = await tenant_of_scope(session=session, scope="user", scope_id=data.user_id)
        target = plan_limit_id(data.user_id)
    else:
        assert data.limit_id is not None  # noqa: S101 (the schema guarantees one target)
        try:
            limit = await get_limit(session=session, limit_id=data.limit_id)
        except NotFound as exc:
            raise InvalidRequest(str(exc), param="limit_id") from exc
        tenant_id, target = limit.tenant_id, limit.id
    grant = Grant(
        tenant_id=tenant_id,
        limit_id=target,
        amount=data.amount,
        expires_at=data.expires_at,
        reason=data.reason,
    )
    session.add(grant)
    await session.flush()
    return _grant_public(grant)


async def list_grants(
    *, session: AsyncSession, tenant_id: int | None, page: PageRequest
) -> Page[GrantPublic]:
    """List grants, expired ones included."""
    rows = await store.list_grants(session, tenant_id=tenant_id, page=page)
    return Page(
        items=[_grant_public(g) for g in rows], next=next_cursor([g.id for g in rows], page)
    )


def _grant_public(grant: Grant) -> GrantPublic:
    on_plan = grant.limit_id < 0
    return GrantPublic(
        id=grant.id,
        tenant_id=grant.tenant_id,
        limit_id=None if on_plan else grant.limit_id,
        user_id=-grant.limit_id if on_plan else None,
        amount=grant.amount,
        expires_at=grant.expires_at,
        reason=grant.reason,
        created_at=grant.created_at,
    )


async def create_relaxation(*, session: AsyncSession, data: RelaxationCreate) -> RelaxationPublic:
    """Multiply a limit's amount during given local hours."""
    try:
        limit = await get_limit(session=session, limit_id=data.limit_id)
    except NotFound as exc:
        raise InvalidRequest(str(exc), param="limit_id") from exc
    rule = Relaxation(tenant_id=limit.tenant_id, **data.model_dump())
    session.add(rule)
    await session.flush()
    return RelaxationPublic.model_validate(rule)


async def list_relaxations(
    *, session: AsyncSession, tenant_id: int | None
) -> list[RelaxationPublic]:
    """List time-of-day rules."""
    rows = await store.list_relaxations(session, limit_ids=None, tenant_id=tenant_id)
    return [RelaxationPublic.model_validate(r) for r in rows]


async def create_exemption(*, session: AsyncSession, data: ExemptionCreate) -> ExemptionPublic:
    """Exempt a user or key from a metric's block limits (usage is still counted)."""
    tenant_id = await tenant_of_scope(session=session, scope=data.scope, scope_id=data.scope_id)
    exemption = Exemption(tenant_id=tenant_id, **data.model_dump())
    session.add(exemption)
    await session.flush()
    return ExemptionPublic.model_validate(exemption)


async def list_exemptions(*, session: AsyncSession, tenant_id: int | None) -> list[ExemptionPublic]:
    """List exemptions."""
    rows = await store.list_exemptions(session, scopes=None, tenant_id=tenant_id)
    return [ExemptionPublic.model_validate(r) for r in rows]


async def load_rules(*, session: AsyncSession, subject: Subject, now: datetime) -> RuleSet:
    """Read the limits, live grants, relaxations and exemptions that bear on a subject."""
    scopes = scopes_of(subject)
    limits = await store.list_limits_for_scopes(session, scopes=scopes)
    ids = [plan_limit_id(subject.user_id), *(limit.id for limit in limits)]
    grants = await store.list_active_grants(session, limit_ids=ids, now=now)
    relaxations = await store.list_relaxations(session, limit_ids=[limit.id for limit in limits])
    exemptions = await store.list_exemptions(
        session, scopes=[("user", subject.user_id), ("key", subject.key_id)]
    )
    return RuleSet(
        limits=tuple(limits),
        grants=tuple(grants),
        relaxations=tuple(relaxations),
        exempt_metrics=frozenset(e.metric for e in exemptions),
    )


def applicable_checks(*, subject: Subject, rules: RuleSet, now: datetime) -> list[ResolvedCheck]:
    """Every check a request of this subject must pass now, the plan allowance first."""
    return resolve_checks(
        subject=subject,
        limits=rules.limits,
        grants=rules.grants,
        relaxations=rules.relaxations,
        exempt_metrics=set(rules.exempt_metrics),
        now=now,
    )


async def scope_checks(
    *, session: AsyncSession, scope: str, scope_id: int, now: datetime
) -> list[ResolvedCheck]:
    """The checks of one scope's own limits (and a user's plan allowance), for any model."""
    try:
        tenant_id = await tenant_of_scope(session=session, scope=scope, scope_id=scope_id)
    except InvalidRequest as exc:
        raise NotFound(f"{scope} {scope_id} does not exist") from exc
    tenant = await tenancy.get_tenant(session=session, tenant_id=tenant_id)
    profile = (
        await tenancy.get_member_profile(session=session, user_id=scope_id)
        if scope == "user"
        else None
    )
    subject = Subject(
        tenant_id=tenant_id,
        team_id=None,
        user_id=scope_id if scope == "user" else 0,
        key_id=0,
        timezone=tenant.timezone,
        plan=profile.plan if profile else tenant.plan,
        monthly_token_limit=profile.monthly_token_limit if profile else 0,
        model=None,
    )
    limits = await store.list_limits_for_scopes(session, scopes=[(scope, scope_id)])
    ids = [plan_limit_id(subject.user_id), *(limit.id for limit in limits)]
    return resolve_checks(
        subject=subject,
        limits=limits,
        grants=await store.list_active_grants(session, limit_ids=ids, now=now),
        relaxations=await store.list_relaxations(session, limit_ids=[x.id for x in limits]),
        exempt_metrics=set(),
        now=now,
        include_plan=profile is not None,
    )
