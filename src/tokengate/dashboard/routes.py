"""The dashboard's routes, one router per page (mounted by create_app)."""

from __future__ import annotations

from fastapi import APIRouter

from tokengate.dashboard.pages import language, overview

router = APIRouter(include_in_schema=False)
for page_router in (language.router, overview.router):
    router.include_router(page_router)
