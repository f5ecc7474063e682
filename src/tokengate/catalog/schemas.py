from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, model_validator

# gemini: Google's OpenAI-compatible endpoint (…/v1beta/openai); azure: Azure OpenAI
ParamName = Literal[
    "temperature", "top_p", "frequency_penalty", "presence_penalty", "top_k", "seed"
]


class ParamRule(BaseModel):
    """A model's rule for one sampling parameter: a default when absent, bounds when present."""

    model_config = ConfigDict(extra="forbid")

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


Provider = Literal["openai", "openai_compatible", "anthropic", "azure", "gemini"]
MICROS = Decimal(1_000_000)


class ModelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9._:/-]+$")
    provider: Provider
    upstream_model: str = Field(min_length=1, max_length=200)
    base_url: HttpUrl
    api_key: str | None = Field(default=None, max_length=500)
    input_price_per_mtok: Decimal = Field(ge=0, max_digits=18, decimal_places=6)
    output_price_per_mtok: Decimal = Field(ge=0, max_digits=18, decimal_places=6)
    cached_input_price_per_mtok: Decimal | None = Field(
        default=None, ge=0, max_digits=18, decimal_places=6
    )
    cache_write_price_per_mtok: Decimal | None = Field(
        default=None, ge=0, max_digits=18, decimal_places=6
    )
    default_max_tokens: int | None = Field(default=None, ge=1)
    max_tokens_cap: int | None = Field(default=None, ge=1)
    params: dict[ParamName, ParamRule] = Field(default_factory=dict)


class DeploymentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    upstream_model: str = Field(min_length=1, max_length=200)
    base_url: HttpUrl
    api_key: str | None = Field(default=None, max_length=500)
    weight: int = Field(default=1, ge=1, le=1000)


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
    model_config = ConfigDict(extra="forbid")

    status: Literal["active", "inactive"] | None = None
    routing: Literal["weighted", "least_busy"] | None = None
    weight: int | None = Field(default=None, ge=1, le=1000)
    params: dict[ParamName, ParamRule] | None = None
    fallbacks: list[str] | None = Field(default=None, max_length=5)


class ModelPublic(BaseModel):
    id: int
    name: str
    provider: str
    upstream_model: str
    base_url: str
    api_key: str | None = Field(description="masked: only the last four characters")
    input_price_per_mtok: Decimal
    output_price_per_mtok: Decimal
    cached_input_price_per_mtok: Decimal
    cache_write_price_per_mtok: Decimal
    default_max_tokens: int | None
    max_tokens_cap: int | None
    params: dict[str, ParamRule]
    fallbacks: list[str]
    status: str
    routing: str
    created_at: datetime


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
