from __future__ import annotations

from datetime import datetime
from typing import Annotated, ClassVar, Literal, Self
from zoneinfo import ZoneInfo, available_timezones

from pydantic import (
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    SecretStr,
    field_validator,
    model_validator,
)

from tokengate.ids import MAX_ID, Id

# token counts are 64-bit columns, people counts 32-bit ones
Tokens = Annotated[int, Field(ge=0, le=2**63 - 1)]
People = Annotated[int, Field(ge=0, le=MAX_ID)]
Role = Literal["system_admin", "tenant_admin", "team_leader", "member"]
# what the gateway distinguishes; archived people have no profile at all
UserStatus = Literal["active", "blocked"]
AccountStatus = Literal["active", "blocked", "archived"]
LocaleCode = Literal["ko", "en"]
TeamRole = Literal["leader", "member"]
# what each list sorts by besides id (``?sort=name``, ``?sort=-created_at``), and its type
PLAN_SORTS: dict[str, type] = {"name": str, "created_at": datetime}
TENANT_SORTS: dict[str, type] = {"name": str, "created_at": datetime}
TEAM_SORTS: dict[str, type] = {"name": str, "created_at": datetime}
USER_SORTS: dict[str, type] = {"name": str, "email": str, "created_at": datetime}


def _known_zone(value: str) -> str:
    if value not in available_timezones():
        raise ValueError(f"unknown IANA timezone {value!r}")
    ZoneInfo(value)
    return value


def _stripped(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("name must not be blank")
    return value


class _Patch(BaseModel):
    """A partial update: only the fields sent change; ``null`` only where it means something."""

    model_config = ConfigDict(extra="forbid")
    NULLABLE: ClassVar[frozenset[str]] = frozenset()

    @model_validator(mode="after")
    def _something_to_change(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        nulls = sorted(
            f for f in self.model_fields_set if getattr(self, f) is None and f not in self.NULLABLE
        )
        if nulls:
            raise ValueError(f"{', '.join(nulls)} cannot be null")
        return self


class PlanCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=64)
    monthly_token_limit: Tokens
    allowed_models: list[str] = Field(default_factory=list)
    max_users: People

    _name = field_validator("name")(_stripped)


class PlanUpdate(_Patch):
    name: str | None = Field(default=None, min_length=1, max_length=64)
    monthly_token_limit: Tokens | None = None
    allowed_models: list[str] | None = None
    max_users: People | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _stripped(value)


class PlanPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    monthly_token_limit: int
    allowed_models: list[str]
    max_users: int
    archived: bool
    created_at: datetime


class TenantCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=200)
    plan: str = Field(min_length=1, description="plan name")
    timezone: str = "Asia/Seoul"
    locale: LocaleCode = "ko"
    currency: str = Field(default="USD", pattern=r"^[A-Z]{3}$")
    local_login: bool = True

    _zone = field_validator("timezone")(_known_zone)
    _name = field_validator("name")(_stripped)


class TenantUpdate(_Patch):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    plan: str | None = Field(default=None, min_length=1, description="plan name")
    timezone: str | None = None
    locale: LocaleCode | None = None
    currency: str | None = Field(default=None, pattern=r"^[A-Z]{3}$")
    local_login: bool | None = None

    # what only system administrators change: the others are the tenant admins' own settings
    SYSTEM_FIELDS: ClassVar[frozenset[str]] = frozenset({"name", "plan", "currency"})

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str | None) -> str | None:
        return None if value is None else _known_zone(value)

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _stripped(value)


class TenantPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    plan: str
    timezone: str
    locale: str
    currency: str
    local_login: bool
    # set through PUT /api/v1/tenants/{id}/mfa-policy
    mfa_required_for: list[str]
    archived: bool
    created_at: datetime


class TeamCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: Id
    name: str = Field(min_length=1, max_length=200)
    description: str = ""
    owner_user_id: Id | None = Field(
        default=None, description="the person responsible; the tenant's first admin when omitted"
    )

    _name = field_validator("name")(_stripped)


class TeamUpdate(_Patch):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = None
    owner_user_id: Id | None = None

    @field_validator("name")
    @classmethod
    def _name(cls, value: str | None) -> str | None:
        return None if value is None else _stripped(value)


class TeamPublic(BaseModel):
    id: int
    tenant_id: int
    name: str
    description: str
    owner_user_id: int | None
    member_count: int
    archived: bool
    created_at: datetime


def _default_roles() -> list[Role]:
    return ["member"]


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: Id
    email: EmailStr
    name: str = Field(min_length=1, max_length=200)
    roles: list[Role] = Field(default_factory=_default_roles)
    locale: LocaleCode | None = None
    plan: str | None = Field(default=None, description="individual plan override, by name")
    password: SecretStr | None = Field(
        default=None, description="for local sign-in; only where the tenant allows it"
    )


class UserUpdate(_Patch):
    email: EmailStr | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)
    roles: list[Role] | None = None
    locale: LocaleCode | None = None
    plan: str | None = Field(default=None, description="individual plan override; null clears it")

    NULLABLE: ClassVar[frozenset[str]] = frozenset({"locale", "plan"})


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

    user_id: Id
    role: TeamRole = "member"


class MembershipUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: TeamRole
    successor_user_id: Id | None = Field(
        default=None, description="who leads the team instead, when its last leader steps down"
    )


class MembershipMove(BaseModel):
    model_config = ConfigDict(extra="forbid")

    to_team_id: Id
    role: TeamRole = "member"
    successor_user_id: Id | None = Field(
        default=None, description="who leads the old team instead, when its last leader moves"
    )


class MembershipPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    team_id: int
    user_id: int
    role: str
    created_at: datetime


class MembershipChange(BaseModel):
    """A membership as it is after the change (or as it was, when removed), and whoever took
    over the team's lead."""

    membership: MembershipPublic
    successor: MembershipPublic | None = None
