"""Noticing configuration changes, so every process can drop its caches within a second.

Every flush that writes a configuration table (tenants, users, keys, models, limits, …) also
increments the one row of ``config_epoch`` in the same transaction; after the commit the
writing process clears its own caches at once, and every other process sees the new epoch at its
next poll (``EPOCH_POLL_SECONDS``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy import BigInteger, Integer, event, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, Session, mapped_column

from tokengate.db import Base

EPOCH_POLL_SECONDS = 0.5
log = structlog.get_logger()
CONFIG_TABLES = frozenset(
    {
        "plans",
        "tenants",
        "teams",
        "team_memberships",
        "users",
        "api_keys",
        "models",
        "model_deployments",
        "limits",
        "limit_grants",
        "limit_relaxations",
        "limit_exemptions",
    }
)


class ConfigEpoch(Base):
    """One row: a counter incremented by every configuration change."""

    __tablename__ = "config_epoch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    value: Mapped[int] = mapped_column(BigInteger, default=0)


def tracked_session_class(on_change: Callable[[], None]) -> type[Session]:
    """A Session class that bumps the epoch with every configuration write, then calls back."""
    tracked = type("TrackedSession", (Session,), {})
    event.listen(tracked, "before_flush", _bump_if_config_changed)
    event.listen(tracked, "after_commit", lambda session: _notify(session, on_change))
    return tracked


def _bump_if_config_changed(session: Session, _context: Any, _instances: Any) -> None:
    changed = (*session.new, *session.dirty, *session.deleted)
    if session.info.get("config_bumped") or not any(
        getattr(obj, "__tablename__", None) in CONFIG_TABLES for obj in changed
    ):
        return
    session.connection().execute(
        update(ConfigEpoch).where(ConfigEpoch.id == 1).values(value=ConfigEpoch.value + 1)
    )
    session.info["config_bumped"] = True


def _notify(session: Session, on_change: Callable[[], None]) -> None:
    if session.info.pop("config_bumped", False):
        on_change()


async def read_epoch(sessions: async_sessionmaker[AsyncSession]) -> int:
    """Return the current configuration epoch."""
    async with sessions() as session:
        value = await session.scalar(select(ConfigEpoch.value).where(ConfigEpoch.id == 1))
    return int(value or 0)


async def watch_epoch(
    sessions: async_sessionmaker[AsyncSession],
    on_change: Callable[[], None],
    *,
    interval: float = EPOCH_POLL_SECONDS,
) -> None:
    """Call ``on_change`` whenever the epoch moves (another process changed the configuration)."""
    seen: int | None = None
    while True:
        try:
            epoch = await read_epoch(sessions)
        except (SQLAlchemyError, OSError) as exc:
            log.warning("reading the configuration epoch failed", error=str(exc))
            # without knowing, serve nothing stale
            on_change()
        else:
            if epoch != seen:
                seen = epoch
                on_change()
        await asyncio.sleep(interval)
