from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, status

from tokengate.catalog import service
from tokengate.catalog.schemas import (
    DeploymentCreate,
    DeploymentPublic,
    ModelCreate,
    ModelPublic,
    ModelUpdate,
)
from tokengate.deps import AdminDep, BoxDep, PageDep, RuntimeDep, SessionDep
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


@router.patch("/models/{model_id}")
async def update_model(
    model_id: int, data: ModelUpdate, session: SessionDep, box: BoxDep
) -> ModelPublic:
    return await service.update_model(session=session, box=box, model_id=model_id, data=data)


@router.post("/models/{model_id}/deployments", status_code=status.HTTP_201_CREATED)
async def add_deployment(
    model_id: int, data: DeploymentCreate, session: SessionDep, box: BoxDep
) -> DeploymentPublic:
    return await service.add_deployment(session=session, box=box, model_id=model_id, data=data)


@router.get("/models/{model_id}/deployments")
async def list_deployments(
    model_id: int, session: SessionDep, box: BoxDep, runtime: RuntimeDep
) -> Page[DeploymentPublic]:
    items = await service.list_deployments(session=session, box=box, model_id=model_id)
    circuits = runtime.routing.circuits()
    return Page(
        items=[d.model_copy(update={"circuit": circuits.get(d.id, "closed")}) for d in items],
        next=None,
    )
