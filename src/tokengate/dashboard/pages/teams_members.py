"""A team's members: add one, make a member leader or a leader member, remove one, move one
to another team. The same access checks, service calls and audit records as
``/api/v1/teams/{id}/members``; the last leader of a team names a successor."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from pydantic import BaseModel, ConfigDict
from starlette.responses import RedirectResponse, Response

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.principal import Level
from tokengate.dashboard.catalogs import translations
from tokengate.dashboard.forms import N_
from tokengate.dashboard.pages.teams_detail import render_team
from tokengate.dashboard.pages.teams_refusals import ACCESS, HINTS, MEMBERS, PERSON_ACCESS
from tokengate.dashboard.pages.tenants_refusals import explained, parsed
from tokengate.dashboard.reads import teams as reads
from tokengate.dashboard.viewer import Viewer, ViewerDep, is_htmx
from tokengate.deps import IdPath, SessionDep
from tokengate.errors import NotFound
from tokengate.ids import Id
from tokengate.tenancy import service
from tokengate.tenancy.api.guards import require_colleague
from tokengate.tenancy.schemas import (
    MembershipChange,
    MembershipCreate,
    MembershipMove,
    MembershipUpdate,
)

router = APIRouter()
MEMBER = "/teams/{team_id}/members/{user_id}"
Text = Annotated[str, Form(max_length=20)]


class _Successor(BaseModel):
    """Who leads the team instead, when its last leader leaves (DELETE's query parameter)."""

    model_config = ConfigDict(extra="forbid")

    successor_user_id: Id | None = None


@router.post("/teams/{team_id}/members")
async def add_member(
    request: Request,
    team_id: IdPath,
    viewer: ViewerDep,
    session: SessionDep,
    user_id: Text = "",
    role: Text = "member",
) -> Response:
    """Add a person of the tenant to the team, as POST /api/v1/teams/{id}/members."""
    tenant_id = await _lead(session, viewer, team_id)
    data = parsed(MembershipCreate, HINTS, user_id=user_id, role=role)
    with explained(PERSON_ACCESS):
        await require_colleague(session, viewer.actor, data.user_id, tenant_id)
    values = await _names(session, team_id, data.user_id, colleague=True)
    with explained(MEMBERS, **values):
        added = await service.add_team_member(session=session, team_id=team_id, data=data)
    await audit.record(
        session,
        viewer.actor,
        "team.member.add",
        target_type="team",
        target_id=team_id,
        tenant_id=tenant_id,
        after=added,
    )
    said = N_("%(name)s joined %(team)s as a leader.")
    if data.role == "member":
        said = N_("%(name)s joined %(team)s as a member.")
    return await _answer(request, viewer, session, team_id, said, values)


@router.post(MEMBER + "/role")
async def change_role(
    request: Request,
    team_id: IdPath,
    user_id: IdPath,
    viewer: ViewerDep,
    session: SessionDep,
    role: Text = "",
    successor_user_id: Text = "",
) -> Response:
    """Make a member leader or a leader member, as PATCH /api/v1/teams/{id}/members/{user}."""
    tenant_id = await _lead(session, viewer, team_id)
    data = parsed(MembershipUpdate, HINTS, role=role, successor_user_id=successor_user_id or None)
    if data.successor_user_id is not None:
        with explained(PERSON_ACCESS):
            await require_colleague(session, viewer.actor, data.successor_user_id, tenant_id)
    values = await _names(session, team_id, user_id)
    with explained(MEMBERS, **values):
        before = await service.get_team_member(session=session, team_id=team_id, user_id=user_id)
        change = await service.update_team_member(
            session=session, team_id=team_id, user_id=user_id, data=data
        )
    await audit.record(
        session,
        viewer.actor,
        "team.member.update",
        target_type="team",
        target_id=team_id,
        tenant_id=tenant_id,
        before=before,
        after=change,
    )
    said = N_("%(name)s now leads %(team)s.")
    if data.role == "member":
        said = N_("%(name)s is now a member of %(team)s.")
    return await _answer(request, viewer, session, team_id, said, values, change)


@router.post(MEMBER + "/remove")
async def remove_member(
    request: Request,
    team_id: IdPath,
    user_id: IdPath,
    viewer: ViewerDep,
    session: SessionDep,
    successor_user_id: Text = "",
) -> Response:
    """Take someone out of the team, as DELETE /api/v1/teams/{id}/members/{user}."""
    tenant_id = await _lead(session, viewer, team_id)
    data = parsed(_Successor, HINTS, successor_user_id=successor_user_id or None)
    if data.successor_user_id is not None:
        with explained(PERSON_ACCESS):
            await require_colleague(session, viewer.actor, data.successor_user_id, tenant_id)
    values = await _names(session, team_id, user_id)
    with explained(MEMBERS, **values):
        change = await service.remove_team_member(
            session=session,
            team_id=team_id,
            user_id=user_id,
            successor_user_id=data.successor_user_id,
        )
    await audit.record(
        session,
        viewer.actor,
        "team.member.remove",
        target_type="team",
        target_id=team_id,
        tenant_id=tenant_id,
        before=change.membership,
        after=change.successor,
    )
    said = N_("%(name)s was removed from %(team)s.")
    return await _answer(request, viewer, session, team_id, said, values, change)


@router.post(MEMBER + "/move")
async def move_member(
    request: Request,
    team_id: IdPath,
    user_id: IdPath,
    viewer: ViewerDep,
    session: SessionDep,
    to_team_id: Text = "",
    role: Text = "member",
    successor_user_id: Text = "",
) -> Response:
    """Move someone to another team, as POST /api/v1/teams/{id}/members/{user}/move."""
    tenant_id = await _lead(session, viewer, team_id)
    data = parsed(
        MembershipMove,
        HINTS,
        to_team_id=to_team_id,
        role=role,
        successor_user_id=successor_user_id or None,
    )
    await _lead(session, viewer, data.to_team_id)
    if data.successor_user_id is not None:
        with explained(PERSON_ACCESS):
            await require_colleague(session, viewer.actor, data.successor_user_id, tenant_id)
    values = await _names(session, team_id, user_id, target=data.to_team_id)
    with explained(MEMBERS, **values):
        before = await service.get_team_member(session=session, team_id=team_id, user_id=user_id)
        change = await service.move_team_member(
            session=session, team_id=team_id, user_id=user_id, data=data
        )
    await audit.record(
        session,
        viewer.actor,
        "team.member.move",
        target_type="team",
        target_id=team_id,
        tenant_id=tenant_id,
        before=before,
        after=change,
    )
    said = N_("%(name)s moved to %(target)s.")
    return await _answer(request, viewer, session, team_id, said, values, change)


async def _lead(session: SessionDep, viewer: Viewer, team_id: int) -> int:
    """The team's tenant, when the viewer leads the team or administers its tenant."""
    with explained(ACCESS):
        return await access.require_team(session, viewer.actor, team_id, Level.LEAD)


async def _names(
    session: SessionDep,
    team_id: int,
    user_id: int,
    *,
    target: int | None = None,
    colleague: bool = False,
) -> dict[str, str]:
    """What the messages name: the person, the team and the team they move to. Someone not
    in the team is named only once known to be of its tenant (``colleague``)."""
    team = await service.get_team(session=session, team_id=team_id)
    moved_to = await service.get_team(session=session, team_id=target) if target else team
    roster = {member.user_id: member.name for member in await reads.members(session, team_id)}
    name = roster.get(user_id)
    if name is None and colleague:
        name = await _colleague_name(session, user_id)
    return {"name": name or f"#{user_id}", "team": team.name, "target": moved_to.name}


async def _colleague_name(session: SessionDep, user_id: int) -> str:
    """The name of someone already checked to be of the team's tenant."""
    try:
        return (await service.get_user(session=session, user_id=user_id)).name
    except NotFound:
        return f"#{user_id}"


async def _answer(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    team_id: int,
    message: str,
    values: dict[str, str],
    change: MembershipChange | None = None,
) -> Response:
    """Back to the team: the page for a plain form, the page's content for htmx."""
    if not is_htmx(request):
        return RedirectResponse(f"/teams/{team_id}?done=members", status_code=303)
    words = translations(viewer.locale)
    said = words.gettext(message) % values
    if change is not None and change.successor is not None:
        successor = await _colleague_name(session, change.successor.user_id)
        said += " " + words.gettext(N_("%(name)s leads the team now.")) % {"name": successor}
    return await render_team(request, viewer, session, team_id, message=said)
