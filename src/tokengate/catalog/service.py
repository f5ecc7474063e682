from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.catalog import store
from tokengate.catalog.models import Deployment, Model
from tokengate.catalog.schemas import (
    MICROS,
    DeploymentCreate,
    DeploymentPublic,
    ModelCreate,
    ModelPublic,
    ModelUpdate,
    ParamName,
    ParamRule,
    Route,
    TokenUsage,
    Upstream,
)
from tokengate.crypto import SecretBox, mask_secret
from tokengate.errors import Conflict, InvalidRequest, NotFound
from tokengate.pagination import Page, PageRequest, next_cursor

PER_MTOK = 1_000_000


async def register_model(
    *, session: AsyncSession, box: SecretBox, data: ModelCreate
) -> ModelPublic:
    """Register a model under a new public name; its provider key is stored encrypted."""
    if await store.get_model_by_name(session, name=data.name) is not None:
        raise Conflict(f"a model named {data.name!r} is already registered", param="name")
    input_price = _to_micros(data.input_price_per_mtok)
    model = Model(
        name=data.name,
        provider=data.provider,
        upstream_model=data.upstream_model,
        base_url=str(data.base_url).rstrip("/"),
        api_key_encrypted=box.encrypt(data.api_key) if data.api_key else None,
        input_price=input_price,
        output_price=_to_micros(data.output_price_per_mtok),
        cached_input_price=(
            _to_micros(data.cached_input_price_per_mtok)
            if data.cached_input_price_per_mtok is not None
            else input_price
        ),
        cache_write_price=(
            _to_micros(data.cache_write_price_per_mtok)
            if data.cache_write_price_per_mtok is not None
            else input_price
        ),
        default_max_tokens=data.default_max_tokens,
        max_max_tokens=data.max_tokens_cap,
        params=_params_json(data.params),
    )
    session.add(model)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a model named {data.name!r} is already registered") from exc
    return _public(model, box)


async def list_models(
    *, session: AsyncSession, box: SecretBox, search: str | None, page: PageRequest
) -> Page[ModelPublic]:
    """List registered models with their provider keys masked."""
    models = await store.list_models(session, search=search, active_only=False, page=page)
    return Page(
        items=[_public(m, box) for m in models], next=next_cursor([m.id for m in models], page)
    )


async def list_active_model_names(*, session: AsyncSession) -> list[str]:
    """Return the public names of every active model."""
    models = await store.list_models(
        session, search=None, active_only=True, page=PageRequest(None, 10_000)
    )
    return [m.name for m in models]


async def get_route(*, session: AsyncSession, box: SecretBox, name: str) -> Route | None:
    """Return how to call the active model with this public name (all its deployments), or None."""
    model = await store.get_model_by_name(session, name=name)
    if model is None or model.status != "active":
        return None
    primary = Upstream(
        id=-model.id,
        upstream_model=model.upstream_model,
        base_url=model.base_url,
        api_key=_secret(box, model.api_key_encrypted),
        weight=model.weight,
    )
    extra = [
        Upstream(
            id=d.id,
            upstream_model=d.upstream_model,
            base_url=d.base_url,
            api_key=_secret(box, d.api_key_encrypted),
            weight=d.weight,
        )
        for d in await store.list_deployments(session, model_id=model.id)
    ]
    return Route(
        model_id=model.id,
        name=model.name,
        provider=model.provider,
        upstream_model=model.upstream_model,
        base_url=model.base_url,
        api_key=box.decrypt(model.api_key_encrypted) if model.api_key_encrypted else None,
        input_price=model.input_price,
        output_price=model.output_price,
        cached_input_price=model.cached_input_price,
        cache_write_price=model.cache_write_price,
        default_max_tokens=model.default_max_tokens,
        max_tokens_cap=model.max_max_tokens,
        routing=model.routing,
        upstreams=[primary, *extra],
        params={k: ParamRule.model_validate(v) for k, v in (model.params or {}).items()},
        fallbacks=list(model.fallbacks or []),
    )


def _params_json(params: Mapping[ParamName, ParamRule]) -> dict[str, dict[str, float]]:
    return {name: rule.model_dump(exclude_none=True) for name, rule in params.items()}


def _secret(box: SecretBox, token: str | None) -> str | None:
    return box.decrypt(token) if token else None


async def _model(session: AsyncSession, model_id: int) -> Model:
    model = await session.get(Model, model_id)
    if model is None:
        raise NotFound(f"model {model_id} does not exist")
    return model


