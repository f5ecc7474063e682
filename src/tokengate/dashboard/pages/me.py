"""내 정보 / Me: a person's own usage, keys and security, for themself only (no user id is
ever taken from the request)."""

from __future__ import annotations

from fastapi import APIRouter

from tokengate.dashboard.pages import me_keys, me_security, me_usage

router = APIRouter()
for part in (me_usage, me_keys, me_security):
    router.include_router(part.router)
