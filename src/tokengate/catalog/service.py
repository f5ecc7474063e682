from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
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
    ModelFilter,
    ModelPublic,
    ModelSummary,
    ModelUpdate,
    ParamName,
    ParamRule,
    Route,
    TokenUsage,
    Upstream,
)
from tokengate.crypto import SecretBox, mask_secret
from tokengate.errors import Conflict, InvalidRequest, NotFound
from tokengate.pagination import Page, PageRequest, Sort, SortedPage

PER_MTOK = 1_000_000
PRICES = ("input_price", "output_price", "cached_input_price", "cache_write_price")
# the orders a list may take besides the id, with the type of their values
SORTS: Mapping[str, type] = {"name": str, "created_at": datetime}
# the fields an explicit null in an update clears; any other null means "unchanged"
CLEARABLE = frozenset({"api_key", "version", "default_max_tokens", "max_tokens_cap"})


async def register_model(
    *, session: AsyncSession, box: SecretBox, data: ModelCreate
) -> ModelPublic:
    """Register a model under a new public name; its provider key is stored encrypted."""
    await _check_name_free(session, data.name)
    base_url = _url(data.base_url)
    if not data.allow_alias:
        await _check_endpoint_free(session, data.provider, data.upstream_model, base_url, None)
    _check_caps(data.default_max_tokens, data.max_tokens_cap)
    input_price = _to_micros(data.input_price_per_mtok)
    model = Model(
        name=data.name,
        provider=data.provider,
        upstream_model=data.upstream_model,
        base_url=base_url,
        api_key_encrypted=box.encrypt(data.api_key) if data.api_key else None,
        input_price=input_price,
        output_price=_to_micros(data.output_price_per_mtok),
        cached_input_price=_to_micros(data.cached_input_price_per_mtok, input_price),
        cache_write_price=_to_micros(data.cache_write_price_per_mtok, input_price),
        default_max_tokens=data.default_max_tokens,
        max_max_tokens=data.max_tokens_cap,
        params=_params_json(data.params),
        version=data.version,
        description=data.description,
    )
    session.add(model)
    try:
        await session.flush()
    except IntegrityError as exc:
        raise Conflict(f"a model named {data.name!r} is already registered") from exc
    return _public(model, box)


async def _check_name_free(session: AsyncSession, name: str) -> None:
    taken = await store.find_model_named(session, name=name)
    if taken is None:
        return
    if taken.status == store.ARCHIVED:
        raise Conflict(
            f"the archived model {taken.name!r} holds this name: activate it instead",
            param="name",
        )
    raise Conflict(f"a model named {taken.name!r} is already registered", param="name")


async def _check_endpoint_free(
    session: AsyncSession, provider: str, upstream_model: str, base_url: str, model_id: int | None
) -> None:
    other = await store.find_endpoint(
        session,
        provider=provider,
        upstream_model=upstream_model,
        base_url=base_url,
        other_than=model_id,
    )
    if other is not None:
        raise Conflict(
            f"the model {other.name!r} already serves {upstream_model!r} at {base_url}: "
            "set allow_alias to give it another name on purpose",
            param="base_url",
        )


def _check_caps(default: int | None, cap: int | None) -> None:
    if default is not None and cap is not None and default > cap:
        raise InvalidRequest(
            "default_max_tokens may not exceed max_tokens_cap", param="default_max_tokens"
        )


async def get_model(
    *, session: AsyncSession, box: SecretBox, model_id: int, detailed: bool
) -> ModelPublic | ModelSummary:
    """One model; ``detailed`` adds where it is served and its masked key."""
    model = await load_model(session=session, model_id=model_id)
    return _public(model, box) if detailed else _summary(model)


async def list_models(
    *,
    session: AsyncSession,
    box: SecretBox,
    filters: ModelFilter,
    page: PageRequest,
    sort: str | None,
    detailed: bool,
) -> Page[ModelPublic] | Page[ModelSummary]:
    """One page of the catalogue, filtered and sorted; archived models only when asked."""
    sorted_page = SortedPage.of(page, Sort.parse(sort, SORTS))
    rows = await store.list_models(session, filters=filters, page=sorted_page)
    following = sorted_page.next_cursor(rows[-1][1] if rows else None, len(rows))
    if detailed:
        return Page[ModelPublic](items=[_public(m, box) for m, _ in rows], next=following)
    return Page[ModelSummary](items=[_summary(m) for m, _ in rows], next=following)


