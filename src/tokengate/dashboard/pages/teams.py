"""The teams page(s) of the dashboard (being written)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
