from __future__ import annotations

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column

from tokengate.db import Base, UTCDateTime, utcnow


class Plan(Base):
    """A subscription plan: per-user monthly tokens, allowed models, maximum users."""

    __tablename__ = "plans"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    monthly_token_limit: Mapped[int] = mapped_column(BigInteger)
    allowed_models: Mapped[list[str]] = mapped_column(JSON, default=list)
    max_users: Mapped[int] = mapped_column(Integer)
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Tenant(Base):
    """An organisation (e.g. a newspaper) with its plan, timezone, locale and currency."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plans.id"))
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Seoul")
    locale: Mapped[str] = mapped_column(String(8), default="ko")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    # roles whose holders must use MFA; "all" for everyone of the tenant
    mfa_required_for: Mapped[list[str]] = mapped_column(JSON, default=list, server_default="[]")
    # whether people of this tenant may sign in with a local password (else only through OIDC)
    local_login: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    archived: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Team(Base):
    """A team inside one tenant; archived, never deleted, once it has usage."""

    __tablename__ = "teams"
    __table_args__ = (UniqueConstraint("tenant_id", "name_key"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    # casefolded name: team names are unique per tenant regardless of case
    name_key: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    # the person responsible for the team (담당자); the tenant's admin when none is named
    owner_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), default=None)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class User(Base):
    """A person of one tenant, with roles and a status (active, blocked with a reason, archived)."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None for system administrators, who belong to no tenant
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id"), index=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(16), default="active")
    blocked_reason: Mapped[str | None] = mapped_column(Text, default=None)
    locale: Mapped[str | None] = mapped_column(String(8), default=None)
    plan_id: Mapped[int | None] = mapped_column(ForeignKey("plans.id"), default=None)
    password_hash: Mapped[str | None] = mapped_column(String(200), default=None)
    # bumped when the password changes or every session is revoked: older tokens stop working
    auth_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TeamMembership(Base):
    """A user's membership of a team, as leader or member."""

    __tablename__ = "team_memberships"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    role: Mapped[str] = mapped_column(String(16), default="member")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