async def update_model(
    *, session: AsyncSession, box: SecretBox, model_id: int, data: ModelUpdate
) -> ModelPublic:
    """Activate or deactivate a model, or change how it spreads requests."""
    model = await _model(session, model_id)
    if data.fallbacks is not None:
        await _check_fallbacks(session, model, data.fallbacks)
    changes = data.model_dump(exclude_none=True, exclude={"params"})
    if data.params is not None:
        changes["params"] = _params_json(data.params)
    for field, value in changes.items():
        setattr(model, field, value)
    await session.flush()
    return _public(model, box)


async def _check_fallbacks(session: AsyncSession, model: Model, names: list[str]) -> None:
    # a request is reserved at its own model's prices: a fallback may not cost more
    prices = ("input_price", "output_price", "cached_input_price", "cache_write_price")
    for name in names:
        other = await store.get_model_by_name(session, name=name)
        if other is None or other.id == model.id:
            raise InvalidRequest(f"{name!r} is not another registered model", param="fallbacks")
        if any(getattr(other, p) > getattr(model, p) for p in prices):
            raise InvalidRequest(
                f"the fallback {name!r} costs more than {model.name!r}", param="fallbacks"
            )


async def add_deployment(
    *, session: AsyncSession, box: SecretBox, model_id: int, data: DeploymentCreate
) -> DeploymentPublic:
    """Add an upstream serving a model (its provider kind is the model's)."""
    model = await _model(session, model_id)
    deployment = Deployment(
        model_id=model.id,
        upstream_model=data.upstream_model,
        base_url=str(data.base_url).rstrip("/"),
        api_key_encrypted=box.encrypt(data.api_key) if data.api_key else None,
        weight=data.weight,
    )
    session.add(deployment)
    await session.flush()
    return _deployment_public(deployment.id, model.id, deployment, box, primary=False)


async def list_deployments(
    *, session: AsyncSession, box: SecretBox, model_id: int
) -> list[DeploymentPublic]:
    """A model's deployments, the primary one first, keys masked."""
    model = await _model(session, model_id)
    rows = await store.list_deployments(session, model_id=model.id)
    return [
        _deployment_public(-model.id, model.id, model, box, primary=True),
        *(_deployment_public(d.id, model.id, d, box, primary=False) for d in rows),
    ]


def _deployment_public(
    ident: int, model_id: int, row: Model | Deployment, box: SecretBox, *, primary: bool
) -> DeploymentPublic:
    secret = _secret(box, row.api_key_encrypted)
    return DeploymentPublic(
        id=ident,
        model_id=model_id,
        upstream_model=row.upstream_model,
        base_url=row.base_url,
        api_key=mask_secret(secret) if secret else None,
        weight=row.weight,
        primary=primary,
    )


def price_usage(*, route: Route, usage: TokenUsage) -> int:
    """Return a request's cost in integer micro-units, rounded half up once per request."""
    cached = min(usage.cached_tokens, usage.input_tokens)
    written = min(usage.cache_write_tokens, usage.input_tokens - cached)
    total = (
        (usage.input_tokens - cached - written) * route.input_price
        + cached * route.cached_input_price
        + written * route.cache_write_price
        + usage.output_tokens * route.output_price
    )
    return (total + PER_MTOK // 2) // PER_MTOK


def _to_micros(price: Decimal) -> int:
    return int((price * MICROS).to_integral_value())


def _public(model: Model, box: SecretBox) -> ModelPublic:
    secret = box.decrypt(model.api_key_encrypted) if model.api_key_encrypted else None
    return ModelPublic(
        id=model.id,
        name=model.name,
        provider=model.provider,
        upstream_model=model.upstream_model,
        base_url=model.base_url,
        api_key=mask_secret(secret) if secret else None,
        input_price_per_mtok=Decimal(model.input_price) / MICROS,
        output_price_per_mtok=Decimal(model.output_price) / MICROS,
        cached_input_price_per_mtok=Decimal(model.cached_input_price) / MICROS,
        cache_write_price_per_mtok=Decimal(model.cache_write_price) / MICROS,
        default_max_tokens=model.default_max_tokens,
        max_tokens_cap=model.max_max_tokens,
        params={k: ParamRule.model_validate(v) for k, v in (model.params or {}).items()},
        fallbacks=list(model.fallbacks or []),
        status=model.status,
        routing=model.routing,
        created_at=model.created_at,
    )


async def model_exists(*, session: AsyncSession, name: str) -> bool:
    """Whether a model with this public name is registered (active or not)."""
    return await store.get_model_by_name(session, name=name) is not None
