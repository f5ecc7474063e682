from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from tokengate.db import Base, BigIntId, UTCDateTime, utcnow


class AuditEvent(Base):
    """One administrative change: who did what to which object, before and after, from where.

    Append-only: the migration installs triggers that refuse UPDATE and DELETE. Ids are plain
    integers without foreign keys so the record outlives what it describes.
    """

    __tablename__ = "audit_events"

    id: Mapped[int] = mapped_column(BigIntId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_user_id: Mapped[int | None] = mapped_column(Integer, default=None)
    # the actor's e-mail, or "master-key" for the bootstrap credential
    actor: Mapped[str] = mapped_column(String(320))
    # the tenant the target belongs to (None for system-wide objects): what a tenant admin sees
    tenant_id: Mapped[int | None] = mapped_column(Integer, default=None, index=True)
    action: Mapped[str] = mapped_column(String(64), index=True)
    target_type: Mapped[str] = mapped_column(String(32))
    target_id: Mapped[str | None] = mapped_column(String(64), default=None)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    ip: Mapped[str | None] = mapped_column(String(64), default=None)
