from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import StreamingResponse

from tokengate.audit import service
from tokengate.audit.schemas import AuditEventPublic, AuditFilter
from tokengate.auth.principal import admin_tenant_filter
from tokengate.deps import ActorDep, IdQuery, PageDep, RuntimeDep, SessionDep
from tokengate.pagination import Page

router = APIRouter(prefix="/api/v1", tags=["audit"])


class _Filters:
    def __init__(
        self,
        actor: ActorDep,
        tenant_id: IdQuery = None,
        action: Annotated[str | None, Query(max_length=64)] = None,
        target_type: Annotated[str | None, Query(max_length=32)] = None,
        target_id: Annotated[str | None, Query(max_length=64)] = None,
        by: Annotated[str | None, Query(max_length=320, description="actor e-mail")] = None,
        since: Annotated[datetime | None, Query()] = None,
        until: Annotated[datetime | None, Query()] = None,
    ) -> None:
        self.value = AuditFilter(
            # a tenant's log is its admins' to read; the whole log the system admins'
            tenant_id=admin_tenant_filter(actor, tenant_id, "the audit log"),
            action=action,
            target_type=target_type,
            target_id=target_id,
            actor=by,
            since=since,
            until=until,
        )


@router.get("/audit")
async def list_audit_events(
    session: SessionDep, page: PageDep, filters: Annotated[_Filters, Depends(_Filters)]
) -> Page[AuditEventPublic]:
    """The audit log, newest first: who changed what, before and after, when, from where."""
    return await service.list_events(session=session, page=page, filters=filters.value)


@router.get("/audit/export")
async def export_audit_events(
    runtime: RuntimeDep,
    filters: Annotated[_Filters, Depends(_Filters)],
    format: Annotated[Literal["csv", "jsonl"], Query()] = "csv",
) -> StreamingResponse:
    """The matching audit records, oldest first, as CSV or JSON lines."""
    media = "text/csv; charset=utf-8" if format == "csv" else "application/x-ndjson"
    return StreamingResponse(
        service.export_events(
            sessions=runtime.sessions, export_format=format, filters=filters.value
        ),
        media_type=media,
        headers={"content-disposition": f'attachment; filename="tokengate-audit.{format}"'},
    )
