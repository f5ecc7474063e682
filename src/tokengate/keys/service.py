from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.crypto import hash_virtual_key, new_virtual_key, visible_prefix
from tokengate.errors import Conflict, InvalidRequest, KeyExpired, KeyInvalid, NotFound
from tokengate.keys import store
from tokengate.keys.models import ApiKey
from tokengate.keys.schemas import (
    KeyCreate,
    KeyIdentity,
    KeyIssued,
    KeyPublic,
    KeyRecord,
    KeyUpdate,
)
from tokengate.pagination import Page, PageRequest, next_cursor
from tokengate.tenancy import service as tenancy


async def issue_key(*, session: AsyncSession, data: KeyCreate) -> KeyIssued:
    """Issue a virtual key to a user (optionally bound to a team of the same tenant)."""
    try:
        user = await tenancy.get_user(session=session, user_id=data.user_id)
    except NotFound as exc:
        raise InvalidRequest(f"user {data.user_id} does not exist", param="user_id") from exc
    if user.tenant_id is None:
        raise InvalidRequest(
            "system administrators belong to no tenant and get no keys", param="user_id"
        )
    if data.team_id is not None:
        member = await tenancy.is_team_member(
            session=session, team_id=data.team_id, user_id=user.id
        )
        if not member:
            raise InvalidRequest("the user is not a member of this team", param="team_id")
    plaintext = new_virtual_key()
    key = ApiKey(
        key_hash=hash_virtual_key(plaintext),
        prefix=visible_prefix(plaintext),
        name=data.name,
        tenant_id=user.tenant_id,
        user_id=user.id,
        team_id=data.team_id,
        expires_at=data.expires_at,
        priority=data.priority,
    )
    session.add(key)
    await session.flush()
    return KeyIssued(**KeyPublic.model_validate(key).model_dump(), key=plaintext)


async def list_keys(
    *,
    session: AsyncSession,
    tenant_id: int | None,
    user_id: int | None,
    page: PageRequest,
    user_ids: frozenset[int] | None = None,
    status: str | None = None,
) -> Page[KeyPublic]:
    """List keys (never their plaintext), optionally of one tenant, user or set of users."""
    keys = await store.list_keys(
        session, tenant_id=tenant_id, user_id=user_id, user_ids=user_ids, status=status, page=page
    )
    return Page(
        items=[KeyPublic.model_validate(k) for k in keys],
        next=next_cursor([k.id for k in keys], page),
    )


async def find_key(*, session: AsyncSession, raw_key: str) -> KeyRecord | None:
    """Look a presented key up by its hash (None when unknown or revoked)."""
    key = await store.get_key_by_hash(session, key_hash=hash_virtual_key(raw_key))
    return await _record_of(session, key)


async def find_key_by_id(*, session: AsyncSession, key_id: int) -> KeyRecord | None:
    """What find_key answers, for a key the server names by its id (the dashboard's chat)."""
    return await _record_of(session, await session.get(ApiKey, key_id))


async def _record_of(session: AsyncSession, key: ApiKey | None) -> KeyRecord | None:
    if key is None or key.status == "revoked":
        return None
    team_id = key.team_id
    if team_id is None:
        # an unbound key is charged to the team its owner joined first, if any
        teams = await tenancy.list_team_ids_of_user(session=session, user_id=key.user_id)
        team_id = teams[0] if teams else None
    identity = KeyIdentity(
        key_id=key.id,
        tenant_id=key.tenant_id,
        user_id=key.user_id,
        team_id=team_id,
        blocked=key.status == "blocked",
        high_priority=key.priority == "high",
    )
    return KeyRecord(identity=identity, status=key.status, expires_at=key.expires_at)


def check_key(record: KeyRecord | None, *, now: datetime) -> KeyIdentity:
    """Return the identity of a usable key, or raise KeyInvalid / KeyExpired."""
    if record is None:
        raise KeyInvalid()
    if record.expires_at is not None and record.expires_at <= now:
        # the owner is known: the gateway records the refused request against them
        raise KeyExpired(
            **record.identity.model_dump(include={"key_id", "tenant_id", "user_id", "team_id"})
        )
    return record.identity


async def authenticate_key(*, session: AsyncSession, raw_key: str, now: datetime) -> KeyIdentity:
    """Return who a presented virtual key belongs to, or raise KeyInvalid / KeyExpired."""
    return check_key(await find_key(session=session, raw_key=raw_key), now=now)


async def revoke_key(*, session: AsyncSession, key_id: int) -> KeyPublic:
    """Revoke a key: it is refused from the next request on."""
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"key {key_id} does not exist")
    key.status = "revoked"
    await session.flush()
    return KeyPublic.model_validate(key)


async def get_key(*, session: AsyncSession, key_id: int) -> KeyPublic:
    """Return one key (never its plaintext) or raise NotFound."""
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"key {key_id} does not exist")
    return KeyPublic.model_validate(key)


async def update_key(*, session: AsyncSession, key_id: int, data: KeyUpdate) -> KeyPublic:
    """Rename a key or change its expiry (the key itself never changes)."""
    key = await session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"key {key_id} does not exist")
    if key.status == "revoked":
        raise Conflict(f"key {key_id} is revoked and cannot be changed")
    changes = data.model_dump(exclude_unset=True)
    if changes.get("name") is not None:
        key.name = changes["name"]
    if "expires_at" in changes:
        key.expires_at = changes["expires_at"]
    await session.flush()
    return KeyPublic.model_validate(key)


async def set_key_blocked(
    *, session: AsyncSession, key_id: int, blocked: bool, reason: str = ""
) -> KeyPublic:
    """Block a key (with a reason) or unblock it; effective on its next request."""
    key = await session.get(ApiKey, key_id)
    if key is None or key.status == "revoked":
        raise NotFound(f"key {key_id} does not exist or is revoked")
    key.status = "blocked" if blocked else "active"
    key.blocked_reason = (reason or None) if blocked else None
    await session.flush()
    return KeyPublic.model_validate(key)
