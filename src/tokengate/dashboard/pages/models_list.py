"""The model catalogue with prices, deployments and the plans allowing each model;
system administrators register models and test their connection (US-06).

Every write makes the same access check, calls the same service and writes the same audit
record as its ``/api/v1/models`` route.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Annotated, TypedDict

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, ValidationError
from starlette.responses import Response

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.catalog import probe, service
from tokengate.catalog.schemas import (
    DeploymentPublic,
    ModelFilter,
    ModelPublic,
    ModelSummary,
)
from tokengate.dashboard.catalogs import translations
from tokengate.dashboard.forms import N_
from tokengate.dashboard.pages.models_input import (
    PARAMS,
    from_validation,
    model_create,
    probe_target,
)
from tokengate.dashboard.templating import page
from tokengate.dashboard.viewer import Viewer, ViewerDep
from tokengate.deps import SessionDep
from tokengate.errors import Conflict, InvalidRequest, Locale, TokengateError
from tokengate.pagination import PageRequest
from tokengate.runtime import Runtime, get_runtime
from tokengate.tenancy import service as tenancy
from tokengate.tenancy.schemas import PlanPublic

router = APIRouter()
CATALOGUE = "the model catalogue"
ALL = PageRequest(limit=500)
PROVIDERS = {
    "openai": "OpenAI",
    "azure": "Azure OpenAI",
    "anthropic": "Anthropic",
    "gemini": "Google Gemini",
    "openai_compatible": N_("OpenAI-compatible"),
}
STATUSES = {"active": N_("Active"), "inactive": N_("Inactive"), "archived": N_("Archived")}
CIRCUITS = {"closed": N_("Healthy"), "open": N_("Circuit open"), "half_open": N_("Recovering")}
Text = Annotated[str, Query(max_length=200)]


@dataclass(frozen=True)
class ModelRow:
    """A model of the list, with the plans allowing it and (system admins) its deployments."""

    model: ModelPublic | ModelSummary
    plans: list[str]
    deployments: list[DeploymentPublic] = field(default_factory=list)

    @property
    def open_circuits(self) -> int:
        return sum(1 for d in self.deployments if d.circuit != "closed")


class Words(TypedDict):
    providers: dict[str, str]
    statuses: dict[str, str]
    circuits: dict[str, str]


def labels(locale: Locale) -> Words:
    """The words the model templates show for providers, statuses and circuit states."""
    _ = translations(locale).gettext
    return Words(
        providers={k: _(v) for k, v in PROVIDERS.items()},
        statuses={k: _(v) for k, v in STATUSES.items()},
        circuits={k: _(v) for k, v in CIRCUITS.items()},
    )


@router.get("/models")
async def models_page(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    search: Text = "",
    status: Text = "",
    provider: Text = "",
) -> Response:
    """The catalogue, searchable and filtered by status and provider."""
    filters = _filters(search=search, status=status, provider=provider, locale=viewer.locale)
    block = "rows" if request.headers.get("hx-target") == "model-rows" else None
    return await render_list(request, viewer, session, filters, block=block)


def _filters(*, search: str, status: str, provider: str, locale: Locale) -> ModelFilter:
    given = {"search": search.strip(), "status": status, "provider": provider}
    try:
        return ModelFilter.model_validate({k: v for k, v in given.items() if v})
    except ValidationError as exc:
        fields = {"status": N_("Status"), "provider": N_("Provider")}
        raise from_validation(exc, fields, locale) from None


async def render_list(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    filters: ModelFilter,
    *,
    block: str | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    """The models page (or its rows), with a message after a change."""
    runtime = get_runtime(request)
    return page(
        request,
        viewer,
        "dashboard/models.html",
        status_code=status_code,
        block=block,
        rows=await model_rows(session, runtime, viewer, filters),
        filters=filters,
        notice=notice,
        params=PARAMS,
        **labels(viewer.locale),
    )


async def model_rows(
    session: SessionDep, runtime: Runtime, viewer: Viewer, filters: ModelFilter
) -> list[ModelRow]:
    """The models matching the filters, by name, as far as the viewer may see them."""
    found = await service.list_models(
        session=session,
        box=runtime.box,
        filters=filters,
        page=ALL,
        sort="name",
        detailed=viewer.is_system,
    )
    plans = await all_plans(session)
    circuits = runtime.routing.circuits()
    rows = []
    for model in found.items:
        deployments = []
        if viewer.is_system:
            listed = await service.list_deployments(
                session=session, box=runtime.box, model_id=model.id
            )
            deployments = [
                d.model_copy(update={"circuit": circuits.get(d.id, "closed")}) for d in listed
            ]
        rows.append(ModelRow(model, plans_allowing(plans, model.name), deployments))
    return rows


async def all_plans(session: SessionDep) -> list[PlanPublic]:
    """Every live plan (anyone signed in may read them)."""
    return (await tenancy.list_plans(session=session, page=ALL)).items


def plans_allowing(plans: list[PlanPublic], model: str) -> list[str]:
    return [p.name for p in plans if model in p.allowed_models]


@router.post("/models", status_code=201)
async def register(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    """Register a model (US-06); its API key is stored encrypted and never shown again."""
    access.require_system(viewer.actor, CATALOGUE)
    data = model_create(await request.form(), viewer.locale)
    box = get_runtime(request).box
    try:
        model = await service.register_model(session=session, box=box, data=data)
    except (Conflict, InvalidRequest) as exc:
        raise explained(exc, viewer.locale) from None
    await record(session, viewer, "model.create", model.id, after=model)
    _ = translations(viewer.locale).gettext
    notice = _("The model %(name)s is registered.") % {"name": model.name}
    return await render_list(
        request, viewer, session, ModelFilter(), notice=notice, status_code=201
    )


@router.post("/models/test")
async def test_configuration(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    """Try an upstream before registering it: a one-token request, nothing is saved."""
    access.require_system(viewer.actor, CATALOGUE)
    target = probe_target(await request.form(), viewer.locale)
    result = await probe.probe_configuration(http=get_runtime(request).http, target=target)
    tried = target.model_dump(mode="json", exclude={"api_key"})
    await record(session, viewer, "model.test", None, after={**tried, **result.model_dump()})
    return page(request, viewer, "dashboard/models_probe.html", result=result, model=None)


def explained(error: TokengateError, locale: Locale) -> TokengateError:
    """The catalogue's refusals a person meets in the forms, in their language."""
    _ = translations(locale).gettext
    if isinstance(error, Conflict) and error.param == "name":
        if "archived" in str(error):
            text = _("An archived model holds this name: activate it instead.")
        else:
            text = _("A model with this name is already registered.")
    elif isinstance(error, Conflict) and error.param == "base_url":
        text = _(
            "Another model already serves this upstream model at this URL. "
            "Tick “Register as an alias” to give it a second name on purpose."
        )
    elif error.param == "default_max_tokens":
        text = _("The default max tokens may not exceed the max tokens cap.")
    else:
        return error
    return type(error)(text, param=error.param)


async def record(
    session: SessionDep,
    viewer: Viewer,
    action: str,
    model_id: int | None,
    *,
    before: BaseModel | None = None,
    after: BaseModel | Mapping[str, object] | None = None,
) -> None:
    """The audit record the catalogue's API writes for the same change."""
    await audit.record(
        session,
        viewer.actor,
        action,
        target_type="model",
        target_id=model_id,
        tenant_id=None,
        before=before,
        after=after,
    )
