from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from tokengate.deps import AdminDep, PageDep, SessionDep
from tokengate.pagination import Page
from tokengate.usage import service
from tokengate.usage.schemas import UsageEventPublic

router = APIRouter(prefix="/api/v1", dependencies=[AdminDep], tags=["usage"])


@router.get("/usage")
async def list_usage(
    session: SessionDep,
    page: PageDep,
    tenant_id: Annotated[int | None, Query()] = None,
    user_id: Annotated[int | None, Query()] = None,
    since: Annotated[AwareDatetime | None, Query()] = None,
) -> Page[UsageEventPublic]:
    return await service.list_usage(
        session=session, tenant_id=tenant_id, user_id=user_id, since=since, page=page
    )
