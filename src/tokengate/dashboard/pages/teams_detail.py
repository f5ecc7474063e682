"""One team: its details (editable by the tenant's admins) and its members with their roles
(managed by its leaders and the tenant's admins, on ``teams_members``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.principal import Level, tenant_filter
from tokengate.dashboard.catalogs import translations
from tokengate.dashboard.forms import N_
from tokengate.dashboard.pages.teams_refusals import ACCESS, HINTS, PERSON_ACCESS, TEAM
from tokengate.dashboard.pages.tenants_refusals import done_message, explained, parsed
from tokengate.dashboard.reads import teams as reads
from tokengate.dashboard.templating import page
from tokengate.dashboard.viewer import Viewer, ViewerDep, is_htmx
from tokengate.deps import IdPath, SessionDep
from tokengate.pagination import MAX_PAGE_SIZE, PageRequest, Sort
from tokengate.tenancy import service
from tokengate.tenancy.api.guards import require_colleague
from tokengate.tenancy.schemas import TEAM_SORTS, USER_SORTS, TeamPublic, TeamUpdate

router = APIRouter()
Given = Annotated[str | None, Form(max_length=4000)]
Done = Annotated[str | None, Query(max_length=16)]
NOTHING = N_("Nothing changed.")


@router.get("/teams/{team_id}")
async def team(
    request: Request, team_id: IdPath, viewer: ViewerDep, session: SessionDep, done: Done = None
) -> Response:
    """A team and its members, for whoever may read the team."""
    with explained(ACCESS):
        await access.require_team(session, viewer.actor, team_id, Level.READ)
    found = await service.get_team(session=session, team_id=team_id)
    return await render_team(
        request, viewer, session, team_id, message=done_message(viewer.locale, done, found.name)
    )


@router.post("/teams/{team_id}")
async def update_team(
    request: Request,
    team_id: IdPath,
    viewer: ViewerDep,
    session: SessionDep,
    name: Given = None,
    description: Given = None,
    owner_user_id: Given = None,
) -> Response:
    """Rename a team, or change its description or the person responsible, as
    PATCH /api/v1/teams/{id}."""
    with explained(ACCESS):
        tenant_id = await access.require_team(session, viewer.actor, team_id, Level.ADMIN)
    before = await service.get_team(session=session, team_id=team_id)
    given = {
        "name": name.strip() if name is not None else None,
        "description": description.strip() if description is not None else None,
        "owner_user_id": int(owner_user_id) if owner_user_id and owner_user_id.isdigit() else None,
    }
    current = before.model_dump()
    changes = {f: v for f, v in given.items() if v is not None and v != current.get(f)}
    words = translations(viewer.locale)
    if not changes:
        return await render_team(request, viewer, session, team_id, message=words.gettext(NOTHING))
    data = parsed(TeamUpdate, HINTS, **changes)
    if data.owner_user_id is not None:
        with explained(PERSON_ACCESS):
            await require_colleague(session, viewer.actor, data.owner_user_id, tenant_id)
    with explained(TEAM, name=data.name or before.name):
        after = await service.update_team(session=session, team_id=team_id, data=data)
    await audit.record(
        session,
        viewer.actor,
        "team.update",
        target_type="team",
        target_id=team_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    if not is_htmx(request):
        return RedirectResponse(f"/teams/{team_id}?done=saved", status_code=303)
    said = words.gettext(N_("Changes to %(name)s were saved.")) % {"name": after.name}
    return await render_team(request, viewer, session, team_id, message=said)


async def render_team(
    request: Request, viewer: Viewer, session: SessionDep, team_id: int, *, message: str | None
) -> Response:
    """The team page (or, for htmx, its content), after an access check by the caller."""
    found = await service.get_team(session=session, team_id=team_id)
    tenant = await service.get_tenant(session=session, tenant_id=found.tenant_id)
    actor = viewer.actor
    can_admin = actor.admin_of(found.tenant_id)
    can_lead = can_admin or team_id in actor.led_team_ids
    members = await reads.members(session, team_id)
    # the people the viewer may list, as GET /api/v1/users shows them
    people = await service.list_users(
        session=session,
        tenant_id=tenant_filter(actor, found.tenant_id),
        search=None,
        page=PageRequest(limit=MAX_PAGE_SIZE),
        user_ids=actor.reach().user_ids,
        sort=Sort.parse("name", USER_SORTS),
    )
    inside = {member.user_id for member in members}
    names = {p.id: p.name for p in people.items} | {m.user_id: m.name for m in members}
    return page(
        request,
        viewer,
        "dashboard/teams_detail.html",
        team=found,
        tenant=tenant,
        owner=names.get(found.owner_user_id) if found.owner_user_id else None,
        members=members,
        people=people.items,
        candidates=[p for p in people.items if p.id not in inside],
        targets=await _targets(session, viewer, found) if can_lead else [],
        can_admin=can_admin and not found.archived,
        can_lead=can_lead and not found.archived,
        message=message,
    )


async def _targets(session: SessionDep, viewer: Viewer, found: TeamPublic) -> list[TeamPublic]:
    """The other active teams of the tenant the viewer may move people to: all for its admins,
    the ones they lead for team leaders."""
    admin = viewer.actor.admin_of(found.tenant_id)
    teams = await service.list_teams(
        session=session,
        tenant_id=found.tenant_id,
        team_ids=None if admin else viewer.actor.led_team_ids,
        search=None,
        page=PageRequest(limit=MAX_PAGE_SIZE),
        sort=Sort.parse("name", TEAM_SORTS),
    )
    return [t for t in teams.items if t.id != found.id]
