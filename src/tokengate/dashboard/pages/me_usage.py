"""내 사용량 / My usage: the monthly allowance from the ledger, plan and engines, tokens per
day, other limits and recent requests."""

from __future__ import annotations

from datetime import date

import orjson
from babel.dates import format_skeleton
from fastapi import APIRouter, Request
from starlette.responses import Response

from tokengate.dashboard.reads import allowance, me, people
from tokengate.dashboard.reads.scope import Scope
from tokengate.dashboard.templating import page
from tokengate.dashboard.viewer import ViewerDep
from tokengate.db import utcnow
from tokengate.deps import SessionDep
from tokengate.errors import Locale
from tokengate.quotas import enforcement
from tokengate.runtime import get_runtime
from tokengate.tenancy import service as tenancy

router = APIRouter()
SERIES_DAYS = 30
RECENT_REQUESTS = 20
_BABEL = {"ko": "ko_KR", "en": "en_US"}


@router.get("/me/usage")
async def my_usage(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    """The signed-in person's own usage."""
    runtime = get_runtime(request)
    now = utcnow()
    found = await allowance.allowances(session, runtime.ledger, user_ids=[viewer.user_id], now=now)
    profile = await tenancy.get_member_profile(session=session, user_id=viewer.user_id)
    limits = []
    if viewer.tenant_id is not None:
        every = await enforcement.current_usage(
            sessions=runtime.sessions,
            ledger=runtime.ledger,
            scope="user",
            scope_id=viewer.user_id,
            now=now,
        )
        limits = [u for u in every if u.source != "plan"]
    days = await me.daily_usage(
        session, user_id=viewer.user_id, days=SERIES_DAYS, now=now, timezone=viewer.timezone
    )
    own = Scope(user_ids=frozenset({viewer.user_id}))
    return page(
        request,
        viewer,
        "dashboard/me_usage.html",
        allowance=found.get(viewer.user_id),
        profile=profile,
        limits=limits,
        days=days,
        series=_series(days, viewer.locale) if any(d.tokens for d in days) else None,
        requests=await people.recent_requests(session, own, limit=RECENT_REQUESTS),
    )


def _series(days: list[me.Day], locale: Locale) -> str:
    """The chart's data as JSON: local day labels and tokens."""
    return orjson.dumps(
        {
            "labels": [_label(d.day, locale) for d in days],
            "dates": [d.day.isoformat() for d in days],
            "tokens": [d.tokens for d in days],
        }
    ).decode()


def _label(day: date, locale: Locale) -> str:
    return format_skeleton("MMMd", day, locale=_BABEL[locale])
