"""모델 관리 / Models: the catalogue (``models_list``) and each model's page (``models_detail``)."""

from __future__ import annotations

from fastapi import APIRouter

from tokengate.dashboard.pages import models_detail, models_list

router = APIRouter()
router.include_router(models_list.router)
router.include_router(models_detail.router)
