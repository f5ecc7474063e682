from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from tokengate.deps import AdminDep, PageDep, SessionDep
from tokengate.keys import service
from tokengate.keys.schemas import KeyBlock, KeyCreate, KeyIssued, KeyPublic
from tokengate.pagination import Page

router = APIRouter(prefix="/api/v1", dependencies=[AdminDep], tags=["keys"])


@router.post("/keys", status_code=status.HTTP_201_CREATED)
async def issue_key(data: KeyCreate, session: SessionDep) -> KeyIssued:
    return await service.issue_key(session=session, data=data)


@router.get("/keys")
async def list_keys(
    session: SessionDep,
    page: PageDep,
    tenant_id: Annotated[int | None, Query()] = None,
    user_id: Annotated[int | None, Query()] = None,
) -> Page[KeyPublic]:
    return await service.list_keys(session=session, tenant_id=tenant_id, user_id=user_id, page=page)


@router.post("/keys/{key_id}/revoke")
async def revoke_key(key_id: int, session: SessionDep) -> KeyPublic:
    return await service.revoke_key(session=session, key_id=key_id)


@router.post("/keys/{key_id}/block")
async def block_key(key_id: int, data: KeyBlock, session: SessionDep) -> KeyPublic:
    return await service.set_key_blocked(
        session=session, key_id=key_id, blocked=True, reason=data.reason
    )


@router.post("/keys/{key_id}/unblock")
async def unblock_key(key_id: int, session: SessionDep) -> KeyPublic:
    return await service.set_key_blocked(session=session, key_id=key_id, blocked=False)
