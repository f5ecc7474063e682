"""The model catalogue: every signed-in caller reads it (without deployment details unless a
system administrator); only system administrators change, test or deploy models."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated

from fastapi import APIRouter, Query, Response, status
from pydantic import AwareDatetime, BaseModel

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.principal import Level, Principal, tenant_filter
from tokengate.catalog import probe, service, stats
from tokengate.catalog.schemas import (
    ConnectionTest,
    DeploymentCreate,
    DeploymentPublic,
    ModelCreate,
    ModelFilter,
    ModelPublic,
    ModelStats,
    ModelSummary,
    ModelUpdate,
    ProbeTarget,
)
from tokengate.deps import ActorDep, BoxDep, IdPath, IdQuery, PageDep, RuntimeDep, SessionDep
from tokengate.pagination import Page

router = APIRouter(prefix="/api/v1", tags=["models"])
Sort = Annotated[
    str | None, Query(max_length=32, description="name, created_at or id; a leading - reverses")
]
When = Annotated[AwareDatetime | None, Query()]
ModelId = IdPath


async def _system_on(session: SessionDep, actor: Principal, model_id: int) -> None:
    await access.require_model(session, actor, model_id, Level.SYSTEM)


@router.post("/models", status_code=status.HTTP_201_CREATED)
async def register_model(
    data: ModelCreate, session: SessionDep, box: BoxDep, actor: ActorDep
) -> ModelPublic:
    access.require_system(actor, "the model catalogue")
    model = await service.register_model(session=session, box=box, data=data)
    await _record(session, actor, "model.create", model.id, after=model)
    return model


@router.get("/models")
async def list_models(
    session: SessionDep,
    box: BoxDep,
    actor: ActorDep,
    page: PageDep,
    filters: Annotated[ModelFilter, Query()],
    sort: Sort = None,
) -> Page[ModelPublic] | Page[ModelSummary]:
    return await service.list_models(
        session=session,
        box=box,
        filters=filters,
        page=page,
        sort=sort,
        detailed=actor.is_system,
    )


@router.post("/models/test")
async def try_configuration(
    data: ProbeTarget, session: SessionDep, runtime: RuntimeDep, actor: ActorDep
) -> ConnectionTest:
    """Try an upstream before registering it: a one-token request, nothing is saved."""
    access.require_system(actor, "the model catalogue")
    result = await probe.probe_configuration(http=runtime.http, target=data)
    tried = data.model_dump(mode="json", exclude={"api_key"})
    await _record(session, actor, "model.test", None, after={**tried, **result.model_dump()})
    return result


@router.get("/models/{model_id}")
async def get_model(
    model_id: ModelId, session: SessionDep, box: BoxDep, actor: ActorDep
) -> ModelPublic | ModelSummary:
    await access.require_model(session, actor, model_id, Level.READ)
    return await service.get_model(
        session=session, box=box, model_id=model_id, detailed=actor.is_system
    )


@router.patch("/models/{model_id}")
async def update_model(
    model_id: ModelId, data: ModelUpdate, session: SessionDep, box: BoxDep, actor: ActorDep
) -> ModelPublic:
    await _system_on(session, actor, model_id)
    before = await service.get_model(session=session, box=box, model_id=model_id, detailed=True)
    after = await service.update_model(session=session, box=box, model_id=model_id, data=data)
    await _record(session, actor, "model.update", model_id, before=before, after=after)
    return after


@router.post("/models/{model_id}/activate")
async def activate_model(
    model_id: ModelId, session: SessionDep, box: BoxDep, actor: ActorDep
) -> ModelPublic:
    """Offer the model on /v1 (an archived model comes back too)."""
    return await _set_status(session, box, actor, model_id, active=True)


@router.post("/models/{model_id}/deactivate")
async def deactivate_model(
    model_id: ModelId, session: SessionDep, box: BoxDep, actor: ActorDep
) -> ModelPublic:
    """Stop offering the model on /v1; its settings and history stay."""
    return await _set_status(session, box, actor, model_id, active=False)


async def _set_status(
    session: SessionDep, box: BoxDep, actor: Principal, model_id: int, *, active: bool
) -> ModelPublic:
    await _system_on(session, actor, model_id)
    before = await service.get_model(session=session, box=box, model_id=model_id, detailed=True)
    after = await service.set_model_status(
        session=session, box=box, model_id=model_id, active=active
    )
    action = "model.activate" if active else "model.deactivate"
    await _record(session, actor, action, model_id, before=before, after=after)
    return after


@router.delete(
    "/models/{model_id}",
    response_model=ModelPublic,
    responses={204: {"description": "deleted: nothing referred to the model"}},
)
async def delete_model(
    model_id: ModelId, session: SessionDep, box: BoxDep, actor: ActorDep
) -> ModelPublic | Response:
    """Delete a model, or archive it (200, status "archived") when it has usage history or a
    plan, a limit or another model's fallbacks name it."""
    await _system_on(session, actor, model_id)
    before = await service.get_model(session=session, box=box, model_id=model_id, detailed=True)
    archived = await service.remove_model(session=session, box=box, model_id=model_id)
    action = "model.delete" if archived is None else "model.archive"
    await _record(session, actor, action, model_id, before=before, after=archived)
    return archived or Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/models/{model_id}/test")
