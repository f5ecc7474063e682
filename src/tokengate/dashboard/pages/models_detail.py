"""One model: its settings, deployments and usage statistics over a period (the numbers of
``GET /api/v1/models/{id}/stats``); system administrators test, edit, switch on and off and
archive it (US-06, US-07)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Query, Request
from starlette.responses import Response

from tokengate.auth import access
from tokengate.auth.principal import Level, tenant_filter
from tokengate.catalog import probe, service, stats
from tokengate.catalog.schemas import ModelFilter, ModelPublic, ModelStats
from tokengate.dashboard.catalogs import translations
from tokengate.dashboard.forms import N_
from tokengate.dashboard.pages.models_input import PARAMS, chosen_id, model_update
from tokengate.dashboard.pages.models_list import (
    all_plans,
    explained,
    labels,
    plans_allowing,
    record,
    render_list,
)
from tokengate.dashboard.reads.scope import last_days, period
from tokengate.dashboard.templating import page
from tokengate.dashboard.viewer import Viewer, ViewerDep
from tokengate.db import utcnow
from tokengate.deps import IdPath, SessionDep
from tokengate.errors import Conflict, InvalidRequest
from tokengate.pagination import PageRequest
from tokengate.runtime import get_runtime
from tokengate.tenancy import service as tenancy

router = APIRouter()
Period = Literal["day", "week", "month", "30d", "all"]
From = Annotated[Literal["list", "detail"], Form(alias="from")]


@router.get("/models/{model_id}")
async def model_page(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    model_id: IdPath,
    period: Annotated[Period, Query()] = "month",
    tenant_id: Annotated[str, Query(max_length=12)] = "",
) -> Response:
    """A model's settings and its usage over the period, as far as the viewer sees usage."""
    await access.require_model(session, viewer.actor, model_id, Level.READ)
    tenant = chosen_id(tenant_id, N_("Tenant"), viewer.locale)
    return await render_detail(request, viewer, session, model_id, chosen=period, tenant_id=tenant)


async def render_detail(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    model_id: int,
    *,
    chosen: Period = "month",
    tenant_id: int | None = None,
    notice: str | None = None,
) -> Response:
    runtime = get_runtime(request)
    model = await service.get_model(
        session=session, box=runtime.box, model_id=model_id, detailed=viewer.is_system
    )
    deployments = []
    if viewer.is_system:
        circuits = runtime.routing.circuits()
        listed = await service.list_deployments(session=session, box=runtime.box, model_id=model_id)
        deployments = [
            d.model_copy(update={"circuit": circuits.get(d.id, "closed")}) for d in listed
        ]
    tenants = []
    if viewer.is_system:
        tenants = (
            await tenancy.list_tenants(session=session, search=None, page=PageRequest(limit=500))
        ).items
    return page(
        request,
        viewer,
        "dashboard/models_detail.html",
        model=model,
        detailed=isinstance(model, ModelPublic),
        deployments=deployments,
        plans=plans_allowing(await all_plans(session), model.name),
        usage=await model_usage(session, viewer, model_id, chosen, tenant_id),
        period=chosen,
        tenant_id=tenant_id,
        tenants=tenants,
        params=PARAMS,
        notice=notice,
        **labels(viewer.locale),
    )


async def model_usage(
    session: SessionDep, viewer: Viewer, model_id: int, chosen: Period, tenant_id: int | None
) -> ModelStats:
    """The model's statistics exactly as its API route computes them for this viewer."""
    since, until = bounds(chosen, utcnow(), viewer.timezone)
    return await stats.model_stats(
        session=session,
        model_id=model_id,
        since=since,
        until=until,
        tenant_id=tenant_filter(viewer.actor, tenant_id),
        user_ids=viewer.actor.reach().user_ids,
    )


def bounds(chosen: Period, now: datetime, timezone: str) -> tuple[datetime | None, datetime | None]:
    """A period's UTC bounds in the viewer's timezone (all time: none)."""
    if chosen == "all":
        return None, None
    if chosen == "30d":
        return last_days(30, now)
    return period(chosen, now, timezone)


