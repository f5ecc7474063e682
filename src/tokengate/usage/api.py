from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import AwareDatetime

from tokengate.auth import access
from tokengate.auth.principal import Level, tenant_filter
from tokengate.deps import ActorDep, IdQuery, PageDep, SessionDep
from tokengate.pagination import Page
from tokengate.usage import service
from tokengate.usage.schemas import UsageEventPublic

router = APIRouter(prefix="/api/v1", tags=["usage"])


@router.get("/usage")
async def list_usage(
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    tenant_id: IdQuery = None,
    user_id: IdQuery = None,
    team_id: IdQuery = None,
    model: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[AwareDatetime | None, Query()] = None,
) -> Page[UsageEventPublic]:
    """Usage events the caller may see, newest first: a member their own, a team leader their
    members', a tenant admin their tenant's."""
    if user_id is not None:
        await access.require_user(session, actor, user_id, Level.READ)
    if team_id is not None:
        await access.require_team(session, actor, team_id, Level.READ)
    return await service.list_usage(
        session=session,
        tenant_id=tenant_filter(actor, tenant_id),
        user_id=user_id,
        user_ids=actor.reach().user_ids,
        team_id=team_id,
        model=model,
        since=since,
        page=page,
    )
