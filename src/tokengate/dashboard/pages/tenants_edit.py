"""One tenant: its plan, engines, seats and tokens this month, and its settings form.

System administrators change everything; a tenant's own administrators its timezone,
language and sign-in (what PATCH /api/v1/tenants/{id} lets them change). A new plan applies
from the tenant's next request.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import RedirectResponse, Response

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.principal import Level
from tokengate.dashboard.catalogs import translations
from tokengate.dashboard.forms import N_
from tokengate.dashboard.pages.tenants_refusals import done_message, explained, parsed
from tokengate.dashboard.pages.tenants_rows import (
    ACCESS,
    CURRENCIES,
    HINTS,
    REFUSALS,
    TIMEZONES,
    plans,
    rows,
)
from tokengate.dashboard.templating import page
from tokengate.dashboard.viewer import Viewer, ViewerDep, is_htmx
from tokengate.db import utcnow
from tokengate.deps import IdPath, SessionDep
from tokengate.tenancy import service
from tokengate.tenancy.api.guards import refuse_fields
from tokengate.tenancy.schemas import TenantPublic, TenantUpdate

router = APIRouter()
Given = Annotated[str | None, Form(max_length=400)]
Done = Annotated[str | None, Query(max_length=16)]


@router.get("/tenants/{tenant_id}")
async def tenant(
    request: Request, tenant_id: IdPath, viewer: ViewerDep, session: SessionDep, done: Done = None
) -> Response:
    """A tenant and its settings, for those who administer it."""
    with explained(ACCESS):
        await access.require_tenant(session, viewer.actor, tenant_id, Level.ADMIN)
    found = await service.get_tenant(session=session, tenant_id=tenant_id)
    return await _render(
        request, viewer, session, found, message=done_message(viewer.locale, done, found.name)
    )


@router.post("/tenants/{tenant_id}")
async def update_tenant(
    request: Request,
    tenant_id: IdPath,
    viewer: ViewerDep,
    session: SessionDep,
    name: Given = None,
    plan: Given = None,
    timezone: Given = None,
    locale: Given = None,
    currency: Given = None,
    local_login: Given = None,
) -> Response:
    """Change what the form changed, as PATCH /api/v1/tenants/{id}."""
    with explained(ACCESS):
        await access.require_tenant(session, viewer.actor, tenant_id, Level.ADMIN)
    before = await service.get_tenant(session=session, tenant_id=tenant_id)
    given = {
        "name": name.strip() if name is not None else None,
        "plan": plan,
        "timezone": timezone.strip() if timezone is not None else None,
        "locale": locale,
        "currency": currency.strip().upper() if currency is not None else None,
        "local_login": None if local_login is None else local_login == "yes",
    }
    changes = _changed(before, given)
    words = translations(viewer.locale)
    if not changes:
        return await _render(request, viewer, session, before, message=words.gettext(NOTHING))
    data = parsed(TenantUpdate, HINTS, **changes)
    refuse_fields(viewer.actor, data.model_fields_set, TenantUpdate.SYSTEM_FIELDS)
    with explained(REFUSALS, name=data.name or before.name, plan=data.plan or before.plan):
        after = await service.update_tenant(session=session, tenant_id=tenant_id, data=data)
    await audit.record(
        session,
        viewer.actor,
        "tenant.update",
        target_type="tenant",
        target_id=tenant_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    if not is_htmx(request):
        return RedirectResponse(f"/tenants/{tenant_id}?done=saved", status_code=303)
    said = words.gettext(N_("Changes to %(name)s were saved.")) % {"name": after.name}
    return await _render(request, viewer, session, after, message=said)


NOTHING = N_("Nothing changed.")


def _changed(before: TenantPublic, given: dict[str, str | bool | None]) -> dict[str, object]:
    """The fields the form sent with a value other than the tenant's."""
    current = before.model_dump()
    return {
        field: value
        for field, value in given.items()
        if value is not None and value != current.get(field)
    }


async def _render(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    found: TenantPublic,
    *,
    message: str | None,
) -> Response:
    (row,) = await rows(session, [found], utcnow())
    return page(
        request,
        viewer,
        "dashboard/tenants_edit.html",
        row=row,
        plans=[
            p for p in (await plans(session)).values() if not p.archived or p.name == found.plan
        ],
        timezones=TIMEZONES,
        currencies=CURRENCIES,
        message=message,
    )
