from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from tokengate.catalog import service
from tokengate.catalog.schemas import ModelCreate, ModelPublic
from tokengate.deps import AdminDep, BoxDep, PageDep, SessionDep
from tokengate.pagination import Page

router = APIRouter(prefix="/api/v1", dependencies=[AdminDep], tags=["models"])


@router.post("/models", status_code=status.HTTP_201_CREATED)
async def register_model(data: ModelCreate, session: SessionDep, box: BoxDep) -> ModelPublic:
    return await service.register_model(session=session, box=box, data=data)


@router.get("/models")
async def list_models(
    session: SessionDep,
    box: BoxDep,
    page: PageDep,
    search: Annotated[str | None, Query(max_length=200)] = None,
) -> Page[ModelPublic]:
    return await service.list_models(session=session, box=box, search=search, page=page)
