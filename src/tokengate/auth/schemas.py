from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tokengate.ids import Id

# the roles a tenant's MFA policy can name; "all" is everyone of the tenant
MfaPolicyRole = Literal["all", "tenant_admin", "team_leader", "member"]
InvitationRole = Literal["tenant_admin", "team_leader", "member"]
InvitationStatus = Literal["pending", "accepted", "revoked", "expired"]


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1024)
    totp: str | None = Field(
        default=None,
        max_length=64,
        description="a code of the authenticator app or a recovery code",
    )


class RefreshRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    refresh_token: str = Field(min_length=1, max_length=200)


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105 (a token type, not a secret)
    expires_in: int = Field(description="seconds the access token stays valid")


class MePublic(BaseModel):
    """The caller; ``id`` is null for the master key."""

    id: int | None
    email: str | None
    name: str
    tenant_id: int | None
    roles: list[str]
    led_team_ids: list[int]
    member_team_ids: list[int]
    mfa_enabled: bool
    locale: str | None


class Enrolment(BaseModel):
    """A TOTP secret being enrolled: shown once, to be scanned or typed into an app."""

    secret: str
    otpauth_uri: str
    qr_svg: str


class MfaCode(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=64)


class RecoveryCodes(BaseModel):
    recovery_codes: list[str]


class PasswordChange(BaseModel):
    model_config = ConfigDict(extra="forbid")

    current_password: str = Field(min_length=1, max_length=1024)
    new_password: str = Field(min_length=1, max_length=1024)


class MfaPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    required_for: list[MfaPolicyRole] = Field(max_length=4)


class MfaPolicyPublic(BaseModel):
    tenant_id: int
    required_for: list[str]


def _member_only() -> list[InvitationRole]:
    return ["member"]


class InvitationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    tenant_id: Id
    email: str = Field(min_length=3, max_length=320)
    name: str = Field(default="", max_length=200)
    roles: list[InvitationRole] = Field(default_factory=_member_only, max_length=3)
    team_id: Id | None = None


class InvitationPublic(BaseModel):
    id: int
    tenant_id: int
    email: str
    name: str
    roles: list[str]
    team_id: int | None
    created_by: int | None
    created_at: datetime
    expires_at: datetime
    accepted_at: datetime | None
    revoked_at: datetime | None
    status: InvitationStatus


class InvitationIssued(InvitationPublic):
    """A new invitation with its one-time token: shown once, never stored in clear."""

    token: str
    accept_url: str


class InvitationAccept(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str = Field(min_length=1, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    password: str = Field(min_length=1, max_length=1024)
