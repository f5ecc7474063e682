from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from tokengate.ids import Id


class KeyCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    user_id: Id
    team_id: Id | None = None
    name: str = Field(default="", max_length=200)
    expires_at: AwareDatetime | None = None
    priority: Literal["normal", "high"] = "normal"


class KeyUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, max_length=200)
    expires_at: AwareDatetime | None = None


class KeyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    prefix: str
    name: str
    tenant_id: int
    user_id: int
    team_id: int | None
    status: str
    blocked_reason: str | None
    priority: str
    expires_at: datetime | None
    created_at: datetime


class KeyIssued(KeyPublic):
    """A freshly issued key: the only time its plaintext is shown."""

    key: str


class KeyIdentity(BaseModel):
    """Who a valid key belongs to, and the team its requests are charged to."""

    key_id: int
    tenant_id: int
    user_id: int
    team_id: int | None
    blocked: bool = False
    high_priority: bool = False


class KeyBlock(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(default="", max_length=500)


class KeyRecord(BaseModel):
    """What the gateway caches about a presented key: its identity, status and expiry."""

    identity: KeyIdentity
    status: str
    expires_at: datetime | None
