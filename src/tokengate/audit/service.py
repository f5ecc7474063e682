"""Recording administrative changes, and reading them back.

Every admin write calls ``record`` in the same transaction as the change: a change that fails
rolls its audit record back with it, so the log never claims what did not happen.
"""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Mapping
from typing import Any

import orjson
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tokengate.audit import store
from tokengate.audit.models import AuditEvent
from tokengate.audit.schemas import AuditEventPublic, AuditFilter
from tokengate.auth.principal import Principal
from tokengate.pagination import Page, PageRequest, next_cursor

REDACTED = "[redacted]"
# fields never written to the log in clear, at any depth
_SECRET_FIELDS = ("password", "secret", "api_key", "token", "totp", "recovery")
_SAFE_FIELDS = frozenset({"api_key_masked", "key_prefix", "has_api_key"})


def _redact(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            k: (
                REDACTED
                if k not in _SAFE_FIELDS and any(s in k.lower() for s in _SECRET_FIELDS)
                else _redact(v)
            )
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [_redact(v) for v in value]
    return value


def snapshot(value: BaseModel | Mapping[str, Any] | None) -> dict[str, Any] | None:
    """A JSON-safe, secret-free copy of an object's state."""
    if value is None:
        return None
    raw = value.model_dump(mode="json") if isinstance(value, BaseModel) else dict(value)
    redacted: dict[str, Any] = _redact(orjson.loads(orjson.dumps(raw, default=str)))
    return redacted


async def record(
    session: AsyncSession,
    actor: Principal,
    action: str,
    *,
    target_type: str,
    target_id: int | str | None,
    tenant_id: int | None,
    before: BaseModel | Mapping[str, Any] | None = None,
    after: BaseModel | Mapping[str, Any] | None = None,
) -> None:
    """Append one record of a change made by ``actor``."""
    session.add(
        AuditEvent(
            actor_user_id=actor.user_id,
            actor=actor.label,
            tenant_id=tenant_id,
            action=action,
            target_type=target_type,
            target_id=None if target_id is None else str(target_id),
            before=snapshot(before),
            after=snapshot(after),
            ip=actor.ip,
        )
    )
    await session.flush()


async def list_events(
    *, session: AsyncSession, page: PageRequest, filters: AuditFilter
) -> Page[AuditEventPublic]:
    """One page of the log, newest first."""
    events = await store.list_events(session, page=page, filters=filters)
    return Page(
        items=[AuditEventPublic.model_validate(e) for e in events],
        next=next_cursor([e.id for e in events], page),
    )


EXPORT_COLUMNS = (
    "id",
    "at",
    "actor",
    "actor_user_id",
    "tenant_id",
    "action",
    "target_type",
    "target_id",
    "ip",
    "before",
    "after",
)


async def export_events(
    *, sessions: async_sessionmaker[AsyncSession], export_format: str, filters: AuditFilter
) -> AsyncIterator[bytes]:
    """The matching records, oldest first, as CSV (UTF-8 with BOM, for Excel) or JSON lines.

    Reads in its own session: the response streams after the request's session has ended.
    """
    if export_format == "csv":
        yield "\ufeff".encode()
        yield _csv_line(EXPORT_COLUMNS)
    async with sessions() as session:
        async for line in _export_lines(session, export_format, filters):
            yield line


async def _export_lines(
    session: AsyncSession, export_format: str, filters: AuditFilter
) -> AsyncIterator[bytes]:
    async for event in store.stream_events(session, filters):
        public = AuditEventPublic.model_validate(event).model_dump(mode="json")
        if export_format == "csv":
            yield _csv_line(
                [
                    orjson.dumps(public[c]).decode()
                    if c in ("before", "after") and public[c] is not None
                    else ("" if public[c] is None else str(public[c]))
                    for c in EXPORT_COLUMNS
                ]
            )
        else:
            yield orjson.dumps(public) + b"\n"


def _csv_line(values: Any) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    # a cell starting with = + - @ would be a formula in a spreadsheet
    writer.writerow(["'" + v if v[:1] in ("=", "+", "-", "@") else v for v in map(str, values)])
    return out.getvalue().encode()
