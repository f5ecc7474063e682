from __future__ import annotations

from datetime import datetime

from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.auth.passwords import check_strength, hash_password
from tokengate.auth.sessions import end_user_sessions
from tokengate.errors import Conflict, InvalidRequest, NotFound
from tokengate.pagination import BY_ID, Page, PageRequest, Sort, SortedPage
from tokengate.tenancy import store
from tokengate.tenancy.models import Tenant, User
from tokengate.tenancy.schemas import (
    AccountStatus,
    Role,
    UserCreate,
    UserPublic,
    UserUpdate,
)
from tokengate.tenancy.service.plans import active_plan_named
from tokengate.tenancy.service.tenants import ensure_open


async def create_user(*, session: AsyncSession, data: UserCreate) -> UserPublic:
    """Create a user in a tenant, within the plan's maximum number of users."""
    found = await store.get_tenant_with_plan(session, tenant_id=data.tenant_id)
    if found is None:
        raise InvalidRequest(f"tenant {data.tenant_id} does not exist", param="tenant_id")
    tenant, plan = found
    ensure_open(tenant)
    if await store.count_users(session, tenant_id=tenant.id) >= plan.max_users:
        raise Conflict(
            f"the {plan.name} plan allows at most {plan.max_users} users: archive someone or "
            "move the tenant to a larger plan first",
            param="tenant_id",
        )
    email = data.email.lower()
    await _check_email_free(session, email)
    override = await active_plan_named(session, data.plan, param="plan") if data.plan else None
    user = User(
        tenant_id=tenant.id,
        email=email,
        name=data.name,
        roles=sorted(set(data.roles)),
        locale=data.locale,
        plan_id=override.id if override else None,
        password_hash=_password_hash(tenant, data),
        status="active",
    )
    session.add(user)
    if not await store.flush_unique(session):
        raise _email_taken(email)
    return UserPublic.model_validate(user)


async def list_users(
    *,
    session: AsyncSession,
    tenant_id: int | None,
    search: str | None,
    page: PageRequest,
    user_ids: frozenset[int] | None = None,
    team_id: int | None = None,
    role: Role | None = None,
    status: AccountStatus | None = None,
    include_archived: bool = False,
    sort: Sort = BY_ID,
) -> Page[UserPublic]:
    """List users matching the filters (archived ones only when asked)."""
    window = SortedPage.of(page, sort)
    rows = await store.list_users(
        session,
        tenant_id=tenant_id,
        user_ids=user_ids,
        team_id=team_id,
        role=role,
        status=status,
        include_archived=include_archived,
        search=search,
        page=window,
    )
    return Page(
        items=[UserPublic.model_validate(user) for (user,), _ in rows],
        next=window.next_cursor(rows[-1][1] if rows else None, len(rows)),
    )


async def get_user(*, session: AsyncSession, user_id: int) -> UserPublic:
    """Return one user or raise NotFound."""
    return UserPublic.model_validate(await _user(session, user_id))


async def update_user(*, session: AsyncSession, user_id: int, data: UserUpdate) -> UserPublic:
    """Change a user's e-mail, name, roles, language or individual plan."""
    user = await _live_user(session, user_id)
    changes = data.model_dump(exclude_unset=True)
    if "email" in changes:
        changes["email"] = changes["email"].lower()
        if changes["email"] != user.email:
            await _check_email_free(session, changes["email"])
    if "roles" in changes:
        changes["roles"] = await _new_roles(session, user, set(changes["roles"]))
    if "plan" in changes:
        name = changes.pop("plan")
        user.plan_id = (await active_plan_named(session, name, param="plan")).id if name else None
    for field, value in changes.items():
        setattr(user, field, value)
    if not await store.flush_unique(session):
        raise _email_taken(user.email)
    return UserPublic.model_validate(user)


async def archive_user(*, session: AsyncSession, user_id: int, now: datetime) -> UserPublic:
    """Archive someone who left: signed out everywhere, keys dead, out of their teams, no longer
    counted against the plan. Their usage history stays."""
    user = await _live_user(session, user_id)
    await _keep_an_admin(session, user, param=None)
    user.status = "archived"
    user.blocked_reason = None
    # tokens carry the version they were issued at: bumping it ends them
    user.auth_version += 1
    await end_user_sessions(session, user.id, now=now)
    for membership in await store.list_memberships_of_user(session, user_id=user.id):
        await session.delete(membership)
    if user.tenant_id is not None:
        await _hand_over_teams(session, user.id, user.tenant_id)
    await session.flush()
    return UserPublic.model_validate(user)


