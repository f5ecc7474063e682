from __future__ import annotations

from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo, available_timezones

from pydantic import BaseModel, ConfigDict, EmailStr, Field, field_validator

Role = Literal["system_admin", "tenant_admin", "team_leader", "member"]
UserStatus = Literal["active", "blocked"]
LocaleCode = Literal["ko", "en"]


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    monthly_token_limit: int = Field(ge=0)
    allowed_models: list[str] = Field(default_factory=list)
    max_users: int = Field(ge=0)


class PlanPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    monthly_token_limit: int
    allowed_models: list[str]
    max_users: int


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    plan: str = Field(min_length=1, description="plan name")
    timezone: str = "Asia/Seoul"
    locale: LocaleCode = "ko"
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        if value not in available_timezones():
            raise ValueError(f"unknown IANA timezone {value!r}")
        ZoneInfo(value)
        return value


class TenantPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    plan: str
    timezone: str
    locale: str
    currency: str
    created_at: datetime


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: int
    name: str = Field(min_length=1, max_length=200)
    description: str = ""

    @field_validator("name")
    @classmethod
    def _strip(cls, value: str) -> str:
        value = value.strip()
        if not value:
            raise ValueError("name must not be blank")
        return value


class TeamPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tenant_id: int
    name: str
    description: str
    archived: bool
    created_at: datetime


def _default_roles() -> list[Role]:
    return ["member"]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: int
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(default_factory=_default_roles)
    locale: LocaleCode | None = None
    plan: str | None = Field(default=None, description="individual plan override, by name")


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    tenant_id: int | None
    email: str
    name: str
    roles: list[str]
    status: str
    blocked_reason: str | None
    locale: str | None
    created_at: datetime


class BlockRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=500)


class MemberProfile(BaseModel):
    """What the gateway needs to know about a key's owner, read once per request."""

    user_id: int
    tenant_id: int
    status: UserStatus
    blocked_reason: str | None
    locale: str | None
    tenant_locale: str
    timezone: str
    plan: str
    allowed_models: list[str]
    monthly_token_limit: int


class MembershipCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: int
    role: Literal["leader", "member"] = "member"


class MembershipPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    team_id: int
    user_id: int
    role: str
    created_at: datetime
