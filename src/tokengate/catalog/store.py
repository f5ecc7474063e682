from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.catalog.models import Deployment, Model
from tokengate.pagination import PageRequest


async def get_model_by_name(session: AsyncSession, *, name: str) -> Model | None:
    return await session.scalar(select(Model).where(Model.name == name))


async def list_models(
    session: AsyncSession, *, search: str | None, active_only: bool, page: PageRequest
) -> list[Model]:
    query = select(Model)
    if search:
        query = query.where(Model.name.ilike(f"%{search}%"))
    if active_only:
        query = query.where(Model.status == "active")
    if page.after is not None:
        query = query.where(Model.id > page.after)
    return list(await session.scalars(query.order_by(Model.id).limit(page.limit)))


async def list_deployments(session: AsyncSession, *, model_id: int) -> list[Deployment]:
    query = select(Deployment).where(Deployment.model_id == model_id)
    return list(await session.scalars(query.order_by(Deployment.id)))