@router.post("/models/{model_id}/test")
async def test_model(
    request: Request, viewer: ViewerDep, session: SessionDep, model_id: IdPath
) -> Response:
    """A one-token request to each deployment of the model, reported (the API's test)."""
    await access.require_model(session, viewer.actor, model_id, Level.SYSTEM)
    runtime = get_runtime(request)
    result = await probe.probe_model(
        session=session, box=runtime.box, http=runtime.http, model_id=model_id
    )
    await record(session, viewer, "model.test", model_id, after=result)
    model = await service.get_model(
        session=session, box=runtime.box, model_id=model_id, detailed=True
    )
    return page(request, viewer, "dashboard/models_probe.html", result=result, model=model)


@router.post("/models/{model_id}/activate")
async def activate(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    model_id: IdPath,
    origin: From = "detail",
) -> Response:
    """Offer the model on /v1 again (an archived model comes back too)."""
    return await _set_status(request, viewer, session, model_id, active=True, origin=origin)


@router.post("/models/{model_id}/deactivate")
async def deactivate(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    model_id: IdPath,
    origin: From = "detail",
) -> Response:
    """Stop offering the model on /v1; its settings and history stay."""
    return await _set_status(request, viewer, session, model_id, active=False, origin=origin)


async def _set_status(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    model_id: int,
    *,
    active: bool,
    origin: str,
) -> Response:
    await access.require_model(session, viewer.actor, model_id, Level.SYSTEM)
    box = get_runtime(request).box
    before = await service.get_model(session=session, box=box, model_id=model_id, detailed=True)
    after = await service.set_model_status(
        session=session, box=box, model_id=model_id, active=active
    )
    action = "model.activate" if active else "model.deactivate"
    await record(session, viewer, action, model_id, before=before, after=after)
    _ = translations(viewer.locale).gettext
    if active:
        notice = _("The model %(name)s is active: it is offered again.") % {"name": after.name}
    else:
        notice = _("The model %(name)s is inactive: requests for it are refused.") % {
            "name": after.name
        }
    if origin == "list":
        return await render_list(request, viewer, session, ModelFilter(), notice=notice)
    return await render_detail(request, viewer, session, model_id, notice=notice)


@router.post("/models/{model_id}/archive")
async def archive(
    request: Request, viewer: ViewerDep, session: SessionDep, model_id: IdPath
) -> Response:
    """Archive the model (deleted instead when nothing ever referred to it: the API's DELETE)."""
    await access.require_model(session, viewer.actor, model_id, Level.SYSTEM)
    box = get_runtime(request).box
    before = await service.get_model(session=session, box=box, model_id=model_id, detailed=True)
    archived = await service.remove_model(session=session, box=box, model_id=model_id)
    action = "model.delete" if archived is None else "model.archive"
    await record(session, viewer, action, model_id, before=before, after=archived)
    _ = translations(viewer.locale).gettext
    if archived is None:
        notice = _("The model %(name)s was never used, so it is deleted.") % {"name": before.name}
    else:
        notice = _("The model %(name)s is archived.") % {"name": before.name}
    return await render_list(request, viewer, session, ModelFilter(), notice=notice)


@router.post("/models/{model_id}/edit")
async def edit(
    request: Request, viewer: ViewerDep, session: SessionDep, model_id: IdPath
) -> Response:
    """Change a model's upstream, key, prices, token limits, parameters or description."""
    await access.require_model(session, viewer.actor, model_id, Level.SYSTEM)
    data = model_update(await request.form(), viewer.locale)
    box = get_runtime(request).box
    before = await service.get_model(session=session, box=box, model_id=model_id, detailed=True)
    try:
        after = await service.update_model(session=session, box=box, model_id=model_id, data=data)
    except (Conflict, InvalidRequest) as exc:
        raise explained(exc, viewer.locale) from None
    await record(session, viewer, "model.update", model_id, before=before, after=after)
    _ = translations(viewer.locale).gettext
    notice = _("The model %(name)s is saved.") % {"name": after.name}
    return await render_detail(request, viewer, session, model_id, notice=notice)
