from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

Outcome = Literal["ok", "rejected", "client_error", "upstream_error", "timeout", "cancelled"]


class UsageRecord(BaseModel):
    """One finished request, as the gateway metered it."""

    request_id: str
    created_at: datetime
    tenant_id: int
    team_id: int | None
    user_id: int
    key_id: int
    model_id: int | None
    model: str
    endpoint: str
    stream: bool
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0
    cost_micros: int
    latency_ms: int
    ttft_ms: int | None
    status: Outcome
    http_status: int
    error_code: str | None
    estimated: bool
    overage: bool = False


class UsageEventPublic(UsageRecord):
    model_config = ConfigDict(from_attributes=True)

    id: int
