from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict


class AuditEventPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    actor_user_id: int | None
    actor: str
    tenant_id: int | None
    action: str
    target_type: str
    target_id: str | None
    before: dict[str, Any] | None
    after: dict[str, Any] | None
    ip: str | None


@dataclass(frozen=True, slots=True)
class AuditFilter:
    """Which records to read; None matches everything."""

    tenant_id: int | None = None
    action: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None
