"""Brute-force throttle of passwords and second factors, per key (``password:<e-mail>``,
``totp:<user id>``).

After ``TOKENGATE_LOGIN_MAX_FAILURES`` failures in a row the key is locked for
``TOKENGATE_LOGIN_LOCKOUT_SECONDS``; each further failure doubles the lockout, up to an hour.
While locked, even the right secret is refused. A success clears the key; failures older than a
day are forgotten.

A failure is written in the caller's transaction, which must be committed although the attempt
is refused: the caller answers the refusal instead of letting it roll the transaction back. (A
transaction of its own would wait forever on SQLite, which allows one writer at a time, whenever
the request had already written, e.g. a browser session's last-seen time.)
"""

from __future__ import annotations

from datetime import datetime, timedelta
from math import ceil
from typing import NoReturn

from sqlalchemy import delete
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from tokengate.auth.models import Throttle
from tokengate.errors import AccountLocked, TokengateError
from tokengate.settings import Settings

MAX_LOCKOUT_SECONDS = 3600
FORGET_AFTER = timedelta(days=1)
_MAX_KEY_LENGTH = 400


def password_key(email: str) -> str:
    """The key counting password failures for an e-mail address (known or not)."""
    return ("password:" + email.strip().lower())[:_MAX_KEY_LENGTH]


def totp_key(user_id: int) -> str:
    """The key counting second-factor failures of a user."""
    return f"totp:{user_id}"


def lockout_seconds(failures: int, settings: Settings) -> int:
    """How long a key is locked after this many failures in a row (0: not locked)."""
    over = failures - settings.login_max_failures
    if over < 0:
        return 0
    # the exponent is capped so a huge count cannot build a huge integer
    return min(settings.login_lockout_seconds << min(over, 20), MAX_LOCKOUT_SECONDS)


async def ensure_unlocked(session: AsyncSession, *, key: str, now: datetime) -> None:
    """Raise AccountLocked while the key is locked."""
    row = await session.get(Throttle, key, populate_existing=True)
    if row is not None and row.locked_until is not None and row.locked_until > now:
        raise AccountLocked(retry_after=_seconds_until(row.locked_until, now))


async def refuse(
    session: AsyncSession, *, key: str, settings: Settings, now: datetime, error: TokengateError
) -> NoReturn:
    """Count a failed attempt, then raise ``error`` (or AccountLocked if this one locks the key).

    The count is in ``session``: commit it although this raises.
    """
    locked_for = await record_failure(session, key=key, settings=settings, now=now)
    if locked_for:
        raise AccountLocked(retry_after=locked_for)
    raise error


async def record_failure(
    session: AsyncSession, *, key: str, settings: Settings, now: datetime
) -> int:
    """Count a failed attempt; return the lockout it earned in seconds (0: none)."""
    # concurrent first failures of a key must not collide on its insert
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    await session.execute(
        dialect.insert(Throttle)
        .values(key=key, failures=0, updated_at=now)
        .on_conflict_do_nothing(index_elements=[Throttle.key])
    )
    row = await session.get_one(Throttle, key, with_for_update=True, populate_existing=True)
    if _forgotten(row, now):
        row.failures = 0
        row.locked_until = None
    row.failures += 1
    row.updated_at = now
    locked_for = lockout_seconds(row.failures, settings)
    if locked_for:
        row.locked_until = now + timedelta(seconds=locked_for)
    await session.flush()
    return locked_for


async def clear(session: AsyncSession, *, key: str) -> None:
    """Forget a key's failures and lockout (after a success, or an administrator's reset)."""
    # the common case, a key without failures, writes nothing
    if await session.get(Throttle, key) is not None:
        await session.execute(delete(Throttle).where(Throttle.key == key))


def _forgotten(row: Throttle, now: datetime) -> bool:
    locked = row.locked_until is not None and row.locked_until > now
    return not locked and now - row.updated_at > FORGET_AFTER


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, ceil((moment - now).total_seconds()))
