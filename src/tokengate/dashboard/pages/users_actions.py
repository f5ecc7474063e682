"""The users pages' changes: block, unblock, an individual plan, extra tokens.

Each runs the access check, service call and audit record of the admin API route that does the
same thing (``tenancy/api/users.py``, ``quotas/api.py``), so the dashboard can do no more than the
API. htmx gets the changed row (or the person's page) and a notice swapped into ``#flash``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.principal import Level
from tokengate.dashboard.pages import users_forms, users_view
from tokengate.dashboard.reads import users as reads
from tokengate.dashboard.templating import page
from tokengate.dashboard.viewer import Viewer, ViewerDep, is_htmx
from tokengate.db import utcnow
from tokengate.deps import IdPath, SessionDep
from tokengate.errors import Conflict
from tokengate.quotas import service as quotas
from tokengate.runtime import get_runtime
from tokengate.tenancy import service as tenancy
from tokengate.tenancy.api.guards import guard_roles, guard_target, refuse_fields
from tokengate.tenancy.api.users import SYSTEM_USER_FIELDS
from tokengate.tenancy.schemas import UserPublic, UserUpdate

router = APIRouter()
View = Annotated[Literal["row", "detail"], Form()]
Text = Annotated[str, Form(max_length=5000)]


@dataclass(frozen=True)
class Notice:
    """What a change did, said in the viewer's language by the template."""

    kind: Literal["blocked", "unblocked", "plan", "tenant_plan", "grant"]
    name: str
    plan: str | None = None
    amount: int = 0
    until: datetime | None = None


@router.post("/users/{user_id}/block")
async def block(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    user_id: IdPath,
    reason: Text = "",
    view: View = "row",
) -> Response:
    """Block someone's chat and API use from their next request (POST /api/v1/users/{id}/block)."""
    actor = viewer.actor
    tenant_id = await access.require_user(session, actor, user_id, Level.LEAD)
    before = await tenancy.get_user(session=session, user_id=user_id)
    guard_target(actor, before)
    _ensure_live(before)
    why = users_forms.block_reason(reason)
    after = await tenancy.block_user(session=session, user_id=user_id, reason=why)
    await audit.record(
        session,
        actor,
        "user.block",
        target_type="user",
        target_id=user_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return await _changed(request, viewer, session, after, view, Notice("blocked", after.name))


@router.post("/users/{user_id}/unblock")
async def unblock(
    request: Request, viewer: ViewerDep, session: SessionDep, user_id: IdPath, view: View = "row"
) -> Response:
    """Let someone use chat again (POST /api/v1/users/{id}/unblock)."""
    actor = viewer.actor
    tenant_id = await access.require_user(session, actor, user_id, Level.LEAD)
    before = await tenancy.get_user(session=session, user_id=user_id)
    guard_target(actor, before)
    if before.status != "blocked":
        raise Conflict(
            localized={
                "en": f"{before.name} is not blocked.",
                "ko": f"{before.name} 님은 차단되어 있지 않습니다.",
            }
        )
    after = await tenancy.unblock_user(session=session, user_id=user_id)
    await audit.record(
        session,
        actor,
        "user.unblock",
        target_type="user",
        target_id=user_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return await _changed(request, viewer, session, after, view, Notice("unblocked", after.name))


@router.post("/users/{user_id}/plan")
async def set_plan(
    request: Request, viewer: ViewerDep, session: SessionDep, user_id: IdPath, plan: Text = ""
) -> Response:
    """Give someone their own plan, or back the tenant's (PATCH /api/v1/users/{id} ``plan``)."""
    actor = viewer.actor
    tenant_id = await access.require_user(session, actor, user_id, Level.ADMIN)
    before = await tenancy.get_user(session=session, user_id=user_id)
    guard_target(actor, before)
    guard_roles(actor, before.roles, before.roles)
    refuse_fields(actor, ("plan",), SYSTEM_USER_FIELDS)
    _ensure_live(before)
    choice = users_forms.plan_choice(plan, await users_view.active_plans(session))
    after = await tenancy.update_user(
        session=session, user_id=user_id, data=UserUpdate(plan=choice)
    )
    await audit.record(
        session,
        actor,
        "user.update",
        target_type="user",
        target_id=user_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    if choice is None:
        standing = (await reads.standings(session, [user_id]))[user_id]
        notice = Notice("tenant_plan", after.name, plan=standing.tenant_plan)
    else:
        notice = Notice("plan", after.name, plan=choice)
    return await _changed(request, viewer, session, after, "detail", notice)


@router.post("/users/{user_id}/grants")
async def add_tokens(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    user_id: IdPath,
    amount: Text = "",
    expires: Text = "",
    reason: Text = "",
) -> Response:
    """Extra tokens on someone's monthly allowance until a day (POST /api/v1/grants)."""
    actor = viewer.actor
    await access.require_user(session, actor, user_id, Level.ADMIN)
    data = users_forms.grant(
        user_id=user_id,
        amount=amount,
        expires=expires,
        reason=reason,
        timezone=viewer.timezone,
        now=utcnow(),
    )
    created = await quotas.create_grant(session=session, data=data)
    await audit.record(
        session,
        actor,
        "grant.create",
        target_type="grant",
        target_id=created.id,
        tenant_id=created.tenant_id,
        after=created,
    )
    user = await tenancy.get_user(session=session, user_id=user_id)
    notice = Notice("grant", user.name, amount=created.amount, until=created.expires_at)
    return await _changed(request, viewer, session, user, "detail", notice)


def _ensure_live(user: UserPublic) -> None:
    if user.status == "archived":
        raise Conflict(
            localized={
                "en": f"{user.name} has been archived and can no longer be changed.",
                "ko": f"{user.name} 님은 보관 처리되어 더 이상 변경할 수 없습니다.",
            }
        )


async def _changed(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    user: UserPublic,
    view: Literal["row", "detail"],
    notice: Notice,
) -> Response:
    """htmx: the changed row or person's page, with the notice for ``#flash``; otherwise the
    person's whole page with the notice on it."""
    ledger = get_runtime(request).ledger
    now = utcnow()
    if is_htmx(request) and view == "row":
        [row] = await users_view.rows_for(session, ledger, viewer.actor, [user], now=now)
        return page(
            request, viewer, "dashboard/users_changed.html", row=row, detail=None, notice=notice
        )
    detail = await users_view.detail_for(
        session, ledger, viewer.actor, user.id, now=now, timezone=viewer.timezone
    )
    template = "dashboard/users_changed.html" if is_htmx(request) else "dashboard/users_detail.html"
    return page(request, viewer, template, row=None, detail=detail, notice=notice)