async def list_active_model_names(*, session: AsyncSession) -> list[str]:
    """Return the public names of every active model."""
    return await store.list_model_names(session, status="active")


async def get_route(*, session: AsyncSession, box: SecretBox, name: str) -> Route | None:
    """Return how to call the active model with this public name (all its deployments), or None."""
    model = await store.get_model_by_name(session, name=name)
    if model is None or model.status != "active":
        return None
    upstreams = await model_upstreams(session=session, box=box, model=model)
    return Route(
        model_id=model.id,
        name=model.name,
        provider=model.provider,
        upstream_model=model.upstream_model,
        base_url=model.base_url,
        api_key=upstreams[0].api_key,
        input_price=model.input_price,
        output_price=model.output_price,
        cached_input_price=model.cached_input_price,
        cache_write_price=model.cache_write_price,
        default_max_tokens=model.default_max_tokens,
        max_tokens_cap=model.max_max_tokens,
        routing=model.routing,
        upstreams=upstreams,
        params={k: ParamRule.model_validate(v) for k, v in (model.params or {}).items()},
        fallbacks=list(model.fallbacks or []),
    )


async def model_upstreams(*, session: AsyncSession, box: SecretBox, model: Model) -> list[Upstream]:
    """The model's deployments with their keys decrypted, the primary one (id -model.id) first."""
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
    return [primary, *extra]


async def update_model(
    *, session: AsyncSession, box: SecretBox, model_id: int, data: ModelUpdate
) -> ModelPublic:
    """Change a model's upstream, key, prices, limits, metadata, status or routing."""
    model = await load_model(session=session, model_id=model_id)
    changes = _changes(data)
    if "api_key" in data.model_fields_set:
        changes["api_key_encrypted"] = box.encrypt(data.api_key) if data.api_key else None
    for field, value in changes.items():
        setattr(model, field, value)
    # checked on the changed row: an error rolls the request's transaction back with it
    if not data.allow_alias and changes.keys() & ENDPOINT:
        await _check_endpoint_free(
            session, model.provider, model.upstream_model, model.base_url, model.id
        )
    _check_caps(model.default_max_tokens, model.max_max_tokens)
    if changes.keys() & {"fallbacks", *PRICES}:
        await _check_fallbacks(session, model, list(model.fallbacks or []))
        await _check_dependents(session, model)
    await session.flush()
    return _public(model, box)


ENDPOINT = frozenset({"provider", "upstream_model", "base_url"})
_RENAMED = {
    "input_price_per_mtok": "input_price",
    "output_price_per_mtok": "output_price",
    "cached_input_price_per_mtok": "cached_input_price",
    "cache_write_price_per_mtok": "cache_write_price",
    "max_tokens_cap": "max_max_tokens",
}


def _changes(data: ModelUpdate) -> dict[str, object]:
    """The update's fields as column values (the key is encrypted by the caller)."""
    changes: dict[str, object] = {}
    for field in data.model_fields_set - {"allow_alias", "api_key"}:
        value = getattr(data, field)
        if value is None and field not in CLEARABLE:
            continue
        column = _RENAMED.get(field, field)
        if isinstance(value, Decimal):
            value = _to_micros(value)
        elif field == "base_url" and value is not None:
            value = _url(value)
        elif field == "params" and value is not None:
            value = _params_json(value)
        changes[column] = value
    return changes


async def _check_fallbacks(session: AsyncSession, model: Model, names: list[str]) -> None:
    # a request is reserved at its own model's prices: a fallback may not cost more
    for name in names:
        other = await store.get_model_by_name(session, name=name)
        if other is None or other.id == model.id or other.status == store.ARCHIVED:
            raise InvalidRequest(f"{name!r} is not another registered model", param="fallbacks")
        if any(getattr(other, p) > getattr(model, p) for p in PRICES):
            raise InvalidRequest(
                f"the fallback {name!r} costs more than {model.name!r}", param="fallbacks"
            )


async def _check_dependents(session: AsyncSession, model: Model) -> None:
    """A model falling back to this one must stay at least as dear as this one."""
    for other in await store.list_live_models(session):
        if model.name in (other.fallbacks or []) and any(
            getattr(model, p) > getattr(other, p) for p in PRICES
        ):
            raise InvalidRequest(
                f"{other.name!r} falls back to {model.name!r}, which would then cost more",
                param="input_price_per_mtok",
            )


