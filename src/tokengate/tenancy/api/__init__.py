"""The admin REST API of plans, tenants, teams, their members and users (``/api/v1``)."""

from fastapi import APIRouter

from tokengate.tenancy.api import members, plans, teams, tenants, users

router = APIRouter(prefix="/api/v1", tags=["tenancy"])
for _part in (plans, tenants, teams, members, users):
    router.include_router(_part.router)

__all__ = ["router"]
