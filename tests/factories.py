"""Small builders of test data, through the services (as the admin API would)."""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from tokengate.auth.tokens import issue_access_token
from tokengate.catalog import service as catalog
from tokengate.catalog.schemas import ModelCreate, ModelPublic
from tokengate.db import transaction, utcnow
from tokengate.keys import service as keys
from tokengate.keys.schemas import KeyCreate, KeyIssued
from tokengate.runtime import Runtime
from tokengate.tenancy import service as tenancy
from tokengate.tenancy.schemas import (
    MembershipCreate,
    PlanCreate,
    PlanPublic,
    TeamCreate,
    TeamPublic,
    TenantCreate,
    TenantPublic,
    UserCreate,
    UserPublic,
)

_counter = itertools.count(1)


async def make_plan(runtime: Runtime, **overrides: object) -> PlanPublic:
    values: dict[str, object] = {
        "name": f"plan-{next(_counter)}",
        "monthly_token_limit": 1_000_000,
        "allowed_models": ["C1"],
        "max_users": 10,
    }
    values.update(overrides)
    async with transaction(runtime.sessions) as session:
        return await tenancy.create_plan(session=session, data=PlanCreate.model_validate(values))


async def make_tenant(runtime: Runtime, *, plan: str, **overrides: object) -> TenantPublic:
    values: dict[str, object] = {"name": f"tenant-{next(_counter)}", "plan": plan}
    values.update(overrides)
    async with transaction(runtime.sessions) as session:
        return await tenancy.create_tenant(
            session=session, data=TenantCreate.model_validate(values)
        )


async def make_user(runtime: Runtime, *, tenant_id: int, **overrides: object) -> UserPublic:
    n = next(_counter)
    values: dict[str, object] = {
        "tenant_id": tenant_id,
        "email": f"user{n}@example.com",
        "name": f"User {n}",
    }
    values.update(overrides)
    async with transaction(runtime.sessions) as session:
        return await tenancy.create_user(session=session, data=UserCreate.model_validate(values))


async def make_model(runtime: Runtime, *, base_url: str, **overrides: object) -> ModelPublic:
    values: dict[str, object] = {
        "name": "C1",
        "provider": "openai_compatible",
        "upstream_model": "column-c1",
        "base_url": base_url,
        "api_key": "sk-upstream-secret-1234",
        "input_price_per_mtok": Decimal("0.5"),
        "output_price_per_mtok": Decimal("1.5"),
    }
    values.update(overrides)
    async with transaction(runtime.sessions) as session:
        return await catalog.register_model(
            session=session, box=runtime.box, data=ModelCreate.model_validate(values)
        )


async def make_key(
    runtime: Runtime, *, user_id: int, expires_at: datetime | None = None
) -> KeyIssued:
    async with transaction(runtime.sessions) as session:
        return await keys.issue_key(
            session=session, data=KeyCreate(user_id=user_id, expires_at=expires_at)
        )


@dataclass(frozen=True)
class Member:
    """A user of a fresh tenant with a key, on a plan allowing the given models."""

    plan: PlanPublic
    tenant: TenantPublic
    user: UserPublic
    key: str


async def make_member(
    runtime: Runtime, *, allowed_models: list[str] | None = None, **user: object
) -> Member:
    plan = await make_plan(runtime, allowed_models=allowed_models or ["C1"])
    tenant = await make_tenant(runtime, plan=plan.name)
    member = await make_user(runtime, tenant_id=tenant.id, **user)
    key = await make_key(runtime, user_id=member.id)
    return Member(plan=plan, tenant=tenant, user=member, key=key.key)


def bearer(runtime: Runtime, user: UserPublic, *, auth_version: int = 0) -> dict[str, str]:
    """Headers carrying a fresh JWT access token of the user, as /api/v1/auth/token issues."""
    token, _ = issue_access_token(
        runtime.settings, user_id=user.id, auth_version=auth_version, now=utcnow()
    )
    return {"Authorization": f"Bearer {token}"}


async def make_team(
    runtime: Runtime, *, tenant_id: int, leaders: Sequence[int] = (), members: Sequence[int] = ()
) -> TeamPublic:
    """A team of the tenant with the given leaders and members."""
    async with transaction(runtime.sessions) as session:
        team = await tenancy.create_team(
            session=session,
            data=TeamCreate(tenant_id=tenant_id, name=f"team-{next(_counter)}"),
        )
        for user_id, role in [*((u, "leader") for u in leaders), *((u, "member") for u in members)]:
            await tenancy.add_team_member(
                session=session,
                team_id=team.id,
                data=MembershipCreate(user_id=user_id, role=role),
            )
    return team
