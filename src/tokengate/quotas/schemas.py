from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

from tokengate.ids import Id

Scope = Literal["tenant", "team", "user", "key"]
Metric = Literal["tokens", "cost", "requests"]
Window = Literal["minute", "day", "week", "month", "quarter", "year", "lifetime"]
Mode = Literal["block", "overage", "alert_only"]
LimitSource = Literal["limit", "plan"]


def _check_thresholds(values: list[int]) -> list[int]:
    if not values or any(not 1 <= v <= 1000 for v in values):
        raise ValueError("thresholds are percentages from 1 to 1000")
    return sorted(set(values))


class LimitCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: Scope
    scope_id: Id
    metric: Metric
    window: Window
    amount: int = Field(ge=0, description="tokens, micro-units of currency, or requests; 0 blocks")
    mode: Mode = "block"
    model: str | None = Field(default=None, max_length=100)
    thresholds: list[int] = Field(default_factory=lambda: [80, 90, 100])
    auto_block: bool = False
    priority_share: int = Field(default=0, ge=0, le=100, description="percent kept for priority")

    _thresholds = field_validator("thresholds")(_check_thresholds)

    @model_validator(mode="after")
    def _auto_block_on_people(self) -> LimitCreate:
        if self.auto_block and self.scope not in ("user", "key"):
            raise ValueError("auto_block blocks a user or a key: use it on user or key limits")
        return self


class LimitUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    amount: int | None = Field(default=None, ge=0)
    mode: Mode | None = None
    thresholds: list[int] | None = None
    auto_block: bool | None = None
    priority_share: int | None = Field(default=None, ge=0, le=100)

    @field_validator("thresholds")
    @classmethod
    def _valid(cls, value: list[int] | None) -> list[int] | None:
        return None if value is None else _check_thresholds(value)


class LimitPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tenant_id: int
    scope: str
    scope_id: int
    model: str | None
    metric: str
    window: str
    amount: int
    mode: str
    thresholds: list[int]
    auto_block: bool
    priority_share: int
    created_at: datetime


class ClampedLimit(BaseModel):
    """A personal limit lowered to its team's new amount."""

    limit_id: int
    user_id: int
    old_amount: int
    new_amount: int


class LimitChange(LimitPublic):
    """An updated limit, with the personal limits its new amount clamped."""

    clamped: list[ClampedLimit] = Field(default_factory=list)


class GrantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit_id: Id | None = Field(default=None, description="a limit's id")
    user_id: Id | None = Field(default=None, description="or a user: their monthly plan allowance")
    amount: int = Field(gt=0)
    expires_at: AwareDatetime
    reason: str = Field(default="", max_length=500)

    @model_validator(mode="after")
    def _one_target(self) -> GrantCreate:
        if (self.limit_id is None) == (self.user_id is None):
            raise ValueError("give exactly one of limit_id and user_id")
        return self


class GrantPublic(BaseModel):
    id: int
    tenant_id: int
    limit_id: int | None
    user_id: int | None
    amount: int
    expires_at: datetime
    reason: str
    created_at: datetime


class RelaxationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    limit_id: Id
    multiplier_percent: int = Field(ge=1, le=10_000, description="200 doubles the amount")
    start_hour: int = Field(ge=0, le=23, description="local hour the rule starts (inclusive)")
    end_hour: int = Field(ge=0, le=23, description="local hour it ends (exclusive); may wrap")

    @model_validator(mode="after")
    def _not_empty(self) -> RelaxationCreate:
        if self.start_hour == self.end_hour:
            raise ValueError("start_hour and end_hour must differ")
        return self


class RelaxationPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tenant_id: int
    limit_id: int
    multiplier_percent: int
    start_hour: int
    end_hour: int
    created_at: datetime


class ExemptionCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scope: Literal["user", "key"]
    scope_id: Id
    metric: Metric
    reason: str = Field(default="", max_length=500)


class ExemptionPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tenant_id: int
    scope: str
    scope_id: int
    metric: str
    reason: str
    created_at: datetime


class LimitUsage(BaseModel):
    """One applicable limit and its counter, read from the ledger itself."""

    limit_id: int | None
    source: LimitSource
    scope: str
    scope_id: int
    model: str | None
    metric: str
    window: str
    mode: str
    amount: int
    used: int
    reserved: int
    overage: int
    percent: float
    window_start: datetime
    window_end: datetime
