"""팀 관리 / Teams: the teams the viewer may see, searched by name and filtered by tenant;
creating and archiving one (tenant administrators). One team and its members: ``teams_detail``
and ``teams_members``.

Writes run the same access checks, service calls and audit records as ``/api/v1/teams``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.principal import Level, tenant_filter
from tokengate.dashboard.catalogs import translations
from tokengate.dashboard.forms import N_, say
from tokengate.dashboard.pages import teams_detail, teams_members
from tokengate.dashboard.pages.teams_refusals import (
    ACCESS,
    HINTS,
    ROLE_REFUSED,
    TEAM,
    TENANT_ACCESS,
    require_leader,
)
from tokengate.dashboard.pages.tenants_refusals import explained, parsed
from tokengate.dashboard.reads import teams as reads
from tokengate.dashboard.templating import page
from tokengate.dashboard.viewer import Viewer, ViewerDep, is_htmx
from tokengate.deps import IdPath, SessionDep
from tokengate.errors import PermissionDenied
from tokengate.pagination import MAX_PAGE_SIZE, PageRequest, Sort
from tokengate.tenancy import service
from tokengate.tenancy.api.guards import require_tenant_admin
from tokengate.tenancy.schemas import (
    TEAM_SORTS,
    TENANT_SORTS,
    TeamCreate,
    TeamPublic,
    TenantPublic,
)

router = APIRouter()
router.include_router(teams_detail.router)
router.include_router(teams_members.router)
PAGE_SIZE = 50
LISTING = "team-listing"
Text = Annotated[str, Form(max_length=400)]
LongText = Annotated[str, Form(max_length=4000)]
Search = Annotated[str | None, Query(max_length=200)]
Cursor = Annotated[str | None, Query(max_length=400)]
TenantQuery = Annotated[str | None, Query(max_length=12)]


@dataclass(frozen=True)
class Row:
    """A team as the list shows it."""

    team: TeamPublic
    tenant: str
    leaders: list[str]


@router.get("/teams")
async def teams(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    search: Search = None,
    tenant_id: TenantQuery = None,
    archived: bool = False,
    cursor: Cursor = None,
) -> Response:
    """The teams the viewer may see: a tenant's for its admins, the ones they lead or are in
    for team leaders."""
    require_leader(viewer)
    # an empty choice of the filter means every tenant
    chosen = int(tenant_id) if tenant_id and tenant_id.isdigit() else None
    block = "listing" if is_htmx(request) and request.headers.get("hx-target") == LISTING else None
    return await _render(
        request,
        viewer,
        session,
        search=search,
        tenant_id=chosen,
        archived=archived,
        cursor=cursor,
        block=block,
    )


@router.post("/teams")
async def create_team(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    name: Text = "",
    description: LongText = "",
    tenant_id: Text = "",
) -> Response:
    """Create a team in a tenant (its admins), as POST /api/v1/teams."""
    if not viewer.is_admin:
        raise PermissionDenied(localized=say(ROLE_REFUSED))
    data = parsed(
        TeamCreate,
        HINTS,
        tenant_id=tenant_id or viewer.tenant_id,
        name=name,
        description=description.strip(),
    )
    with explained(TENANT_ACCESS):
        await require_tenant_admin(session, viewer.actor, data.tenant_id)
    with explained(TEAM, name=data.name):
        team = await service.create_team(session=session, data=data)
    await audit.record(
        session,
        viewer.actor,
        "team.create",
        target_type="team",
        target_id=team.id,
        tenant_id=team.tenant_id,
        after=team,
    )
    if not is_htmx(request):
        return RedirectResponse(f"/teams/{team.id}?done=created", status_code=303)
    said = translations(viewer.locale).gettext(N_("%(name)s was created.")) % {"name": team.name}
    return await _render(request, viewer, session, message=said)


@router.post("/teams/{team_id}/archive")
async def archive_team(
    request: Request, team_id: IdPath, viewer: ViewerDep, session: SessionDep
) -> Response:
    """Archive a team (tenant admins), as DELETE /api/v1/teams/{id}."""
    with explained(ACCESS):
        tenant_id = await access.require_team(session, viewer.actor, team_id, Level.ADMIN)
    before = await service.get_team(session=session, team_id=team_id)
    with explained(TEAM, name=before.name):
        after = await service.archive_team(session=session, team_id=team_id)
    await audit.record(
        session,
        viewer.actor,
        "team.archive",
        target_type="team",
        target_id=team_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    if not is_htmx(request):
        return RedirectResponse(f"/teams/{team_id}?done=archived", status_code=303)
    said = translations(viewer.locale).gettext(N_("%(name)s was archived.")) % {"name": after.name}
    return await _render(request, viewer, session, message=said)


async def _tenants(session: SessionDep, viewer: Viewer) -> list[TenantPublic]:
    """The tenants the viewer's teams may be in: every one for system administrators."""
    if not viewer.is_system:
        if viewer.tenant_id is None:
            return []
        return [await service.get_tenant(session=session, tenant_id=viewer.tenant_id)]
    found = await service.list_tenants(
        session=session,
        search=None,
        page=PageRequest(limit=MAX_PAGE_SIZE),
        include_archived=True,
        sort=Sort.parse("name", TENANT_SORTS),
    )
    return found.items


async def _render(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    *,
    search: str | None = None,
    tenant_id: int | None = None,
    archived: bool = False,
    cursor: str | None = None,
    block: str | None = None,
    message: str | None = None,
) -> Response:
    with explained(TENANT_ACCESS):
        within = tenant_filter(viewer.actor, tenant_id)
    found = await service.list_teams(
        session=session,
        tenant_id=within,
        team_ids=viewer.actor.reach().team_ids,
        search=search or None,
        page=PageRequest.parse(cursor, PAGE_SIZE),
        include_archived=archived,
        sort=Sort.parse("name", TEAM_SORTS),
    )
    tenants = await _tenants(session, viewer)
    names = {tenant.id: tenant.name for tenant in tenants}
    leaders = await reads.leaders(session, [team.id for team in found.items])
    filters = {
        "search": search or "",
        **({"tenant_id": str(tenant_id)} if tenant_id else {}),
        **({"archived": "true"} if archived else {}),
    }
    more = urlencode({**filters, "cursor": found.next}) if found.next else None
    return page(
        request,
        viewer,
        "dashboard/teams.html",
        block=block,
        rows=[Row(t, names.get(t.tenant_id, ""), leaders[t.id]) for t in found.items],
        tenants=tenants,
        search=search or "",
        tenant_id=tenant_id,
        archived=archived,
        more=f"/teams?{more}" if more else None,
        message=message,
    )
