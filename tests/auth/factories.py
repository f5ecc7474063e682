"""Builders for the sign-in tests: accounts with passwords, sign-in calls, TOTP codes."""

from __future__ import annotations

import functools
import itertools
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import pyotp
from sqlalchemy import func, select, update

from tests.factories import make_plan, make_team, make_tenant, make_user
from tokengate.audit.models import AuditEvent
from tokengate.auth.passwords import hash_password
from tokengate.db import transaction, utcnow
from tokengate.runtime import Runtime
from tokengate.tenancy.models import Tenant, User
from tokengate.tenancy.schemas import TenantPublic, UserPublic

PASSWORD = "correct horse battery staple"
_counter = itertools.count(1)


# argon2 is slow on purpose: hash each test password once per run
_hash = functools.cache(hash_password)


@dataclass(frozen=True)
class Account:
    """A user with a password, and their tenant."""

    user: UserPublic
    tenant: TenantPublic
    password: str = PASSWORD

    @property
    def email(self) -> str:
        return self.user.email


async def make_tenant_with_plan(runtime: Runtime, *, max_users: int = 10) -> TenantPublic:
    plan = await make_plan(runtime, max_users=max_users)
    return await make_tenant(runtime, plan=plan.name)


async def make_account(
    runtime: Runtime,
    *,
    tenant: TenantPublic | None = None,
    roles: list[str] | None = None,
    password: str | None = PASSWORD,
) -> Account:
    """A user of the tenant (a fresh one by default) who signs in with ``password``."""
    tenant = tenant or await make_tenant_with_plan(runtime)
    user = await make_user(
        runtime,
        tenant_id=tenant.id,
        email=f"person{next(_counter)}@example.com",
        roles=roles or ["member"],
    )
    hashed = _hash(password) if password else None
    async with transaction(runtime.sessions) as session:
        await session.execute(update(User).where(User.id == user.id).values(password_hash=hashed))
    return Account(user=user, tenant=tenant, password=password or "")


async def make_team_account(
    runtime: Runtime, *, role: str = "member", tenant: TenantPublic | None = None
) -> Account:
    """An account who leads (``role="leader"``) or belongs to a new team of their tenant."""
    account = await make_account(runtime, tenant=tenant)
    if role == "leader":
        await make_team(runtime, tenant_id=account.tenant.id, leaders=[account.user.id])
    else:
        await make_team(runtime, tenant_id=account.tenant.id, members=[account.user.id])
    return account


async def set_user(runtime: Runtime, user_id: int, **values: Any) -> None:
    async with transaction(runtime.sessions) as session:
        await session.execute(update(User).where(User.id == user_id).values(**values))


async def set_tenant(runtime: Runtime, tenant_id: int, **values: Any) -> None:
    async with transaction(runtime.sessions) as session:
        await session.execute(update(Tenant).where(Tenant.id == tenant_id).values(**values))


async def sign_in(
    client: httpx.AsyncClient,
    account: Account,
    *,
    password: str | None = None,
    totp: str | None = None,
    **headers: str,
) -> httpx.Response:
    body: dict[str, Any] = {"email": account.email, "password": password or account.password}
    if totp is not None:
        body["totp"] = totp
    return await client.post("/api/v1/auth/token", json=body, headers=headers)


async def refresh_with(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post("/api/v1/auth/refresh", json={"refresh_token": token})


async def token_headers(client: httpx.AsyncClient, account: Account) -> dict[str, str]:
    """Sign in (no MFA) and return the Authorization header of the access token."""
    response = await sign_in(client, account)
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def code_at(secret: str, when: datetime) -> str:
    """The TOTP code of the secret at a moment."""
    return pyotp.TOTP(secret).at(when)


def next_code(secret: str) -> str:
    """A code the server accepts now and that no earlier call of this test used: the next step's.

    Enrolment accepted the current step, so sign-ins use the one after (within the ±1 window).
    """
    return code_at(secret, utcnow() + timedelta(seconds=30))


async def enrol(client: httpx.AsyncClient, headers: dict[str, str]) -> tuple[str, list[str]]:
    """Turn MFA on through the API; return the secret and the recovery codes."""
    started = await client.post("/api/v1/me/mfa/enrol", headers=headers)
    assert started.status_code == 200, started.text
    secret: str = started.json()["secret"]
    confirmed = await client.post(
        "/api/v1/me/mfa/confirm", json={"code": code_at(secret, utcnow())}, headers=headers
    )
    assert confirmed.status_code == 200, confirmed.text
    codes: list[str] = confirmed.json()["recovery_codes"]
    return secret, codes


async def audit_actions(runtime: Runtime, *, target_id: int | str | None = None) -> list[str]:
    """The actions recorded in the audit log, oldest first (of one target when given)."""
    query = select(AuditEvent.action).order_by(AuditEvent.id)
    if target_id is not None:
        query = query.where(AuditEvent.target_id == str(target_id))
    async with transaction(runtime.sessions) as session:
        return list(await session.scalars(query))


async def count_rows(runtime: Runtime, model: type[Any], *conditions: Any) -> int:
    async with transaction(runtime.sessions) as session:
        found = await session.scalar(select(func.count()).select_from(model).where(*conditions))
    return int(found or 0)
