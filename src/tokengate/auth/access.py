"""Checks an admin request's caller against the owner of what it touches.

Each ``require_*`` finds the object's owner and raises NotFound when the caller cannot see it
(another tenant's id looks exactly like an id that does not exist) or PermissionDenied when
they see it but their roles do not allow the action.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.auth import store
from tokengate.auth.principal import Level, Owner, Principal, require
from tokengate.errors import NotFound

ScopeName = str  # "tenant" | "team" | "user" | "key"


async def require_tenant(
    session: AsyncSession, actor: Principal, tenant_id: int, level: Level
) -> None:
    """The tenant itself: everyone of it may read it."""
    owner = (
        Owner(tenant_id=tenant_id, shared="tenant")
        if await store.tenant_exists(session, tenant_id)
        else None
    )
    require(actor, owner, level, f"tenant {tenant_id}")


async def require_team(session: AsyncSession, actor: Principal, team_id: int, level: Level) -> int:
    """A team: its members may read it, its leaders act on its members. Returns its tenant."""
    tenant_id = await store.team_tenant(session, team_id)
    if tenant_id is None:
        raise NotFound(f"team {team_id} does not exist")
    owner = Owner(tenant_id=tenant_id, team_ids=frozenset({team_id}), shared="team")
    require(actor, owner, level, f"team {team_id}")
    return tenant_id


async def require_user(
    session: AsyncSession, actor: Principal, user_id: int, level: Level
) -> int | None:
    """A person: themself, their team leaders and their tenant's admins. Returns their tenant."""
    exists, tenant_id = await store.user_tenant(session, user_id)
    owner = Owner(tenant_id=tenant_id, user_id=user_id) if exists else None
    require(actor, owner, level, f"user {user_id}")
    return tenant_id


async def require_key(session: AsyncSession, actor: Principal, key_id: int, level: Level) -> int:
    """A virtual key: as its owner. Returns its tenant."""
    found = await store.key_owner(session, key_id)
    if found is None:
        raise NotFound(f"key {key_id} does not exist")
    require(actor, Owner(tenant_id=found[0], user_id=found[1]), level, f"key {key_id}")
    return found[0]


async def require_scope(
    session: AsyncSession,
    actor: Principal,
    scope: ScopeName,
    scope_id: int,
    level: Level,
    *,
    tenant_id: int | None = None,
) -> int:
    """What a limit or an exemption applies to; returns the tenant it lives in.

    Tenant- and team-wide things are shared with the tenant or the team (everyone there may
    read the limits that bind them) and only its admins change them; a person's and a key's
    things are their team leaders' to change as well.
    """
    owner: Owner | None
    what = f"{scope} {scope_id}"
    if scope == "tenant":
        exists = await store.tenant_exists(session, scope_id)
        owner = Owner(tenant_id=scope_id, shared="tenant") if exists else None
    elif scope == "team":
        team_tenant = await store.team_tenant(session, scope_id)
        owner = (
            None
            if team_tenant is None
            else Owner(
                tenant_id=team_tenant,
                team_ids=frozenset({scope_id}),
                shared="team",
            )
        )
        # a leader reads their team's limits but only an admin changes them
        if owner is not None and level >= Level.LEAD:
            level = Level.ADMIN
    elif scope == "user":
        exists, user_tenant = await store.user_tenant(session, scope_id)
        owner = Owner(tenant_id=user_tenant, user_id=scope_id) if exists else None
    else:
        found = await store.key_owner(session, scope_id)
        owner = None if found is None else Owner(tenant_id=found[0], user_id=found[1])
    if owner is not None and tenant_id is not None and owner.tenant_id != tenant_id:
        owner = None  # the body names another tenant than the object's
    require(actor, owner, level, what)
    if owner is None or owner.tenant_id is None:  # a system administrator's own scope
        raise NotFound(f"{what} does not exist")
    return owner.tenant_id


async def require_limit(
    session: AsyncSession, actor: Principal, limit_id: int, level: Level
) -> int:
    """A limit: as what it applies to. Returns its tenant."""
    found = await store.limit_scope(session, limit_id)
    if found is None:
        raise NotFound(f"limit {limit_id} does not exist")
    tenant_id, scope, scope_id = found
    try:
        return await require_scope(session, actor, scope, scope_id, level, tenant_id=tenant_id)
    except NotFound:
        # name the limit, not what it applies to
        raise NotFound(f"limit {limit_id} does not exist") from None


async def require_model(
    session: AsyncSession, actor: Principal, model_id: int, level: Level
) -> None:
    """A model of the catalogue: everyone reads it, only system administrators change it."""
    owner = (
        Owner(tenant_id=None, shared="all") if await store.model_exists(session, model_id) else None
    )
    require(actor, owner, level, f"model {model_id}")


def require_system(actor: Principal, what: str) -> None:
    """System-wide actions (plans, tenants, models): system administrators only."""
    require(actor, Owner(tenant_id=None, shared="all"), Level.SYSTEM, what)
