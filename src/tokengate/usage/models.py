from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Boolean, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tokengate.db import Base, BigIntId, UTCDateTime


class UsageEvent(Base):
    """One narrow row per request: who, which model, tokens by kind, cost, latency, outcome."""

    __tablename__ = "usage_events"
    __table_args__ = (
        Index("ix_usage_events_tenant_created", "tenant_id", "created_at"),
        Index("ix_usage_events_user_created", "user_id", "created_at"),
        # a tenant's or a person's newest requests, read backwards
        Index("ix_usage_events_tenant_newest", "tenant_id", "id"),
        Index("ix_usage_events_user_newest", "user_id", "id"),
        # a model's latency percentile, read from the index alone on PostgreSQL
        Index(
            "ix_usage_events_model_created",
            "model_id",
            "created_at",
            postgresql_include=["latency_ms", "tenant_id", "user_id"],
        ),
    )

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True, autoincrement=True)
    request_id: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    tenant_id: Mapped[int] = mapped_column(Integer)
    team_id: Mapped[int | None] = mapped_column(Integer)
    user_id: Mapped[int] = mapped_column(Integer)
    key_id: Mapped[int] = mapped_column(Integer)
    model_id: Mapped[int | None] = mapped_column(Integer)
    model: Mapped[str] = mapped_column(String(100))
    endpoint: Mapped[str] = mapped_column(String(32))
    stream: Mapped[bool] = mapped_column(Boolean)
    input_tokens: Mapped[int] = mapped_column(Integer)
    output_tokens: Mapped[int] = mapped_column(Integer)
    cached_tokens: Mapped[int] = mapped_column(Integer)
    cache_write_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    reasoning_tokens: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    cost_micros: Mapped[int] = mapped_column(BigInteger)
    latency_ms: Mapped[int] = mapped_column(Integer)
    ttft_ms: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(16))
    http_status: Mapped[int] = mapped_column(Integer)
    error_code: Mapped[str | None] = mapped_column(String(64))
    estimated: Mapped[bool] = mapped_column(Boolean)
    overage: Mapped[bool] = mapped_column(Boolean, default=False)


class UsageHourly(Base):
    """Hourly rollup per tenant, team, user, key and model; updated with each event.

    ``team_id`` and ``model_id`` are 0 when the event had none (they are part of the key).
    """

    __tablename__ = "usage_hourly"
    __table_args__ = (
        Index("ix_usage_hourly_tenant_hour", "tenant_id", "hour"),
        Index("ix_usage_hourly_user_hour", "user_id", "hour"),
        Index("ix_usage_hourly_team_hour", "team_id", "hour"),
        Index("ix_usage_hourly_model_hour", "model_id", "hour"),
    )

    hour: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    model_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    requests: Mapped[int] = mapped_column(BigInteger, default=0)
    errors: Mapped[int] = mapped_column(BigInteger, default=0)
    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cached_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cost_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    latency_ms_sum: Mapped[int] = mapped_column(BigInteger, default=0)