async def try_model(
    model_id: ModelId, session: SessionDep, box: BoxDep, runtime: RuntimeDep, actor: ActorDep
) -> ConnectionTest:
    """Send a one-token request to each deployment of the model; failures are reported."""
    await _system_on(session, actor, model_id)
    result = await probe.probe_model(session=session, box=box, http=runtime.http, model_id=model_id)
    await _record(session, actor, "model.test", model_id, after=result)
    return result


@router.get("/models/{model_id}/stats")
async def model_stats(
    model_id: ModelId,
    session: SessionDep,
    actor: ActorDep,
    since: When = None,
    until: When = None,
    tenant_id: IdQuery = None,
) -> ModelStats:
    """The model's usage, as far as the caller sees usage: their tenant's, or their own and
    their team members' for a team leader or a member."""
    await access.require_model(session, actor, model_id, Level.READ)
    reach = actor.reach()
    return await stats.model_stats(
        session=session,
        model_id=model_id,
        since=since,
        until=until,
        tenant_id=tenant_filter(actor, tenant_id),
        user_ids=reach.user_ids,
    )


@router.post("/models/{model_id}/deployments", status_code=status.HTTP_201_CREATED)
async def add_deployment(
    model_id: ModelId, data: DeploymentCreate, session: SessionDep, box: BoxDep, actor: ActorDep
) -> DeploymentPublic:
    await _system_on(session, actor, model_id)
    deployment = await service.add_deployment(
        session=session, box=box, model_id=model_id, data=data
    )
    await _record(session, actor, "model.deployment.create", model_id, after=deployment)
    return deployment


@router.get("/models/{model_id}/deployments")
async def list_deployments(
    model_id: ModelId, session: SessionDep, box: BoxDep, runtime: RuntimeDep, actor: ActorDep
) -> Page[DeploymentPublic]:
    await _system_on(session, actor, model_id)
    items = await service.list_deployments(session=session, box=box, model_id=model_id)
    circuits = runtime.routing.circuits()
    return Page(
        items=[d.model_copy(update={"circuit": circuits.get(d.id, "closed")}) for d in items],
        next=None,
    )


async def _record(
    session: SessionDep,
    actor: Principal,
    action: str,
    model_id: int | None,
    *,
    before: ModelPublic | ModelSummary | None = None,
    after: BaseModel | Mapping[str, object] | None = None,
) -> None:
    """One audit record of a change to the (system-wide) catalogue."""
    await audit.record(
        session,
        actor,
        action,
        target_type="model",
        target_id=model_id,
        tenant_id=None,
        before=before,
        after=after,
    )
