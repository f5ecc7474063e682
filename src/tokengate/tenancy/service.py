from __future__ import annotations

from argon2 import PasswordHasher
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.errors import Conflict, InvalidRequest, NotFound
from tokengate.pagination import Page, PageRequest, next_cursor
from tokengate.tenancy import store
from tokengate.tenancy.models import Plan, Team, TeamMembership, Tenant, User
from tokengate.tenancy.schemas import (
    MemberProfile,
    MembershipCreate,
    MembershipPublic,
    PlanCreate,
    PlanPublic,
    TeamCreate,
    TeamPublic,
    TenantCreate,
    TenantPublic,
    UserCreate,
    UserPublic,
)

MIN_PASSWORD_LENGTH = 12


async def create_plan(*, session: AsyncSession, data: PlanCreate) -> PlanPublic:
    """Create a plan; its name must be new."""
    if await store.get_plan_by_name(session, name=data.name) is not None:
        raise Conflict(f"a plan named {data.name!r} already exists", param="name")
    plan = Plan(**data.model_dump())
    session.add(plan)
    await session.flush()
    return PlanPublic.model_validate(plan)


async def list_plans(*, session: AsyncSession) -> list[PlanPublic]:
    """List every plan."""
    return [PlanPublic.model_validate(p) for p in await store.list_plans(session)]


async def _plan_named(session: AsyncSession, name: str, param: str) -> Plan:
    plan = await store.get_plan_by_name(session, name=name)
    if plan is None:
        raise InvalidRequest(f"there is no plan named {name!r}", param=param)
    return plan


async def create_tenant(*, session: AsyncSession, data: TenantCreate) -> TenantPublic:
    """Create a tenant on an existing plan; tenant names are unique."""
    plan = await _plan_named(session, data.plan, "plan")
    tenant = Tenant(
        name=data.name,
        plan_id=plan.id,
        timezone=data.timezone,
        locale=data.locale,
        currency=data.currency,
    )
    session.add(tenant)
    await _flush_unique(session, f"a tenant named {data.name!r} already exists", "name")
    return _tenant_public(tenant, plan.name)


async def list_tenants(
    *, session: AsyncSession, search: str | None, page: PageRequest
) -> Page[TenantPublic]:
    """List tenants, optionally filtered by a name fragment."""
    rows = await store.list_tenants(session, search=search, page=page)
    items = [_tenant_public(tenant, plan) for tenant, plan in rows]
    return Page(items=items, next=next_cursor([t.id for t in items], page))


async def get_tenant(*, session: AsyncSession, tenant_id: int) -> TenantPublic:
    """Return one tenant or raise NotFound."""
    found = await store.get_tenant_with_plan(session, tenant_id=tenant_id)
    if found is None:
        raise NotFound(f"tenant {tenant_id} does not exist")
    return _tenant_public(found[0], found[1].name)


def _tenant_public(tenant: Tenant, plan: str) -> TenantPublic:
    return TenantPublic(
        id=tenant.id,
        name=tenant.name,
        plan=plan,
        timezone=tenant.timezone,
        locale=tenant.locale,
        currency=tenant.currency,
        created_at=tenant.created_at,
    )


async def create_team(*, session: AsyncSession, data: TeamCreate) -> TeamPublic:
    """Create a team; names are unique per tenant regardless of case."""
    await get_tenant(session=session, tenant_id=data.tenant_id)
    name_key = data.name.casefold()
    if await store.get_team_by_name_key(session, tenant_id=data.tenant_id, name_key=name_key):
        raise Conflict(f"this tenant already has a team named {data.name!r}", param="name")
    team = Team(
        tenant_id=data.tenant_id, name=data.name, name_key=name_key, description=data.description
    )
    session.add(team)
    await _flush_unique(session, f"this tenant already has a team named {data.name!r}", "name")
    return TeamPublic.model_validate(team)


async def list_teams(
    *, session: AsyncSession, tenant_id: int | None, search: str | None, page: PageRequest
) -> Page[TeamPublic]:
    """List teams, optionally of one tenant and matching a name fragment."""
    teams = await store.list_teams(session, tenant_id=tenant_id, search=search, page=page)
    return Page(
        items=[TeamPublic.model_validate(t) for t in teams],
        next=next_cursor([t.id for t in teams], page),
    )


async def get_team(*, session: AsyncSession, team_id: int) -> TeamPublic:
    """Return one team or raise NotFound."""
    team = await session.get(Team, team_id)
    if team is None:
        raise NotFound(f"team {team_id} does not exist")
    return TeamPublic.model_validate(team)


