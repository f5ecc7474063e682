"""Invitations to join a tenant: issued, listed and withdrawn by administrators, accepted by
the invitee (who then signs in)."""

from __future__ import annotations

from fastapi import APIRouter, Request, status

from tokengate.audit import service as audit
from tokengate.auth import access, invitations, refresh
from tokengate.auth.principal import Level, Owner, Principal, require, tenant_filter
from tokengate.auth.schemas import (
    InvitationAccept,
    InvitationCreate,
    InvitationIssued,
    InvitationPublic,
    TokenPair,
)
from tokengate.db import utcnow
from tokengate.deps import ActorDep, IdPath, IdQuery, PageDep, RuntimeDep, SessionDep, client_ip
from tokengate.errors import NotFound
from tokengate.pagination import Page

router = APIRouter(tags=["auth"])


@router.post("/invitations", status_code=status.HTTP_201_CREATED)
async def create_invitation(
    data: InvitationCreate, session: SessionDep, actor: ActorDep, runtime: RuntimeDep
) -> InvitationIssued:
    """Invite someone into a tenant; the answer holds the one-time token and its link."""
    await access.require_tenant(session, actor, data.tenant_id, Level.ADMIN)
    issued = await invitations.create_invitation(
        session, data=data, created_by=actor.user_id, settings=runtime.settings, now=utcnow()
    )
    await audit.record(
        session,
        actor,
        "invitation.create",
        target_type="invitation",
        target_id=issued.id,
        tenant_id=issued.tenant_id,
        after=InvitationPublic.model_validate(issued.model_dump()),
    )
    return issued


@router.get("/invitations")
async def list_invitations(
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    tenant_id: IdQuery = None,
) -> Page[InvitationPublic]:
    """Invitations the caller may see: their tenant's (admins) or their teams' (leaders)."""
    tenant = tenant_filter(actor, tenant_id)
    teams = None if actor.admin_of(actor.tenant_id) else actor.led_team_ids
    return await invitations.list_invitations(
        session, tenant_id=tenant, team_ids=teams, page=page, now=utcnow()
    )


@router.post("/invitations/{invitation_id}/revoke")
async def revoke_invitation(
    invitation_id: IdPath, session: SessionDep, actor: ActorDep
) -> InvitationPublic:
    """Withdraw a pending invitation: its link stops working."""
    what = f"invitation {invitation_id}"
    tenant_id = await invitations.invitation_tenant(session, invitation_id=invitation_id)
    if tenant_id is None:
        raise NotFound(f"{what} does not exist")
    require(actor, Owner(tenant_id=tenant_id, shared="tenant"), Level.ADMIN, what)
    before, after = await invitations.revoke_invitation(
        session, invitation_id=invitation_id, now=utcnow()
    )
    await audit.record(
        session,
        actor,
        "invitation.revoke",
        target_type="invitation",
        target_id=invitation_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return after


@router.post("/auth/invitations/accept", status_code=status.HTTP_201_CREATED)
async def accept_invitation(
    data: InvitationAccept, request: Request, session: SessionDep, runtime: RuntimeDep
) -> TokenPair:
    """Join a tenant: create the invited account with a password and sign it in."""
    now = utcnow()
    user = await invitations.accept_invitation(session, data=data, now=now)
    newcomer = Principal(
        user_id=user.id,
        label=user.email,
        tenant_id=user.tenant_id,
        roles=frozenset(user.roles),
        ip=client_ip(request),
    )
    await audit.record(
        session,
        newcomer,
        "invitation.accept",
        target_type="user",
        target_id=user.id,
        tenant_id=user.tenant_id,
        after={"email": user.email, "roles": user.roles},
    )
    return await refresh.issue_token_pair(session, settings=runtime.settings, user=user, now=now)
