"""테넌트 관리 / Tenants: each tenant's plan, engines, seats and tokens this month; onboarding a
new tenant and archiving one (system administrators); editing one on ``tenants_edit``.

Writes run the same access check, service call and audit record as ``/api/v1/tenants``.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.principal import Level, tenant_filter
from tokengate.dashboard.catalogs import translations
from tokengate.dashboard.forms import N_
from tokengate.dashboard.pages import tenants_edit
from tokengate.dashboard.pages.tenants_refusals import explained, parsed
from tokengate.dashboard.pages.tenants_rows import (
    ACCESS,
    CURRENCIES,
    HINTS,
    REFUSALS,
    TIMEZONES,
    plans,
    require_admin,
    rows,
)
from tokengate.dashboard.templating import page
from tokengate.dashboard.viewer import Viewer, ViewerDep, is_htmx
from tokengate.db import utcnow
from tokengate.deps import IdPath, SessionDep
from tokengate.pagination import PageRequest, Sort
from tokengate.tenancy import service
from tokengate.tenancy.schemas import TENANT_SORTS, TenantCreate

router = APIRouter()
router.include_router(tenants_edit.router)
PAGE_SIZE = 50
LISTING = "tenant-listing"
Text = Annotated[str, Form(max_length=400)]
Search = Annotated[str | None, Query(max_length=200)]
Cursor = Annotated[str | None, Query(max_length=400)]


@router.get("/tenants")
async def tenants(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    search: Search = None,
    archived: bool = False,
    cursor: Cursor = None,
) -> Response:
    """The tenants the viewer administers: all for system administrators, else their own."""
    require_admin(viewer)
    block = "listing" if is_htmx(request) and request.headers.get("hx-target") == LISTING else None
    return await _render(
        request, viewer, session, search=search, archived=archived, cursor=cursor, block=block
    )


@router.post("/tenants")
async def create_tenant(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    name: Text = "",
    plan: Text = "",
    timezone: Text = "Asia/Seoul",
    currency: Text = "USD",
    locale: Text = "ko",
    local_login: Text = "yes",
) -> Response:
    """Onboard a tenant on a plan (system administrators), as POST /api/v1/tenants."""
    with explained(ACCESS):
        access.require_system(viewer.actor, "tenants")
    data = parsed(
        TenantCreate,
        HINTS,
        name=name,
        plan=plan,
        timezone=timezone.strip(),
        locale=locale,
        currency=currency.strip().upper(),
        local_login=local_login == "yes",
    )
    with explained(REFUSALS, name=data.name, plan=data.plan):
        tenant = await service.create_tenant(session=session, data=data)
    await audit.record(
        session,
        viewer.actor,
        "tenant.create",
        target_type="tenant",
        target_id=tenant.id,
        tenant_id=tenant.id,
        after=tenant,
    )
    if not is_htmx(request):
        return RedirectResponse(f"/tenants/{tenant.id}?done=created", status_code=303)
    said = translations(viewer.locale).gettext(N_("%(name)s was created.")) % {"name": tenant.name}
    return await _render(request, viewer, session, message=said)


@router.post("/tenants/{tenant_id}/archive")
async def archive_tenant(
    request: Request, tenant_id: IdPath, viewer: ViewerDep, session: SessionDep
) -> Response:
    """Archive a tenant (system administrators), as DELETE /api/v1/tenants/{id}."""
    with explained(ACCESS):
        await access.require_tenant(session, viewer.actor, tenant_id, Level.SYSTEM)
    before = await service.get_tenant(session=session, tenant_id=tenant_id)
    with explained(REFUSALS, name=before.name, plan=before.plan):
        after = await service.archive_tenant(session=session, tenant_id=tenant_id, now=utcnow())
    await audit.record(
        session,
        viewer.actor,
        "tenant.archive",
        target_type="tenant",
        target_id=tenant_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    if not is_htmx(request):
        return RedirectResponse(f"/tenants/{tenant_id}?done=archived", status_code=303)
    said = translations(viewer.locale).gettext(N_("%(name)s was archived.")) % {"name": after.name}
    return await _render(request, viewer, session, message=said)


async def _render(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    *,
    search: str | None = None,
    archived: bool = False,
    cursor: str | None = None,
    block: str | None = None,
    message: str | None = None,
) -> Response:
    found = await service.list_tenants(
        session=session,
        search=search or None,
        page=PageRequest.parse(cursor, PAGE_SIZE),
        tenant_id=tenant_filter(viewer.actor, None),
        include_archived=archived,
        sort=Sort.parse("name", TENANT_SORTS),
    )
    filters = {"search": search or "", **({"archived": "true"} if archived else {})}
    more = urlencode({**filters, "cursor": found.next}) if found.next else None
    return page(
        request,
        viewer,
        "dashboard/tenants.html",
        block=block,
        rows=await rows(session, found.items, utcnow()),
        plans=[p for p in (await plans(session)).values() if not p.archived],
        timezones=TIMEZONES,
        currencies=CURRENCIES,
        search=search or "",
        archived=archived,
        more=f"/tenants?{more}" if more else None,
        message=message,
    )
