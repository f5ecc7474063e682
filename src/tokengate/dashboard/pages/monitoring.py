"""사용량 모니터링 / Monitoring: who reached 80, 90 or 100 % of their monthly allowance (the
ledger's numbers), the mean usage per plan, the month's top users, and the charts (usage over
time, teams and users compared; their data comes from ``monitoring_charts``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from starlette.responses import Response

from tokengate.dashboard.pages import monitoring_charts
from tokengate.dashboard.pages.monitoring_access import require_monitor, target, tenant_scope
from tokengate.dashboard.pages.monitoring_charts import grouped
from tokengate.dashboard.pages.monitoring_params import Filter
from tokengate.dashboard.pages.monitoring_payload import window_name
from tokengate.dashboard.reads import allowance, monitoring, people, usage
from tokengate.dashboard.reads.scope import Scope, period
from tokengate.dashboard.templating import page
from tokengate.dashboard.viewer import ViewerDep
from tokengate.db import utcnow
from tokengate.deps import IdQuery, SessionDep
from tokengate.ids import MAX_ID
from tokengate.runtime import get_runtime

router = APIRouter()
router.include_router(monitoring_charts.router)
# percent of the monthly allowance at which a person is listed, highest first
THRESHOLDS = (100, 90, 80)
TOP_USERS = 5
TEAM_MEMBERS_SHOWN = 10


@dataclass(frozen=True)
class Alert:
    person: people.Person
    allowance: allowance.Allowance
    threshold: int


@router.get("/monitoring")
async def monitoring_page(
    request: Request, viewer: ViewerDep, session: SessionDep, tenant_id: IdQuery = None
) -> Response:
    """Warnings, plan averages, top users and the charts, for the viewer's reach."""
    require_monitor(viewer)
    scope = await tenant_scope(session, viewer, tenant_id)
    now = utcnow()
    everyone, found = await _standing(request, session, scope, now)
    return page(
        request,
        viewer,
        "dashboard/monitoring.html",
        tenant_id=tenant_id,
        tenants=await monitoring.tenant_choices(session) if viewer.is_system else [],
        warnings=_alerts(everyone, found),
        now=now,
        averages=monitoring.plan_averages(found.values(), await monitoring.plan_tokens(session)),
        top_users=await _top_users(request, session, scope, viewer.timezone),
        query=f"?tenant_id={tenant_id}" if tenant_id else "",
    )


@router.get("/monitoring/warnings")
async def warnings(
    request: Request, viewer: ViewerDep, session: SessionDep, tenant_id: IdQuery = None
) -> Response:
    """The warnings alone (the page refreshes them every minute)."""
    require_monitor(viewer)
    now = utcnow()
    scope = await tenant_scope(session, viewer, tenant_id)
    everyone, found = await _standing(request, session, scope, now)
    return page(
        request,
        viewer,
        "dashboard/monitoring.html",
        block="warnings",
        warnings=_alerts(everyone, found),
        now=now,
        query=f"?tenant_id={tenant_id}" if tenant_id else "",
    )


async def _top_users(
    request: Request, session: SessionDep, scope: Scope, timezone: str
) -> list[usage.Ranked]:
    now = utcnow()
    start, end = period("month", now, timezone)
    top = (await grouped(request, session, scope, "user", start, end, now))[:TOP_USERS]
    named = await monitoring.names(session, [g.id for g in top], by="user")
    return [
        usage.Ranked(g.id, named[g.id].name, g.requests, g.tokens, g.cost_micros)
        for g in top
        if g.id in named
    ]


async def _standing(
    request: Request, session: SessionDep, scope: Scope, now: datetime
) -> tuple[list[people.Person], dict[int, allowance.Allowance]]:
    """Everyone in scope and their monthly allowance as the ledger holds it."""
    everyone = await people.people(session, scope)
    found = await allowance.allowances(
        session, get_runtime(request).ledger, user_ids=[p.id for p in everyone], now=now
    )
    return everyone, found


def _alerts(everyone: list[people.Person], found: dict[int, allowance.Allowance]) -> list[Alert]:
    alerts = [
        Alert(p, found[p.id], next(t for t in THRESHOLDS if found[p.id].percent >= t))
        for p in everyone
        if p.id in found and found[p.id].percent >= THRESHOLDS[-1]
    ]
    return sorted(alerts, key=lambda a: (-a.allowance.percent, a.person.name))


@router.get("/monitoring/detail")
async def detail(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    by: Annotated[Literal["team", "user"], Query()],
    ident: Annotated[int, Query(alias="id", ge=1, le=MAX_ID)],
    period_name: Annotated[Literal["day", "week", "month"], Query(alias="period")] = "month",
    tenant_id: IdQuery = None,
) -> Response:
    """One team's or user's usage in the period (a clicked bar or slice), as a fragment."""
    require_monitor(viewer)
    wanted = Filter(tenant_id, ident if by == "team" else None, ident if by == "user" else None)
    found = await target(session, viewer, wanted)
    whole = await tenant_scope(session, viewer, tenant_id)
    start, end = period(period_name, utcnow(), viewer.timezone)
    sums = await usage.totals(session, found.scope, start, end)
    everything = await usage.totals(session, whole, start, end)
    return page(
        request,
        viewer,
        "dashboard/monitoring_detail.html",
        block="detail",
        by=by,
        id=ident,
        name=found.label or f"#{ident}",
        period_label=window_name(viewer, period_name),
        sums=sums,
        share=round(sums.tokens * 100 / everything.tokens, 1) if everything.tokens else 0.0,
        members=await _members(session, found.scope, by, start, end),
        allowance=await _allowance(request, session, by, ident),
    )


async def _members(
    session: SessionDep, scope: Scope, by: str, start: datetime, end: datetime
) -> list[usage.Ranked]:
    if by != "team":
        return []
    return await usage.top(session, scope, start, end, by="user", limit=TEAM_MEMBERS_SHOWN)


async def _allowance(
    request: Request, session: SessionDep, by: str, user_id: int
) -> allowance.Allowance | None:
    if by != "user":
        return None
    found = await allowance.allowances(
        session, get_runtime(request).ledger, user_ids=[user_id], now=utcnow()
    )
    return found.get(user_id)
