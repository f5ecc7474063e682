from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.principal import Level
from tokengate.deps import ActorDep, SessionDep
from tokengate.ids import MAX_ID
from tokengate.pagination import Page
from tokengate.tenancy import service
from tokengate.tenancy.api.guards import require_colleague
from tokengate.tenancy.api.params import IdPath
from tokengate.tenancy.schemas import (
    MembershipChange,
    MembershipCreate,
    MembershipMove,
    MembershipPublic,
    MembershipUpdate,
)

router = APIRouter()
MEMBER = "/teams/{team_id}/members/{user_id}"
Successor = Annotated[
    int | None,
    Query(ge=1, le=MAX_ID, description="who leads the team instead, when its last leader leaves"),
]


@router.post("/teams/{team_id}/members", status_code=status.HTTP_201_CREATED)
async def add_team_member(
    team_id: IdPath, data: MembershipCreate, session: SessionDep, actor: ActorDep
) -> MembershipPublic:
    """Add a person of the tenant to a team (its leaders or the tenant's admins)."""
    tenant_id = await access.require_team(session, actor, team_id, Level.LEAD)
    await require_colleague(session, actor, data.user_id, tenant_id)
    added = await service.add_team_member(session=session, team_id=team_id, data=data)
    await audit.record(
        session,
        actor,
        "team.member.add",
        target_type="team",
        target_id=team_id,
        tenant_id=tenant_id,
        after=added,
    )
    return added


@router.get("/teams/{team_id}/members")
async def list_team_members(
    team_id: IdPath, session: SessionDep, actor: ActorDep
) -> Page[MembershipPublic]:
    """A team's members and their roles: whoever may read the team may read them."""
    await access.require_team(session, actor, team_id, Level.READ)
    return Page(items=await service.list_team_members(session=session, team_id=team_id), next=None)


@router.patch(MEMBER)
async def update_team_member(
    team_id: IdPath, user_id: IdPath, data: MembershipUpdate, session: SessionDep, actor: ActorDep
) -> MembershipChange:
    """Make a member leader or a leader member; the last leader names a successor."""
    tenant_id = await access.require_team(session, actor, team_id, Level.LEAD)
    if data.successor_user_id is not None:
        await require_colleague(session, actor, data.successor_user_id, tenant_id)
    before = await service.get_team_member(session=session, team_id=team_id, user_id=user_id)
    change = await service.update_team_member(
        session=session, team_id=team_id, user_id=user_id, data=data
    )
    await audit.record(
        session,
        actor,
        "team.member.update",
        target_type="team",
        target_id=team_id,
        tenant_id=tenant_id,
        before=before,
        after=change,
    )
    return change


@router.delete(MEMBER)
async def remove_team_member(
    team_id: IdPath,
    user_id: IdPath,
    session: SessionDep,
    actor: ActorDep,
    successor_user_id: Successor = None,
) -> MembershipChange:
    """Take someone out of a team; the last leader of a team that keeps members names a
    successor."""
    tenant_id = await access.require_team(session, actor, team_id, Level.LEAD)
    if successor_user_id is not None:
        await require_colleague(session, actor, successor_user_id, tenant_id)
    change = await service.remove_team_member(
        session=session, team_id=team_id, user_id=user_id, successor_user_id=successor_user_id
    )
    await audit.record(
        session,
        actor,
        "team.member.remove",
        target_type="team",
        target_id=team_id,
        tenant_id=tenant_id,
        before=change.membership,
        after=change.successor,
    )
    return change


@router.post(MEMBER + "/move")
async def move_team_member(
    team_id: IdPath, user_id: IdPath, data: MembershipMove, session: SessionDep, actor: ActorDep
) -> MembershipChange:
    """Move someone to another team (leading both, or a tenant admin); their past usage stays
    with the old team."""
    tenant_id = await access.require_team(session, actor, team_id, Level.LEAD)
    await access.require_team(session, actor, data.to_team_id, Level.LEAD)
    if data.successor_user_id is not None:
        await require_colleague(session, actor, data.successor_user_id, tenant_id)
    before = await service.get_team_member(session=session, team_id=team_id, user_id=user_id)
    change = await service.move_team_member(
        session=session, team_id=team_id, user_id=user_id, data=data
    )
    await audit.record(
        session,
        actor,
        "team.member.move",
        target_type="team",
        target_id=team_id,
        tenant_id=tenant_id,
        before=before,
        after=change,
    )
    return change
