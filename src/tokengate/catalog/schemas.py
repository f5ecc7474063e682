from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, UrlConstraints, model_validator

ParamName = Literal[
    "temperature", "top_p", "frequency_penalty", "presence_penalty", "top_k", "seed"
]


class ParamRule(BaseModel):
    """A model's rule for one sampling parameter: a default when absent, bounds when present."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    default: float | None = None
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ParamRule:
        low = self.min if self.min is not None else float("-inf")
        high = self.max if self.max is not None else float("inf")
        if low > high or (self.default is not None and not low <= self.default <= high):
            raise ValueError("need min <= default <= max")
        return self


# gemini: Google's OpenAI-compatible endpoint (…/v1beta/openai); azure: Azure OpenAI
Provider = Literal["openai", "openai_compatible", "anthropic", "azure", "gemini"]
MICROS = Decimal(1_000_000)


# ids and token counts fit the INTEGER columns that hold them
MAX_INT = 2**31 - 1
Price = Annotated[Decimal, Field(ge=0, max_digits=18, decimal_places=6)]
BaseUrl = Annotated[HttpUrl, UrlConstraints(max_length=500)]
Tokens = Annotated[int, Field(ge=1, le=MAX_INT)]
Status = Literal["active", "inactive", "archived"]
ALIAS_HELP = "register even when another model already serves this provider, model and URL"


class ModelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:/-]+$")
    provider: Provider
    upstream_model: str = Field(min_length=1, max_length=200)
    base_url: BaseUrl
    api_key: str | None = Field(default=None, max_length=500)
    input_price_per_mtok: Price
    output_price_per_mtok: Price
    cached_input_price_per_mtok: Price | None = None
    cache_write_price_per_mtok: Price | None = None
    default_max_tokens: Tokens | None = None
    max_tokens_cap: Tokens | None = None
    params: dict[ParamName, ParamRule] = Field(default_factory=dict)
    version: str | None = Field(default=None, max_length=64)
    description: str = Field(default="", max_length=2000)
    allow_alias: bool = Field(default=False, description=ALIAS_HELP)


class DeploymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    upstream_model: str = Field(min_length=1, max_length=200)
    base_url: BaseUrl
    api_key: str | None = Field(default=None, max_length=500)
    weight: int = Field(default=1, ge=1, le=1000)
    allow_alias: bool = Field(default=False, description=ALIAS_HELP)


class DeploymentPublic(BaseModel):
    id: int
    model_id: int
    upstream_model: str
    base_url: str
    api_key: str | None = Field(description="masked: only the last four characters")
    weight: int
    primary: bool
    circuit: str = Field(default="closed", description="this process's circuit breaker state")


class ModelUpdate(BaseModel):
    """Fields to change; an absent field keeps its value, ``"api_key": null`` removes the key.

    The name never changes: plans, limits and usage refer to models by it.
    """

    model_config = ConfigDict(extra="forbid")

    provider: Provider | None = None
    upstream_model: str | None = Field(default=None, min_length=1, max_length=200)
    base_url: BaseUrl | None = None
    api_key: str | None = Field(default=None, max_length=500)
    input_price_per_mtok: Price | None = None
    output_price_per_mtok: Price | None = None
    cached_input_price_per_mtok: Price | None = None
    cache_write_price_per_mtok: Price | None = None
    default_max_tokens: Tokens | None = None
    max_tokens_cap: Tokens | None = None
    version: str | None = Field(default=None, max_length=64)
    description: str | None = Field(default=None, max_length=2000)
    status: Literal["active", "inactive"] | None = None
    routing: Literal["weighted", "least_busy"] | None = None
    weight: int | None = Field(default=None, ge=1, le=1000)
    params: dict[ParamName, ParamRule] | None = None
    fallbacks: list[str] | None = Field(default=None, max_length=5)
    allow_alias: bool = Field(default=False, description=ALIAS_HELP)


class ModelSummary(BaseModel):
    """What every signed-in caller sees of a model: no deployment details, no key."""

    id: int
    name: str
    provider: str
    version: str | None
    description: str
    status: str
    input_price_per_mtok: Decimal
    output_price_per_mtok: Decimal
    cached_input_price_per_mtok: Decimal
    cache_write_price_per_mtok: Decimal
    default_max_tokens: int | None
    max_tokens_cap: int | None
    params: dict[str, ParamRule]
    created_at: datetime


class ModelPublic(ModelSummary):
    """A model as system administrators see it: where it is served, with the key masked."""

    upstream_model: str
    base_url: str
    api_key: str | None = Field(description="masked: only the last four characters")
    fallbacks: list[str]
    routing: str


class ModelFilter(BaseModel):
    """Which models a list shows."""

    search: str | None = Field(default=None, max_length=200, description="in name or version")
    provider: Provider | None = None
    status: Status | None = None
    include_archived: bool = Field(default=False, description="archived models are hidden")


class ProbeTarget(BaseModel):
    """An upstream to try: a model's deployment, or a configuration not saved yet."""

    model_config = ConfigDict(extra="forbid")

    provider: Provider
    upstream_model: str = Field(min_length=1, max_length=200)
    base_url: BaseUrl
    api_key: str | None = Field(default=None, max_length=500)


class ProbeResult(BaseModel):
    """How one upstream answered a one-token request."""

    deployment_id: int | None = Field(description="negative: the model's primary deployment")
    upstream_model: str
    base_url: str
    ok: bool
    latency_ms: int
    status: int | None = Field(description="the provider's HTTP status, when it answered")
    error: str | None = None


class ConnectionTest(BaseModel):
    """The outcome of a connection test: ``ok`` when every deployment answered."""

    model_id: int | None
    ok: bool
    deployments: list[ProbeResult]


class ModelStats(BaseModel):
    """A model's usage over whole hours, as far as the caller may see it."""

    model_id: int
    since: datetime | None = Field(description="inclusive, rounded down to the hour")
    until: datetime | None = Field(description="exclusive, rounded up to the hour")
    requests: int
    errors: int
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cost_micros: int
    cost: Decimal = Field(description="cost_micros in currency units")
    avg_latency_ms: int | None
    p95_latency_ms: int | None
    distinct_users: int


class Upstream(BaseModel):
    """One deployment of a model, ready to call: ``id`` is negative for the primary one."""

    id: int
    upstream_model: str
    base_url: str
    api_key: str | None
    weight: int


class Route(BaseModel):
    """Everything the relay needs to call a model's provider, secrets decrypted.

    ``upstream_model``, ``base_url`` and ``api_key`` are those of the deployment in use: the
    primary one until ``on`` picks another of ``upstreams``.
    """

    model_id: int
    name: str
    provider: str
    upstream_model: str
    base_url: str
    api_key: str | None
    input_price: int
    output_price: int
    cached_input_price: int
    cache_write_price: int
    default_max_tokens: int | None
    max_tokens_cap: int | None
    routing: str = "weighted"
    upstreams: list[Upstream] = Field(default_factory=list)
    params: dict[str, ParamRule] = Field(default_factory=dict)
    fallbacks: list[str] = Field(default_factory=list)

    def on(self, upstream: Upstream) -> Route:
        """This route, sent to one of its deployments."""
        return self.model_copy(
            update={
                "upstream_model": upstream.upstream_model,
                "base_url": upstream.base_url,
                "api_key": upstream.api_key,
            }
        )


class TokenUsage(BaseModel):
    """Tokens of one request by kind.

    ``input_tokens`` includes the prompt's cache reads (``cached_tokens``) and cache writes
    (``cache_write_tokens``); ``output_tokens`` includes ``reasoning_tokens``.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
