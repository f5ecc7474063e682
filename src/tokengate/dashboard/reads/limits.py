"""What a limit applies to, by name: the tenants, teams, people and keys a viewer may set
limits on, and the names of the scopes a list of limits names."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.auth.principal import Principal
from tokengate.keys.models import ApiKey
from tokengate.tenancy.models import Team, Tenant, User

ScopeKey = tuple[str, int]


@dataclass(frozen=True)
class Target:
    """Something a limit can apply to: ``value`` is ``scope:id``, as the forms send it."""

    scope: str
    id: int
    name: str
    tenant_id: int
    tenant: str

    @property
    def value(self) -> str:
        return f"{self.scope}:{self.id}"


async def targets(
    session: AsyncSession, actor: Principal, *, tenant_id: int | None = None
) -> list[Target]:
    """What the actor may set a limit on (admins: their tenant's tenant, teams, people and keys;
    a team leader: the people they lead and their keys), optionally inside one tenant."""
    reach = actor.reach()
    tenant = reach.tenant_id or tenant_id
    admin = actor.is_system or "tenant_admin" in actor.roles
    people = None if admin else actor.led_user_ids
    found: list[Target] = []
    if admin:
        found += await _tenants(session, tenant)
        found += await _teams(session, tenant)
    found += await _users(session, tenant, people)
    found += await _keys(session, tenant, people)
    return found


async def _tenants(session: AsyncSession, tenant_id: int | None) -> list[Target]:
    query = select(Tenant.id, Tenant.name).where(Tenant.archived.is_(False))
    if tenant_id is not None:
        query = query.where(Tenant.id == tenant_id)
    rows = await session.execute(query.order_by(Tenant.name))
    return [Target("tenant", ident, name, ident, name) for ident, name in rows]


async def _teams(session: AsyncSession, tenant_id: int | None) -> list[Target]:
    query = (
        select(Team.id, Team.name, Tenant.id, Tenant.name)
        .join(Tenant, Tenant.id == Team.tenant_id)
        .where(Team.archived.is_(False), Tenant.archived.is_(False))
    )
    if tenant_id is not None:
        query = query.where(Team.tenant_id == tenant_id)
    rows = await session.execute(query.order_by(Tenant.name, Team.name))
    return [Target("team", *row) for row in rows]


async def _users(
    session: AsyncSession, tenant_id: int | None, user_ids: frozenset[int] | None
) -> list[Target]:
    query = (
        select(User.id, User.name, Tenant.id, Tenant.name)
        .join(Tenant, Tenant.id == User.tenant_id)
        .where(User.status != "archived", Tenant.archived.is_(False))
    )
    if tenant_id is not None:
        query = query.where(User.tenant_id == tenant_id)
    if user_ids is not None:
        query = query.where(User.id.in_(sorted(user_ids) or [0]))
    rows = await session.execute(query.order_by(Tenant.name, User.name))
    return [Target("user", *row) for row in rows]


async def _keys(
    session: AsyncSession, tenant_id: int | None, user_ids: frozenset[int] | None
) -> list[Target]:
    query = (
        select(ApiKey.id, ApiKey.name, ApiKey.prefix, User.name, Tenant.id, Tenant.name)
        .join(User, User.id == ApiKey.user_id)
        .join(Tenant, Tenant.id == ApiKey.tenant_id)
        .where(ApiKey.status != "revoked", Tenant.archived.is_(False))
    )
    if tenant_id is not None:
        query = query.where(ApiKey.tenant_id == tenant_id)
    if user_ids is not None:
        query = query.where(ApiKey.user_id.in_(sorted(user_ids) or [0]))
    rows = await session.execute(query.order_by(Tenant.name, User.name, ApiKey.id))
    return [
        Target("key", ident, _key_name(name, prefix, owner), tenant, tenant_name)
        for ident, name, prefix, owner, tenant, tenant_name in rows
    ]


def _key_name(name: str, prefix: str, owner: str) -> str:
    label = f"{name} ({prefix}…)" if name else f"{prefix}…"
    return f"{label} · {owner}"


async def scope_names(session: AsyncSession, scopes: Iterable[ScopeKey]) -> dict[ScopeKey, str]:
    """The name of each tenant, team, user and key named (archived ones too)."""
    wanted: dict[str, set[int]] = {}
    for scope, ident in scopes:
        wanted.setdefault(scope, set()).add(ident)
    names: dict[ScopeKey, str] = {}
    if ids := wanted.get("tenant"):
        rows = await session.execute(select(Tenant.id, Tenant.name).where(Tenant.id.in_(ids)))
        names.update({("tenant", i): n for i, n in rows})
    if ids := wanted.get("team"):
        rows = await session.execute(select(Team.id, Team.name).where(Team.id.in_(ids)))
        names.update({("team", i): n for i, n in rows})
    if ids := wanted.get("user"):
        rows = await session.execute(select(User.id, User.name).where(User.id.in_(ids)))
        names.update({("user", i): n for i, n in rows})
    if ids := wanted.get("key"):
        query = select(ApiKey.id, ApiKey.name, ApiKey.prefix, User.name).join(
            User, User.id == ApiKey.user_id
        )
        keys = await session.execute(query.where(ApiKey.id.in_(ids)))
        names.update({("key", i): _key_name(n, p, o) for i, n, p, o in keys})
    return names


async def tenant_names(session: AsyncSession, tenant_ids: Iterable[int]) -> dict[int, str]:
    """Tenant names by id."""
    ids = set(tenant_ids)
    if not ids:
        return {}
    rows = await session.execute(select(Tenant.id, Tenant.name).where(Tenant.id.in_(ids)))
    return {row[0]: row[1] for row in rows}
