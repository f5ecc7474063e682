"""사용자 관리 / Users: the people the viewer manages, each with their monthly allowance as the
ledger holds it; blocking, individual plans and extra tokens (the seed demo's steps 4 and 5)."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from pydantic import BeforeValidator
from starlette.responses import Response

from tokengate.auth import access
from tokengate.auth.principal import Level, tenant_filter
from tokengate.dashboard.pages import users_actions, users_view
from tokengate.dashboard.pages.users_forms import blank_is_none
from tokengate.dashboard.reads import users as reads
from tokengate.dashboard.templating import page
from tokengate.dashboard.viewer import Viewer, ViewerDep
from tokengate.db import utcnow
from tokengate.deps import IdPath, SessionDep
from tokengate.errors import PermissionDenied
from tokengate.ids import Id
from tokengate.pagination import PageRequest, Sort
from tokengate.runtime import get_runtime
from tokengate.tenancy import service as tenancy
from tokengate.tenancy.schemas import TENANT_SORTS, USER_SORTS, TenantPublic

router = APIRouter()
router.include_router(users_actions.router)
PAGE_SIZE = 200
ALL_TENANTS = PageRequest(limit=500)
# the filter form's own target: htmx then wants the rows only
ROWS_TARGET = "user-rows"

OptionalId = Annotated[Id | None, BeforeValidator(blank_is_none), Query()]
StatusFilter = Annotated[
    Literal["active", "blocked"] | None, BeforeValidator(blank_is_none), Query()
]
SearchText = Annotated[str | None, Query(max_length=200)]
Cursor = Annotated[str | None, Query(max_length=400)]


@dataclass(frozen=True)
class Filters:
    """What the list is narrowed to, as the form and the address hold it."""

    tenant_id: int | None = None
    team_id: int | None = None
    status: str | None = None
    search: str | None = None

    def address(self, cursor: str | None = None) -> str:
        given = {k: v for k, v in asdict(self).items() if v is not None}
        if cursor:
            given["cursor"] = cursor
        return "/users" + (f"?{urlencode(given)}" if given else "")


def require_manager(viewer: Viewer) -> None:
    """The users pages are for administrators and team leaders."""
    if not viewer.is_leader:
        raise PermissionDenied(
            localized={
                "en": "The users page is for administrators and team leaders.",
                "ko": "사용자 관리는 관리자와 팀 리더만 볼 수 있습니다.",
            }
        )


@router.get("/users")
async def users_page(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    tenant_id: OptionalId = None,
    team_id: OptionalId = None,
    status: StatusFilter = None,
    search: SearchText = None,
    cursor: Cursor = None,
) -> Response:
    """Everyone the viewer manages, narrowed by tenant, team, status or a name fragment."""
    require_manager(viewer)
    actor = viewer.actor
    if tenant_id is not None and actor.is_system:
        await access.require_tenant(session, actor, tenant_id, Level.READ)
    if team_id is not None:
        await access.require_team(session, actor, team_id, Level.READ)
    filters = Filters(tenant_id, team_id, status, (search or "").strip() or None)
    found = await tenancy.list_users(
        session=session,
        tenant_id=tenant_filter(actor, tenant_id),
        search=filters.search,
        page=PageRequest.parse(cursor, PAGE_SIZE),
        user_ids=actor.reach().user_ids,
        team_id=team_id,
        status=status,
        sort=Sort.parse("name", USER_SORTS),
    )
    rows = await users_view.rows_for(
        session, get_runtime(request).ledger, actor, found.items, now=utcnow()
    )
    reach = actor.reach()
    return page(
        request,
        viewer,
        "dashboard/users.html",
        block="rows" if request.headers.get("hx-target") == ROWS_TARGET else None,
        rows=rows,
        filters=filters,
        next_url=filters.address(found.next) if found.next else None,
        tenants=await _tenants(session, viewer),
        teams=await reads.team_options(
            session,
            tenant_id=reach.tenant_id,
            team_ids=None if viewer.is_admin else reach.team_ids,
        ),
    )


async def _tenants(session: SessionDep, viewer: Viewer) -> list[TenantPublic]:
    if not viewer.is_system:
        return []
    listed = await tenancy.list_tenants(
        session=session, search=None, page=ALL_TENANTS, sort=Sort.parse("name", TENANT_SORTS)
    )
    return listed.items


@router.get("/users/{user_id}")
async def user_page(
    request: Request, viewer: ViewerDep, session: SessionDep, user_id: IdPath
) -> Response:
    """One person: their allowance, extra tokens, plan, and the changes the viewer may make."""
    require_manager(viewer)
    await access.require_user(session, viewer.actor, user_id, Level.READ)
    detail = await users_view.detail_for(
        session,
        get_runtime(request).ledger,
        viewer.actor,
        user_id,
        now=utcnow(),
        timezone=viewer.timezone,
    )
    return page(
        request, viewer, "dashboard/users_detail.html", row=None, detail=detail, notice=None
    )
