from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from tests.factories import bearer, make_plan, make_tenant, make_user
from tests.serving import serve_app
from tokengate.audit.models import AuditEvent
from tokengate.runtime import Runtime
from tokengate.tenancy.schemas import UserPublic


@dataclass(frozen=True)
class Reader:
    """A signed-in user of a tenant, with the headers of their access token."""

    user: UserPublic
    headers: dict[str, str]


@pytest.fixture
async def tenant_admin(runtime: Runtime) -> Reader:
    """A tenant administrator: may read the catalogue, not change it."""
    plan = await make_plan(runtime)
    tenant = await make_tenant(runtime, plan=plan.name)
    user = await make_user(runtime, tenant_id=tenant.id, roles=["tenant_admin"])
    return Reader(user=user, headers=bearer(runtime, user))


async def audit_events(runtime: Runtime, action: str | None = None) -> list[AuditEvent]:
    """The audit records about models, oldest first."""
    query = select(AuditEvent).where(AuditEvent.target_type == "model").order_by(AuditEvent.id)
    if action is not None:
        query = query.where(AuditEvent.action == action)
    async with runtime.sessions() as session:
        return list(await session.scalars(query))


@pytest.fixture
async def gateway_url(app: FastAPI) -> AsyncIterator[str]:
    """The gateway on a real loopback port, for the OpenAI SDK."""
    async with serve_app(app, lifespan="off") as url:
        yield url
