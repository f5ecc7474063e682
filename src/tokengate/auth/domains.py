"""Tenant e-mail domains: who signs in by OIDC with ``@example.com`` joins that tenant.

Domains are stored in their ASCII (IDNA) form, lowercase, and belong to one tenant at most.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.auth.models import TenantDomain
from tokengate.errors import Conflict, NotFound

DomainRole = Literal["member", "team_leader", "tenant_admin"]
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def normalize_domain(value: str) -> str | None:
    """The domain's lowercase ASCII form, or None when it is not a valid domain name."""
    text = value.strip().rstrip(".").lower()
    try:
        ascii_form = text.encode("idna").decode("ascii")
    except UnicodeError:
        return None
    labels = ascii_form.split(".")
    if len(ascii_form) > 253 or len(labels) < 2 or not all(_LABEL.match(x) for x in labels):
        return None
    if labels[-1].isdigit():  # an IP address is not a domain
        return None
    return ascii_form


def domain_of_email(email: str) -> str | None:
    """The normalized domain of an e-mail address."""
    _, at, domain = email.rpartition("@")
    return normalize_domain(domain) if at else None


class DomainCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    domain: str = Field(min_length=1, max_length=253, examples=["example.com"])
    roles: list[DomainRole] = Field(
        default_factory=list,
        description="roles given on top of member to people provisioned through this domain",
    )

    @field_validator("domain")
    @classmethod
    def _valid(cls, value: str) -> str:
        normalized = normalize_domain(value)
        if normalized is None:
            raise ValueError(f"{value!r} is not a valid domain name")
        return normalized


class DomainPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    domain: str
    tenant_id: int
    roles: list[str]
    created_at: datetime


async def add_domain(
    *, session: AsyncSession, tenant_id: int, data: DomainCreate, now: datetime
) -> DomainPublic:
    """Map an e-mail domain to a tenant; Conflict when any tenant has it already."""
    if await session.get(TenantDomain, data.domain) is not None:
        raise Conflict(f"the domain {data.domain} is already mapped to a tenant", param="domain")
    row = TenantDomain(
        domain=data.domain,
        tenant_id=tenant_id,
        roles=sorted(set(data.roles) - {"member"}),
        created_at=now,
    )
    session.add(row)
    try:
        await session.flush()
    except IntegrityError as exc:  # another request mapped it in the meantime
        raise Conflict(
            f"the domain {data.domain} is already mapped to a tenant", param="domain"
        ) from exc
    return DomainPublic.model_validate(row)


async def list_domains(*, session: AsyncSession, tenant_id: int) -> list[DomainPublic]:
    """The tenant's domains, alphabetically."""
    rows = await session.scalars(
        select(TenantDomain)
        .where(TenantDomain.tenant_id == tenant_id)
        .order_by(TenantDomain.domain)
    )
    return [DomainPublic.model_validate(row) for row in rows]


async def remove_domain(*, session: AsyncSession, tenant_id: int, domain: str) -> DomainPublic:
    """Unmap a domain from the tenant (people already provisioned stay); return what it was."""
    normalized = normalize_domain(domain)
    row = None if normalized is None else await session.get(TenantDomain, normalized)
    if row is None or row.tenant_id != tenant_id:
        raise NotFound(f"the domain {domain} is not mapped to tenant {tenant_id}")
    before = DomainPublic.model_validate(row)
    await session.delete(row)
    await session.flush()
    return before


async def find_domain(*, session: AsyncSession, email: str) -> TenantDomain | None:
    """The mapping of an e-mail address's domain, if its domain is mapped."""
    domain = domain_of_email(email)
    return None if domain is None else await session.get(TenantDomain, domain)
