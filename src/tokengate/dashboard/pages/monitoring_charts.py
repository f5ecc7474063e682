"""The monitoring charts' data: usage over time (``series.json``) and teams or users compared
(``compare.json``, ``compare.csv``), each within the viewer's reach.

A wrong parameter, or a tenant, team or user out of reach, is answered as JSON
``{"error": {"code", "message", "param"}}`` in the viewer's language, with its status
(400, 403 or 404), for the page's script to show.
"""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from tokengate.dashboard.pages import monitoring_params as params
from tokengate.dashboard.pages.monitoring_access import require_monitor, target
from tokengate.dashboard.pages.monitoring_cache import rollup_cache
from tokengate.dashboard.pages.monitoring_payload import (
    Comparison,
    Series,
    compare_csv,
    compare_json,
    series_json,
)
from tokengate.dashboard.reads import monitoring, series
from tokengate.dashboard.reads.scope import Scope, period
from tokengate.dashboard.viewer import Viewer, ViewerDep
from tokengate.db import utcnow
from tokengate.deps import SessionDep
from tokengate.errors import TokengateError, status_of

router = APIRouter()
# bars a comparison chart shows before summing the rest into "others"
SHOWN = {"team": 30, "user": 20}
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/monitoring/series.json")
async def series_data(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    """Tokens, requests or cost per bucket over a period (and the period before), with the
    limit changes in it."""
    tz, now = ZoneInfo(viewer.timezone), utcnow()
    try:
        require_monitor(viewer)
        query = params.parse_series(request.query_params, now=now, tz=tz)
        found = await _series(request, session, viewer, query, now)
    except TokengateError as error:
        return refused(viewer, error)
    return JSONResponse(series_json(viewer, found), headers=NO_STORE)


@router.get("/monitoring/compare.json")
async def compare_data(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    """Each team's or user's usage today, this week or this month, most tokens first."""
    try:
        require_monitor(viewer)
        query = params.parse_compare(request.query_params)
        found = await comparison(request, session, viewer, query, SHOWN[query.by])
    except TokengateError as error:
        return refused(viewer, error)
    return JSONResponse(compare_json(viewer, found, SHOWN[query.by]), headers=NO_STORE)


@router.get("/monitoring/compare.csv")
async def compare_file(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    """Every team or user of the comparison, as a spreadsheet file."""
    require_monitor(viewer)
    query = params.parse_compare(request.query_params)
    found = await comparison(request, session, viewer, query, None)
    day = found.start.astimezone(ZoneInfo(viewer.timezone)).date().isoformat()
    name = f"tokengate-{query.by}s-{query.window}-{day}.csv"
    return Response(
        compare_csv(viewer, found),
        media_type="text/csv; charset=utf-8",
        headers={**NO_STORE, "Content-Disposition": f'attachment; filename="{name}"'},
    )


def refused(viewer: Viewer, error: TokengateError) -> JSONResponse:
    """An error as JSON, in the viewer's language."""
    return JSONResponse(
        {
            "error": {
                "code": error.code,
                "message": error.message(viewer.locale),
                "param": error.param,
            }
        },
        status_code=status_of(error),
        headers={**NO_STORE, **error.headers()},
    )


async def _series(
    request: Request, session: SessionDep, viewer: Viewer, query: params.SeriesQuery, now: datetime
) -> Series:
    found = await target(session, viewer, query.filter)
    before = series.previous(query.grid, ZoneInfo(viewer.timezone)) if query.compare else None
    first = before.start if before else query.grid.start
    scope, metric = found.scope, query.metric
    # one read covers both periods: they touch
    rows = await rollup_cache(request).hours(
        ("series", scope, metric),
        first,
        query.grid.end,
        now,
        lambda start, end: series.hourly(session, scope, start, end, metric),
    )
    markers = await monitoring.limit_changes(
        session, found.audience, query.grid.start, query.grid.end
    )
    return Series(
        query=query,
        values=series.spread(rows, query.grid),
        previous=before,
        previous_values=series.spread(rows, before) if before else None,
        markers=markers,
        label=found.label,
    )


async def comparison(
    request: Request,
    session: SessionDep,
    viewer: Viewer,
    query: params.CompareQuery,
    shown: int | None,
) -> Comparison:
    """Each team's or user's sums in the period, with the names of the first ``shown``."""
    found = await target(session, viewer, query.filter)
    now = utcnow()
    start, end = period(query.window, now, viewer.timezone)
    groups = await grouped(request, session, found.scope, query.by, start, end, now)
    named = groups if shown is None else groups[:shown]
    return Comparison(
        query=query,
        start=start,
        end=end,
        groups=groups,
        names=await monitoring.names(session, [g.id for g in named if g.id], by=query.by),
        many_tenants=found.scope.tenant_id is None,
    )


async def grouped(
    request: Request,
    session: SessionDep,
    scope: Scope,
    by: monitoring.By,
    start: datetime,
    end: datetime,
    now: datetime,
) -> list[monitoring.Group]:
    """Sums per team or user in [start, end), most tokens first (settled hours cached)."""
    return await rollup_cache(request).groups(
        ("compare", scope, by, start),
        start,
        end,
        now,
        lambda a, b: monitoring.grouped(session, scope, a, b, by=by),
    )
