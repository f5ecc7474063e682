"""Virtual keys: members manage their own, team leaders their members', admins their tenant's."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, status

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.principal import Level, tenant_filter
from tokengate.deps import ActorDep, IdPath, IdQuery, PageDep, SessionDep
from tokengate.keys import service
from tokengate.keys.schemas import KeyBlock, KeyCreate, KeyIssued, KeyPublic, KeyUpdate
from tokengate.pagination import Page

router = APIRouter(prefix="/api/v1", tags=["keys"])


@router.post("/keys", status_code=status.HTTP_201_CREATED)
async def issue_key(data: KeyCreate, session: SessionDep, actor: ActorDep) -> KeyIssued:
    """Issue a key to a user; its plaintext is in this answer only."""
    # a high-priority key jumps the queue for a team's reserved share: an admin's call
    level = Level.ADMIN if data.priority == "high" else Level.SELF
    await access.require_user(session, actor, data.user_id, level)
    if data.team_id is not None:
        await access.require_team(session, actor, data.team_id, Level.READ)
    issued = await service.issue_key(session=session, data=data)
    public = KeyPublic.model_validate(issued.model_dump(exclude={"key"}))
    await audit.record(
        session,
        actor,
        "key.create",
        target_type="key",
        target_id=issued.id,
        tenant_id=issued.tenant_id,
        after=public,
    )
    return issued


@router.get("/keys")
async def list_keys(
    session: SessionDep,
    actor: ActorDep,
    page: PageDep,
    tenant_id: IdQuery = None,
    user_id: IdQuery = None,
    key_status: Annotated[
        Literal["active", "revoked", "blocked"] | None, Query(alias="status")
    ] = None,
) -> Page[KeyPublic]:
    """The keys the caller may see (never their plaintext)."""
    if user_id is not None:
        await access.require_user(session, actor, user_id, Level.READ)
    return await service.list_keys(
        session=session,
        tenant_id=tenant_filter(actor, tenant_id),
        user_id=user_id,
        user_ids=actor.reach().user_ids,
        status=key_status,
        page=page,
    )


@router.get("/keys/{key_id}")
async def get_key(key_id: IdPath, session: SessionDep, actor: ActorDep) -> KeyPublic:
    await access.require_key(session, actor, key_id, Level.READ)
    return await service.get_key(session=session, key_id=key_id)


@router.patch("/keys/{key_id}")
async def update_key(
    key_id: IdPath, data: KeyUpdate, session: SessionDep, actor: ActorDep
) -> KeyPublic:
    """Rename a key or change its expiry."""
    tenant_id = await access.require_key(session, actor, key_id, Level.SELF)
    before = await service.get_key(session=session, key_id=key_id)
    after = await service.update_key(session=session, key_id=key_id, data=data)
    await audit.record(
        session,
        actor,
        "key.update",
        target_type="key",
        target_id=key_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return after


@router.post("/keys/{key_id}/revoke")
async def revoke_key(key_id: IdPath, session: SessionDep, actor: ActorDep) -> KeyPublic:
    """Revoke a key for good: refused from its next request on."""
    tenant_id = await access.require_key(session, actor, key_id, Level.SELF)
    before = await service.get_key(session=session, key_id=key_id)
    after = await service.revoke_key(session=session, key_id=key_id)
    await audit.record(
        session,
        actor,
        "key.revoke",
        target_type="key",
        target_id=key_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return after


@router.post("/keys/{key_id}/block")
async def block_key(
    key_id: IdPath, data: KeyBlock, session: SessionDep, actor: ActorDep
) -> KeyPublic:
    """Block a key (team leaders and admins); unblocking restores it."""
    return await _set_blocked(session, actor, key_id, blocked=True, reason=data.reason)


@router.post("/keys/{key_id}/unblock")
async def unblock_key(key_id: IdPath, session: SessionDep, actor: ActorDep) -> KeyPublic:
    return await _set_blocked(session, actor, key_id, blocked=False, reason="")


async def _set_blocked(
    session: SessionDep, actor: ActorDep, key_id: IdPath, *, blocked: bool, reason: str
) -> KeyPublic:
    tenant_id = await access.require_key(session, actor, key_id, Level.LEAD)
    before = await service.get_key(session=session, key_id=key_id)
    after = await service.set_key_blocked(
        session=session, key_id=key_id, blocked=blocked, reason=reason
    )
    await audit.record(
        session,
        actor,
        "key.block" if blocked else "key.unblock",
        target_type="key",
        target_id=key_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return after
