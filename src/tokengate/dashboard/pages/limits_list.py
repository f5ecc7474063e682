"""The limits a viewer may see, filtered by tenant, scope and metric, with their usage from the
ledger; creating limits, relaxations (×N during local hours, US-11) and exemptions.

Every write makes the access check, calls the service and writes the audit record of its
``/api/v1`` route, in a transaction of its own (as ``POST /api/v1/limits`` does), so the page
rendered after it reads the committed state and the ledger's counters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.principal import Level, admin_tenant_filter, tenant_filter
from tokengate.catalog import service as catalog
from tokengate.dashboard.catalogs import translations
from tokengate.dashboard.forms import N_
from tokengate.dashboard.pages.limits_input import (
    LABELS,
    exemption_create,
    limit_create,
)
from tokengate.dashboard.pages.limits_views import (
    METRICS,
    SCOPES,
    editable_scopes,
    require_leader,
    views,
    words,
)
from tokengate.dashboard.pages.models_input import chosen_id, invalid
from tokengate.dashboard.reads import limits as reads
from tokengate.dashboard.templating import page
from tokengate.dashboard.viewer import Viewer, ViewerDep
from tokengate.db import transaction, utcnow
from tokengate.deps import SessionDep
from tokengate.errors import InvalidRequest, Locale, TokengateError
from tokengate.pagination import PageRequest
from tokengate.quotas import reconcile, service
from tokengate.quotas.schemas import LimitPublic
from tokengate.runtime import get_runtime
from tokengate.tenancy import service as tenancy

router = APIRouter()
LISTED = PageRequest(limit=200)
Text = Annotated[str, Query(max_length=16)]
NO_VALUES: Mapping[str, object] = {}


@dataclass(frozen=True)
class Filters:
    tenant_id: int | None = None
    scope: str | None = None
    metric: str | None = None


@router.get("/limits")
async def limits_page(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    tenant_id: Text = "",
    scope: Text = "",
    metric: Text = "",
) -> Response:
    """The limits the viewer may see (admins: their tenant's; leaders: their teams')."""
    require_leader(viewer)
    wrong = [
        LABELS[name]
        for name, value, known in (("scope", scope, SCOPES), ("metric", metric, METRICS))
        if value and value not in known
    ]
    if wrong:
        choice = N_("is not one of the choices")
        raise invalid([(label, choice, NO_VALUES) for label in wrong], viewer.locale)
    tenant = chosen_id(tenant_id, N_("Tenant"), viewer.locale)
    filters = Filters(tenant, scope or None, metric or None)
    block = "rows" if request.headers.get("hx-target") == "limit-rows" else None
    return await render_list(request, viewer, session, filters, block=block)


async def render_list(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    filters: Filters,
    *,
    block: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    """The limits page (or its rows), with a message after a change."""
    actor = viewer.actor
    reach = actor.reach()
    tenant = tenant_filter(actor, filters.tenant_id)
    found = await service.list_limits(
        session=session,
        tenant_id=tenant,
        scope=filters.scope,
        scope_id=None,
        page=LISTED,
        team_ids=reach.team_ids,
        user_ids=reach.user_ids,
    )
    items = [x for x in found.items if filters.metric in (None, x.metric)]
    targets, editable = await editable_scopes(session, actor, tenant)
    rows = await views(session, get_runtime(request), items, editable=editable)
    relaxations, exemptions = [], []
    if viewer.is_admin:
        admin_tenant = admin_tenant_filter(actor, tenant, "relaxations")
        relaxations = await service.list_relaxations(session=session, tenant_id=admin_tenant)
        exemptions = await service.list_exemptions(session=session, tenant_id=admin_tenant)
    tenants = []
    if viewer.is_system:
        tenants = (await tenancy.list_tenants(session=session, search=None, page=LISTED)).items
    return page(
        request,
        viewer,
        "dashboard/limits.html",
        status_code=status_code,
        block=block,
        rows=rows,
        more=found.next is not None,
        by_id={row.limit.id: row for row in rows},
        filters=filters,
        tenants=tenants,
        targets=targets,
        models=await catalog.list_active_model_names(session=session),
        relaxations=relaxations,
        exemptions=exemptions,
        exempt_names=await reads.scope_names(session, {(e.scope, e.scope_id) for e in exemptions}),
        notice=notice,
        **words(viewer.locale),
    )


@router.post("/limits", status_code=201)
async def create(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    """Set a limit; usage already recorded in the current window counts against it."""
    require_leader(viewer)
    data = limit_create(await request.form(), viewer.locale)
    await access.require_scope(session, viewer.actor, data.scope, data.scope_id, Level.LEAD)
    runtime = get_runtime(request)
    try:
        async with transaction(runtime.sessions) as writing:
            created = await service.create_limit(session=writing, data=data)
            await audit.record(
                writing,
                viewer.actor,
                "limit.create",
                target_type="limit",
                target_id=created.id,
                tenant_id=created.tenant_id,
                after=created,
            )
    except InvalidRequest as exc:
        raise explained(exc, viewer.locale, model=data.model) from None
    await reconcile.backfill_limit(
        sessions=runtime.sessions, ledger=runtime.ledger, limit_id=created.id, now=utcnow()
    )
    notice = await described(session, viewer.locale, created, N_("The limit on %(what)s is set."))
    async with runtime.sessions() as fresh:
        return await render_list(request, viewer, fresh, Filters(), notice=notice, status_code=201)


async def described(session: SessionDep, locale: Locale, limit: LimitPublic, message: str) -> str:
    """A message naming what a limit applies to."""
    names = await reads.scope_names(session, [(limit.scope, limit.scope_id)])
    what = names.get((limit.scope, limit.scope_id), f"#{limit.scope_id}")
    return translations(locale).gettext(message) % {"what": what}


def explained(error: TokengateError, locale: Locale, *, model: str | None = None) -> TokengateError:
    """The quota service's refusals a person meets in the forms, in their language."""
    _ = translations(locale).gettext
    if error.param == "amount":
        text = _("A personal limit may not exceed its team's limit for the same metric and window.")
    elif error.param == "scope_id":
        text = _("What the limit should apply to does not exist.")
    elif error.param == "model":
        text = _("There is no model named %(name)s.") % {"name": model or ""}
    elif error.param == "limit_id":
        text = _("This limit does not exist.")
    else:
        return error
    return type(error)(text, param=error.param)


@router.post("/limits/exemptions", status_code=201)
async def create_exemption(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    """Exempt a user or a key from a metric's block limits (usage is still counted)."""
    data = exemption_create(await request.form(), viewer.locale)
    await access.require_scope(session, viewer.actor, data.scope, data.scope_id, Level.ADMIN)
    runtime = get_runtime(request)
    async with transaction(runtime.sessions) as writing:
        created = await service.create_exemption(session=writing, data=data)
        await audit.record(
            writing,
            viewer.actor,
            "exemption.create",
            target_type="exemption",
            target_id=created.id,
            tenant_id=created.tenant_id,
            after=created,
        )
    names = await reads.scope_names(session, [(created.scope, created.scope_id)])
    _ = translations(viewer.locale).gettext
    notice = _("%(who)s is exempt from block limits on %(metric)s.") % {
        "who": names.get((created.scope, created.scope_id), ""),
        "metric": words(viewer.locale)["metrics"][created.metric],
    }
    async with runtime.sessions() as fresh:
        return await render_list(request, viewer, fresh, Filters(), notice=notice, status_code=201)
