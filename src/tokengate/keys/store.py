from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.keys.models import ApiKey
from tokengate.pagination import PageRequest


async def get_key_by_hash(session: AsyncSession, *, key_hash: str) -> ApiKey | None:
    return await session.scalar(select(ApiKey).where(ApiKey.key_hash == key_hash))


async def list_keys(
    session: AsyncSession,
    *,
    tenant_id: int | None,
    user_id: int | None,
    user_ids: frozenset[int] | None,
    status: str | None,
    page: PageRequest,
) -> list[ApiKey]:
    query = select(ApiKey)
    if user_ids is not None:
        query = query.where(ApiKey.user_id.in_(user_ids))
    if status is not None:
        query = query.where(ApiKey.status == status)
    if tenant_id is not None:
        query = query.where(ApiKey.tenant_id == tenant_id)
    if user_id is not None:
        query = query.where(ApiKey.user_id == user_id)
    if page.after is not None:
        query = query.where(ApiKey.id > page.after)
    return list(await session.scalars(query.order_by(ApiKey.id).limit(page.limit)))
