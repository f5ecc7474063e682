"""전체 현황 / Overview: counts, usage today/this week/this month, users near their limits,
rankings, recent changes and a live request stream (server-sent events)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

from fastapi import APIRouter, Request
from starlette.responses import Response, StreamingResponse

from tokengate.dashboard.reads import allowance, people, usage
from tokengate.dashboard.reads.scope import Scope, period
from tokengate.dashboard.templating import environment, page
from tokengate.dashboard.viewer import Viewer, ViewerDep
from tokengate.db import utcnow
from tokengate.deps import SessionDep
from tokengate.runtime import get_runtime

router = APIRouter()
NEAR_LIMIT = 80.0  # percent of the monthly allowance: the first warning threshold
LIVE_POLL_SECONDS = 2.0
LIVE_KEEPALIVE_POLLS = 7


@dataclass(frozen=True)
class Near:
    person: people.Person
    allowance: allowance.Allowance


@router.get("/")
async def overview(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    """The whole picture the viewer may see."""
    runtime = get_runtime(request)
    now = utcnow()
    scope = Scope.of(viewer.actor)
    periods = {w: period(w, now, viewer.timezone) for w in ("day", "week", "month")}
    month = periods["month"]
    # first: the month's breakdown it reads is kept for the totals and rankings that follow
    active_users, models_in_use = await usage.active_counts(session, scope, *month)
    sums = {w: await usage.totals(session, scope, *bounds) for w, bounds in periods.items()}
    everyone = await people.people(session, scope)
    found = await allowance.allowances(
        session, runtime.ledger, user_ids=[p.id for p in everyone], now=now
    )
    near = sorted(
        (
            Near(p, found[p.id])
            for p in everyone
            if p.id in found and found[p.id].percent >= NEAR_LIMIT
        ),
        key=lambda n: (-n.allowance.percent, n.person.name),
    )
    return page(
        request,
        viewer,
        "dashboard/overview.html",
        tenants=await people.count_tenants(session, scope),
        users=len(everyone),
        active_users=active_users,
        models_in_use=models_in_use,
        sums=sums,
        near=near,
        top_users=await usage.top(session, scope, *month, by="user"),
        top_teams=await usage.top(session, scope, *month, by="team"),
        changes=await people.recent_changes(session, scope, limit=8),
        requests=await people.recent_requests(session, scope, limit=15),
    )


@router.get("/live")
async def live(request: Request, viewer: ViewerDep) -> StreamingResponse:
    """New requests as they are recorded: one ``request`` event each, its list item as HTML."""
    runtime = get_runtime(request)
    scope = Scope.of(viewer.actor)
    async with runtime.sessions() as session:
        newest = await people.recent_requests(session, scope, limit=1)
    start = newest[0][0].id if newest else 0
    return StreamingResponse(
        _stream(request, viewer, scope, start),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )


async def _stream(request: Request, viewer: Viewer, scope: Scope, after: int) -> AsyncIterator[str]:
    runtime = get_runtime(request)
    item = environment(viewer.locale).get_template("dashboard/overview_request.html")
    quiet = 0
    yield "retry: 5000\n\n"
    while not await request.is_disconnected():
        async with runtime.sessions() as session:
            rows = await people.recent_requests(session, scope, after=after, limit=50)
        for event, name in reversed(rows):
            after = max(after, event.id)
            html = item.render(event=event, name=name, viewer=viewer).replace("\n", "")
            yield f"event: request\nid: {event.id}\ndata: {html}\n\n"
        quiet = 0 if rows else quiet + 1
        if quiet >= LIVE_KEEPALIVE_POLLS:
            quiet = 0
            yield ": keep-alive\n\n"
        await asyncio.sleep(LIVE_POLL_SECONDS)
