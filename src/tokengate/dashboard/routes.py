"""The dashboard's routes, one router per page (mounted by create_app)."""

from __future__ import annotations

from fastapi import APIRouter

from tokengate.dashboard.pages import (
    chat,
    language,
    limits,
    me,
    models,
    monitoring,
    overview,
    teams,
    tenants,
    users,
)

router = APIRouter(include_in_schema=False)
for page in (overview, tenants, teams, users, models, limits, monitoring, me, chat, language):
    router.include_router(page.router)
