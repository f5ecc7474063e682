"""One limit: its usage now, its settings and relaxations; editing it (lowering a team's limit
clamps the personal limits above it, reported), adding a relaxation, archiving it.

Writes make the access check, call the service and write the audit record of their
``/api/v1`` route, each in a transaction of its own, then show the committed state.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.responses import Response

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.principal import Level
from tokengate.dashboard.catalogs import translations
from tokengate.dashboard.forms import N_
from tokengate.dashboard.pages.limits_input import limit_update, relaxation_create
from tokengate.dashboard.pages.limits_list import Filters, described, explained, render_list
from tokengate.dashboard.pages.limits_views import editable_scopes, require_leader, views, words
from tokengate.dashboard.reads import limits as reads
from tokengate.dashboard.templating import page
from tokengate.dashboard.viewer import Viewer, ViewerDep
from tokengate.db import transaction
from tokengate.deps import IdPath, SessionDep
from tokengate.errors import InvalidRequest
from tokengate.quotas import service
from tokengate.quotas.schemas import ClampedLimit, LimitPublic
from tokengate.runtime import get_runtime

router = APIRouter()


@router.post("/limits/relaxations", status_code=201)
async def create_relaxation(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    """Multiply a limit during given local hours (e.g. nights): the API's relaxation."""
    form = await request.form()
    data = relaxation_create(form, viewer.locale)
    await access.require_limit(session, viewer.actor, data.limit_id, Level.ADMIN)
    runtime = get_runtime(request)
    async with transaction(runtime.sessions) as writing:
        created = await service.create_relaxation(session=writing, data=data)
        await audit.record(
            writing,
            viewer.actor,
            "relaxation.create",
            target_type="relaxation",
            target_id=created.id,
            tenant_id=created.tenant_id,
            after=created,
        )
    _ = translations(viewer.locale).gettext
    notice = _("The relaxation is saved: ×%(times)s from %(start)s:00 to %(end)s:00.") % {
        "times": format(created.multiplier_percent / 100, "g"),
        "start": f"{created.start_hour:02d}",
        "end": f"{created.end_hour:02d}",
    }
    async with runtime.sessions() as fresh:
        if form.get("from") == "detail":
            return await render_detail(request, viewer, fresh, data.limit_id, notice=notice)
        return await render_list(request, viewer, fresh, Filters(), notice=notice, status_code=201)


@router.get("/limits/{limit_id}")
async def limit_page(
    request: Request, viewer: ViewerDep, session: SessionDep, limit_id: IdPath
) -> Response:
    """A limit the viewer may see; another tenant's is not found."""
    require_leader(viewer)
    await access.require_limit(session, viewer.actor, limit_id, Level.READ)
    return await render_detail(request, viewer, session, limit_id)


async def render_detail(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    limit_id: int,
    *,
    notice: str | None = None,
    clamped: list[ClampedLimit] | None = None,
) -> Response:
    limit = LimitPublic.model_validate(await service.get_limit(session=session, limit_id=limit_id))
    _targets, editable = await editable_scopes(session, viewer.actor, limit.tenant_id)
    [view] = await views(session, get_runtime(request), [limit], editable=editable)
    relaxations = []
    if viewer.is_admin:
        every = await service.list_relaxations(session=session, tenant_id=limit.tenant_id)
        relaxations = [r for r in every if r.limit_id == limit.id]
    people = await reads.scope_names(session, [("user", c.user_id) for c in clamped or []])
    return page(
        request,
        viewer,
        "dashboard/limits_detail.html",
        row=view,
        by_id={limit.id: view},
        relaxations=relaxations,
        notice=notice,
        clamped=[(people.get(("user", c.user_id), ""), c) for c in clamped or []],
        **words(viewer.locale),
    )


@router.post("/limits/{limit_id}")
async def update(
    request: Request, viewer: ViewerDep, session: SessionDep, limit_id: IdPath
) -> Response:
    """Change a limit's amount, mode, thresholds, auto-block or priority share."""
    tenant_id = await access.require_limit(session, viewer.actor, limit_id, Level.LEAD)
    current = LimitPublic.model_validate(
        await service.get_limit(session=session, limit_id=limit_id)
    )
    data = limit_update(await request.form(), current, viewer.locale)
    runtime = get_runtime(request)
    _ = translations(viewer.locale).gettext
    if not data.model_fields_set:
        return await render_detail(request, viewer, session, limit_id, notice=_("Nothing changed."))
    try:
        async with transaction(runtime.sessions) as writing:
            before = LimitPublic.model_validate(
                await service.get_limit(session=writing, limit_id=limit_id)
            )
            after = await service.update_limit(session=writing, limit_id=limit_id, data=data)
            await audit.record(
                writing,
                viewer.actor,
                "limit.update",
                target_type="limit",
                target_id=limit_id,
                tenant_id=tenant_id,
                before=before,
                after=after,
            )
    except InvalidRequest as exc:
        raise explained(exc, viewer.locale) from None
    notice = await described(session, viewer.locale, after, N_("The limit on %(what)s is saved."))
    async with runtime.sessions() as fresh:
        return await render_detail(
            request, viewer, fresh, limit_id, notice=notice, clamped=after.clamped
        )


@router.post("/limits/{limit_id}/archive")
async def archive(
    request: Request, viewer: ViewerDep, session: SessionDep, limit_id: IdPath
) -> Response:
    """Retire a limit: it stops applying; its counters and history stay."""
    tenant_id = await access.require_limit(session, viewer.actor, limit_id, Level.LEAD)
    runtime = get_runtime(request)
    async with transaction(runtime.sessions) as writing:
        before = LimitPublic.model_validate(
            await service.get_limit(session=writing, limit_id=limit_id)
        )
        await service.archive_limit(session=writing, limit_id=limit_id)
        await audit.record(
            writing,
            viewer.actor,
            "limit.archive",
            target_type="limit",
            target_id=limit_id,
            tenant_id=tenant_id,
            before=before,
        )
    notice = await described(
        session, viewer.locale, before, N_("The limit on %(what)s is archived.")
    )
    async with runtime.sessions() as fresh:
        return await render_list(request, viewer, fresh, Filters(), notice=notice)