async def create_user(*, session: AsyncSession, data: UserCreate) -> UserPublic:
    """Create a user in a tenant, within the plan's maximum number of users."""
    tenant = await store.get_tenant_with_plan(session, tenant_id=data.tenant_id)
    if tenant is None:
        raise InvalidRequest(f"tenant {data.tenant_id} does not exist", param="tenant_id")
    plan = tenant[1]
    if await store.count_users(session, tenant_id=data.tenant_id) >= plan.max_users:
        raise Conflict(
            f"the {plan.name} plan allows at most {plan.max_users} users", param="tenant_id"
        )
    email = data.email.lower()
    if await store.get_user_by_email(session, email=email) is not None:
        raise Conflict(f"a user with the e-mail {email} already exists", param="email")
    override = await _plan_named(session, data.plan, "plan") if data.plan else None
    user = User(
        tenant_id=data.tenant_id,
        email=email,
        name=data.name,
        roles=sorted(set(data.roles)),
        locale=data.locale,
        plan_id=override.id if override else None,
    )
    session.add(user)
    await _flush_unique(session, f"a user with the e-mail {email} already exists", "email")
    return UserPublic.model_validate(user)


async def list_users(
    *, session: AsyncSession, tenant_id: int | None, search: str | None, page: PageRequest
) -> Page[UserPublic]:
    """List users, optionally of one tenant and matching a name or e-mail fragment."""
    users = await store.list_users(session, tenant_id=tenant_id, search=search, page=page)
    return Page(
        items=[UserPublic.model_validate(u) for u in users],
        next=next_cursor([u.id for u in users], page),
    )


async def get_user(*, session: AsyncSession, user_id: int) -> UserPublic:
    """Return one user or raise NotFound."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return UserPublic.model_validate(user)


async def set_user_blocked(
    *, session: AsyncSession, user_id: int, blocked: bool, reason: str = ""
) -> UserPublic:
    """Block a user (with a reason) or unblock them; effective on their next request."""
    user = await session.get(User, user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    user.status = "blocked" if blocked else "active"
    user.blocked_reason = (reason or None) if blocked else None
    await session.flush()
    return UserPublic.model_validate(user)


async def get_member_profile(*, session: AsyncSession, user_id: int) -> MemberProfile | None:
    """Return what the gateway needs about a user: status, locale, plan and its models."""
    rows = await store.get_profile_rows(session, user_id=user_id)
    if rows is None:
        return None
    user, tenant, tenant_plan, override = rows
    plan = override or tenant_plan
    return MemberProfile(
        user_id=user.id,
        tenant_id=tenant.id,
        status="blocked" if user.status == "blocked" else "active",
        blocked_reason=user.blocked_reason,
        locale=user.locale,
        tenant_locale=tenant.locale,
        timezone=tenant.timezone,
        plan=plan.name,
        allowed_models=list(plan.allowed_models),
        monthly_token_limit=plan.monthly_token_limit,
    )


async def _flush_unique(session: AsyncSession, message: str, param: str) -> None:
    # a concurrent insert may win the race the explicit check above lost
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(message, param=param) from exc


async def ensure_system_admin(
    *, session: AsyncSession, email: str, name: str, password: str
) -> UserPublic:
    """Create a system administrator with a password, or reset an existing one's password."""
    try:
        address = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidRequest(f"invalid e-mail address: {exc}", param="email") from exc
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(
            f"the password needs at least {MIN_PASSWORD_LENGTH} characters", param="password"
        )
    user = await store.get_user_by_email(session, email=address)
    if user is None:
        user = User(tenant_id=None, email=address, name=name, roles=["system_admin"])
        session.add(user)
    elif "system_admin" not in user.roles:
        user.roles = sorted({*user.roles, "system_admin"})
    user.password_hash = PasswordHasher().hash(password)
    await session.flush()
    return UserPublic.model_validate(user)


async def add_team_member(
    *, session: AsyncSession, team_id: int, data: MembershipCreate
) -> MembershipPublic:
    """Add a user of the team's tenant to the team, as leader or member (or change their role)."""
    team = await get_team(session=session, team_id=team_id)
    user = await session.get(User, data.user_id)
    if user is None or user.tenant_id != team.tenant_id:
        raise InvalidRequest(f"user {data.user_id} is not in this team's tenant", param="user_id")
    membership = await store.get_membership(session, team_id=team_id, user_id=data.user_id)
    if membership is None:
        membership = TeamMembership(team_id=team_id, user_id=data.user_id, role=data.role)
        session.add(membership)
    else:
        membership.role = data.role
    await session.flush()
    return MembershipPublic.model_validate(membership)


async def list_team_members(*, session: AsyncSession, team_id: int) -> list[MembershipPublic]:
    """List a team's members and their roles."""
    await get_team(session=session, team_id=team_id)
    return [
        MembershipPublic.model_validate(m)
        for m in await store.list_memberships(session, team_id=team_id)
    ]


async def is_team_member(*, session: AsyncSession, team_id: int, user_id: int) -> bool:
    """Whether the user belongs to the team."""
    return await store.get_membership(session, team_id=team_id, user_id=user_id) is not None


async def list_team_ids_of_user(*, session: AsyncSession, user_id: int) -> list[int]:
    """The user's active teams, the one they joined first first."""
    return await store.list_team_ids_of_user(session, user_id=user_id)


async def list_member_ids(*, session: AsyncSession, team_id: int) -> list[int]:
    """The ids of a team's members."""
    return await store.list_member_ids(session, team_id=team_id)


async def list_tenant_user_ids(*, session: AsyncSession) -> list[int]:
    """The ids of every user who belongs to a tenant."""
    return await store.list_tenant_user_ids(session)
