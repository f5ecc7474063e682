"""한도 관리 / Limits: the list with usage, relaxations and exemptions (``limits_list``) and each
limit's page (``limits_detail``)."""

from __future__ import annotations

from fastapi import APIRouter

from tokengate.dashboard.pages import limits_detail, limits_list

router = APIRouter()
# the list's fixed paths (/limits/exemptions) come before the detail's /limits/{limit_id}
router.include_router(limits_list.router)
router.include_router(limits_detail.router)
