"""Tenant e-mail domains over the admin API.

Only system administrators map and unmap domains: whoever maps ``example.com`` to a tenant
decides where everyone signing in with an ``@example.com`` address lands (and with which
roles), so a tenant administrator claiming a domain could capture other organisations' people.
Tenant administrators may read their own tenant's domains.
"""

from __future__ import annotations

from fastapi import APIRouter, status

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.domains import DomainCreate, DomainPublic, add_domain, list_domains
from tokengate.auth.domains import remove_domain as unmap_domain
from tokengate.auth.principal import Level
from tokengate.db import utcnow
from tokengate.deps import ActorDep, IdPath, SessionDep

router = APIRouter(prefix="/api/v1", tags=["tenants"])


@router.post("/tenants/{tenant_id}/domains", status_code=status.HTTP_201_CREATED)
async def create_domain(
    tenant_id: IdPath, data: DomainCreate, session: SessionDep, actor: ActorDep
) -> DomainPublic:
    """Map an e-mail domain to the tenant (system administrators only)."""
    await access.require_tenant(session, actor, tenant_id, Level.SYSTEM)
    created = await add_domain(session=session, tenant_id=tenant_id, data=data, now=utcnow())
    await audit.record(
        session,
        actor,
        "tenant_domain.create",
        target_type="tenant_domain",
        target_id=created.domain,
        tenant_id=tenant_id,
        after=created,
    )
    return created


@router.get("/tenants/{tenant_id}/domains")
async def get_domains(
    tenant_id: IdPath, session: SessionDep, actor: ActorDep
) -> list[DomainPublic]:
    """The tenant's e-mail domains (its administrators and system administrators)."""
    await access.require_tenant(session, actor, tenant_id, Level.ADMIN)
    return await list_domains(session=session, tenant_id=tenant_id)


@router.delete("/tenants/{tenant_id}/domains/{domain}", status_code=status.HTTP_204_NO_CONTENT)
async def remove_domain(
    tenant_id: IdPath, domain: str, session: SessionDep, actor: ActorDep
) -> None:
    """Unmap an e-mail domain; people already provisioned through it stay."""
    await access.require_tenant(session, actor, tenant_id, Level.SYSTEM)
    before = await unmap_domain(session=session, tenant_id=tenant_id, domain=domain)
    await audit.record(
        session,
        actor,
        "tenant_domain.delete",
        target_type="tenant_domain",
        target_id=before.domain,
        tenant_id=tenant_id,
        before=before,
    )