async def set_model_status(
    *, session: AsyncSession, box: SecretBox, model_id: int, active: bool
) -> ModelPublic:
    """Offer a model on /v1 again, or stop offering it (an archived model comes back too)."""
    model = await load_model(session=session, model_id=model_id)
    model.status = "active" if active else "inactive"
    await session.flush()
    return _public(model, box)


async def remove_model(
    *, session: AsyncSession, box: SecretBox, model_id: int
) -> ModelPublic | None:
    """Delete a model nothing refers to; archive one with usage history or that a plan, a limit
    or another model's fallbacks name. Returns the archived model, or None once deleted."""
    model = await load_model(session=session, model_id=model_id)
    if not await _in_use(session, model):
        await store.delete_model(session, model=model)
        return None
    model.status = store.ARCHIVED
    await session.flush()
    return _public(model, box)


async def _in_use(session: AsyncSession, model: Model) -> bool:
    if await store.has_usage(session, model_id=model.id):
        return True
    if await store.list_plans_naming(session, name=model.name):
        return True
    if await store.list_limits_naming(session, name=model.name):
        return True
    return any(model.name in (m.fallbacks or []) for m in await store.list_live_models(session))


async def add_deployment(
    *, session: AsyncSession, box: SecretBox, model_id: int, data: DeploymentCreate
) -> DeploymentPublic:
    """Add an upstream serving a model (its provider kind is the model's)."""
    model = await load_model(session=session, model_id=model_id)
    base_url = _url(data.base_url)
    target = (data.upstream_model, base_url)
    rows = await store.list_deployments(session, model_id=model.id)
    if target in {
        (model.upstream_model, model.base_url),
        *((d.upstream_model, d.base_url) for d in rows),
    }:
        raise Conflict(f"the model {model.name!r} already has this deployment", param="base_url")
    if not data.allow_alias:
        await _check_endpoint_free(session, model.provider, *target, model.id)
    deployment = Deployment(
        model_id=model.id,
        upstream_model=data.upstream_model,
        base_url=base_url,
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
    model = await load_model(session=session, model_id=model_id)
    rows = await store.list_deployments(session, model_id=model.id)
    return [
        _deployment_public(-model.id, model.id, model, box, primary=True),
        *(_deployment_public(d.id, model.id, d, box, primary=False) for d in rows),
    ]


def _params_json(params: Mapping[ParamName, ParamRule]) -> dict[str, dict[str, float]]:
    return {name: rule.model_dump(exclude_none=True) for name, rule in params.items()}


def _secret(box: SecretBox, token: str | None) -> str | None:
    return box.decrypt(token) if token else None


def _url(url: object) -> str:
    return str(url).rstrip("/")


async def load_model(*, session: AsyncSession, model_id: int) -> Model:
    """The model with this id; NotFound when there is none."""
    model = await store.get_model(session, model_id=model_id)
    if model is None:
        raise NotFound(f"model {model_id} does not exist")
    return model


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


def _to_micros(price: Decimal | None, default: int = 0) -> int:
    return default if price is None else int((price * MICROS).to_integral_value())


def _summary(model: Model) -> ModelSummary:
    return ModelSummary(
        id=model.id,
        name=model.name,
        provider=model.provider,
        version=model.version,
        description=model.description or "",
        status=model.status,
        input_price_per_mtok=Decimal(model.input_price) / MICROS,
        output_price_per_mtok=Decimal(model.output_price) / MICROS,
        cached_input_price_per_mtok=Decimal(model.cached_input_price) / MICROS,
        cache_write_price_per_mtok=Decimal(model.cache_write_price) / MICROS,
        default_max_tokens=model.default_max_tokens,
        max_tokens_cap=model.max_max_tokens,
        params={k: ParamRule.model_validate(v) for k, v in (model.params or {}).items()},
        created_at=model.created_at,
    )


def _public(model: Model, box: SecretBox) -> ModelPublic:
    secret = _secret(box, model.api_key_encrypted)
    return ModelPublic(
        **_summary(model).model_dump(),
        upstream_model=model.upstream_model,
        base_url=model.base_url,
        api_key=mask_secret(secret) if secret else None,
        fallbacks=list(model.fallbacks or []),
        routing=model.routing,
    )


async def model_exists(*, session: AsyncSession, name: str) -> bool:
    """Whether a model with this public name is registered (active or not)."""
    return await store.get_model_by_name(session, name=name) is not None
