from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tokengate.db import Base, UTCDateTime, utcnow


class Limit(Base):
    """One limit: scope, optional model filter, metric, window, amount, mode and thresholds.

    ``metric`` and ``window`` never change after creation: the ledger's counters are keyed by
    the limit's id, so a different metric or window is a different limit.
    """

    __tablename__ = "limits"
    __table_args__ = (Index("ix_limits_scope", "scope", "scope_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    scope: Mapped[str] = mapped_column(String(8))
    scope_id: Mapped[int] = mapped_column(Integer)
    model: Mapped[str | None] = mapped_column(String(100), default=None)
    metric: Mapped[str] = mapped_column(String(8))
    window: Mapped[str] = mapped_column(String(8))
    amount: Mapped[int] = mapped_column(BigInteger)
    mode: Mapped[str] = mapped_column(String(12), default="block")
    thresholds: Mapped[list[int]] = mapped_column(JSON, default=lambda: [80, 90, 100])
    auto_block: Mapped[bool] = mapped_column(Boolean, default=False)
    priority_share: Mapped[int] = mapped_column(Integer, default=0)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Grant(Base):
    """Extra allowance added to a limit until it expires.

    ``limit_id`` is a limit's id, or ``-user_id`` for a user's monthly plan allowance.
    """

    __tablename__ = "limit_grants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    limit_id: Mapped[int] = mapped_column(Integer, index=True)
    amount: Mapped[int] = mapped_column(BigInteger)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Relaxation(Base):
    """A time-of-day rule: a limit's amount is multiplied in the given local hours."""

    __tablename__ = "limit_relaxations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    limit_id: Mapped[int] = mapped_column(Integer, index=True)
    # percent: 200 doubles the amount, 50 halves it
    multiplier_percent: Mapped[int] = mapped_column(Integer)
    start_hour: Mapped[int] = mapped_column(Integer)
    end_hour: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Exemption(Base):
    """A user or key that no ``block`` limit of a metric stops (usage is still counted)."""

    __tablename__ = "limit_exemptions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(Integer, index=True)
    scope: Mapped[str] = mapped_column(String(8))
    scope_id: Mapped[int] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(8))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