async def block_user(*, session: AsyncSession, user_id: int, reason: str) -> UserPublic:
    """Block a user's gateway use (with a reason); effective on their next request."""
    user = await _live_user(session, user_id)
    user.status = "blocked"
    user.blocked_reason = reason or None
    await session.flush()
    return UserPublic.model_validate(user)


async def unblock_user(*, session: AsyncSession, user_id: int) -> UserPublic:
    """Let a blocked user use the gateway again."""
    user = await _live_user(session, user_id)
    if user.status != "blocked":
        raise Conflict(f"user {user_id} is not blocked")
    user.status = "active"
    user.blocked_reason = None
    await session.flush()
    return UserPublic.model_validate(user)


async def set_user_blocked(
    *, session: AsyncSession, user_id: int, blocked: bool, reason: str = ""
) -> UserPublic:
    """Block (with a reason) or unblock a user, leaving an archived one as it is."""
    user = await _user(session, user_id)
    if user.status != "archived":
        user.status = "blocked" if blocked else "active"
        user.blocked_reason = (reason or None) if blocked else None
        await session.flush()
    return UserPublic.model_validate(user)


async def ensure_system_admin(
    *, session: AsyncSession, email: str, name: str, password: str
) -> UserPublic:
    """Create a system administrator with a password, or reset an existing one's password."""
    try:
        address = validate_email(email, check_deliverability=False).normalized.lower()
    except EmailNotValidError as exc:
        raise InvalidRequest(f"invalid e-mail address: {exc}", param="email") from exc
    check_strength(password)
    user = await store.get_user_by_email(session, email=address)
    if user is None:
        user = User(tenant_id=None, email=address, name=name, roles=["system_admin"])
        session.add(user)
    elif "system_admin" not in user.roles:
        user.roles = sorted({*user.roles, "system_admin"})
    user.password_hash = hash_password(password)
    await session.flush()
    return UserPublic.model_validate(user)


async def set_password(*, session: AsyncSession, user_id: int, password: str) -> None:
    """Give a user a password for the sign-in page (the demo's accounts)."""
    check_strength(password)
    user = await _live_user(session, user_id)
    user.password_hash = hash_password(password)
    await session.flush()


async def _new_roles(session: AsyncSession, user: User, roles: set[str]) -> list[str]:
    if user.tenant_id is None and "system_admin" not in roles:
        raise InvalidRequest(
            "a system administrator belongs to no tenant and must keep system_admin",
            param="roles",
        )
    if "tenant_admin" in user.roles and "tenant_admin" not in roles:
        await _keep_an_admin(session, user, param="roles")
    return sorted(roles)


async def _keep_an_admin(session: AsyncSession, user: User, *, param: str | None) -> None:
    # a tenant always keeps someone who can administer it
    if user.tenant_id is None or "tenant_admin" not in user.roles:
        return
    admins = await store.list_tenant_admin_ids(session, tenant_id=user.tenant_id)
    if admins == [user.id]:
        raise Conflict(
            f"user {user.id} is the last tenant administrator of their tenant: make someone "
            "else tenant_admin first",
            param=param,
        )


async def _hand_over_teams(session: AsyncSession, user_id: int, tenant_id: int) -> None:
    # the teams they owned fall to the tenant's first remaining administrator
    admins = await store.list_tenant_admin_ids(session, tenant_id=tenant_id)
    heir = next((a for a in admins if a != user_id), None)
    for team in await store.list_teams_owned_by(session, user_id=user_id):
        team.owner_user_id = heir


def _password_hash(tenant: Tenant, data: UserCreate) -> str | None:
    if data.password is None:
        return None
    if not tenant.local_login:
        raise InvalidRequest(
            f"tenant {tenant.name!r} signs people in only through its identity provider "
            "(local_login is off): create the user without a password",
            param="password",
        )
    password = data.password.get_secret_value()
    check_strength(password)
    return hash_password(password)


async def _user(session: AsyncSession, user_id: int) -> User:
    user = await store.get_user(session, user_id=user_id)
    if user is None:
        raise NotFound(f"user {user_id} does not exist")
    return user


async def _live_user(session: AsyncSession, user_id: int) -> User:
    user = await _user(session, user_id)
    if user.status == "archived":
        raise Conflict(f"user {user_id} is archived and can no longer change")
    return user


async def _check_email_free(session: AsyncSession, email: str) -> None:
    if await store.get_user_by_email(session, email=email) is not None:
        raise _email_taken(email)


def _email_taken(email: str) -> Conflict:
    return Conflict(f"a user with the e-mail {email} already exists", param="email")
