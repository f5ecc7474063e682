"""내 API 키 / My keys: one's own virtual keys; create one (its secret shown once) or revoke one.

The same service calls, access checks (``Level.SELF``) and audit records as ``POST
/api/v1/keys`` and ``POST /api/v1/keys/{id}/revoke``; only one's own keys, whatever one's role.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Form, Request
from starlette.responses import Response

from tokengate.audit import service as audit
from tokengate.auth import access
from tokengate.auth.principal import Level, tenant_filter
from tokengate.dashboard.pages.chat_key import CHAT_KEY_NAME
from tokengate.dashboard.reads import me
from tokengate.dashboard.templating import page
from tokengate.dashboard.viewer import Viewer, ViewerDep
from tokengate.db import utcnow
from tokengate.deps import IdPath, SessionDep
from tokengate.errors import InvalidRequest, NotFound
from tokengate.ids import MAX_ID
from tokengate.keys import service as keys
from tokengate.keys.schemas import KeyCreate, KeyIssued, KeyPublic
from tokengate.pagination import PageRequest
from tokengate.tenancy import service as tenancy

router = APIRouter()
_PAGE = 500


@router.get("/me/keys")
async def my_keys(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    """One's own keys and the form to create one."""
    return await _keys_page(request, viewer, session)


@router.post("/me/keys", status_code=201)
async def create_key(
    request: Request,
    viewer: ViewerDep,
    session: SessionDep,
    name: Annotated[str, Form(max_length=200)] = "",
    team_id: Annotated[int | None, Form(ge=1, le=MAX_ID)] = None,
    expires_on: Annotated[date | None, Form()] = None,
) -> Response:
    """Issue a key to oneself; its secret is in this answer only."""
    data = KeyCreate(
        user_id=viewer.user_id,
        team_id=team_id,
        name=name.strip(),
        expires_at=_expiry(expires_on, viewer.timezone),
    )
    await access.require_user(session, viewer.actor, data.user_id, Level.SELF)
    if data.team_id is not None:
        await access.require_team(session, viewer.actor, data.team_id, Level.READ)
    issued = await keys.issue_key(session=session, data=data)
    public = KeyPublic.model_validate(issued.model_dump(exclude={"key"}))
    await audit.record(
        session,
        viewer.actor,
        "key.create",
        target_type="key",
        target_id=issued.id,
        tenant_id=issued.tenant_id,
        after=public,
    )
    return await _keys_page(request, viewer, session, issued=issued, status_code=201)


@router.post("/me/keys/{key_id}/revoke")
async def revoke_key(
    request: Request, viewer: ViewerDep, session: SessionDep, key_id: IdPath
) -> Response:
    """Revoke one of one's keys for good."""
    tenant_id = await access.require_key(session, viewer.actor, key_id, Level.SELF)
    before = await keys.get_key(session=session, key_id=key_id)
    if before.user_id != viewer.user_id:
        # a leader's or an admin's reach is for the admin pages: here only one's own keys
        raise NotFound(f"key {key_id} does not exist")
    after = await keys.revoke_key(session=session, key_id=key_id)
    await audit.record(
        session,
        viewer.actor,
        "key.revoke",
        target_type="key",
        target_id=key_id,
        tenant_id=tenant_id,
        before=before,
        after=after,
    )
    return await _keys_page(request, viewer, session, revoked=after)


def _expiry(expires_on: date | None, timezone: str) -> datetime | None:
    """The end of the chosen local day: the key works through that whole day."""
    if expires_on is None:
        return None
    zone = ZoneInfo(timezone)
    if expires_on < utcnow().astimezone(zone).date():
        raise InvalidRequest(
            localized={
                "en": "The expiry date is in the past.",
                "ko": "만료일이 이미 지났습니다.",
            },
            param="expires_on",
        )
    return datetime.combine(expires_on + timedelta(days=1), time.min, tzinfo=zone)


async def _keys_page(
    request: Request,
    viewer: Viewer,
    session: SessionDep,
    *,
    issued: KeyIssued | None = None,
    revoked: KeyPublic | None = None,
    status_code: int = 200,
) -> Response:
    owned = await _own_keys(session, viewer)
    team_ids = sorted(viewer.actor.member_team_ids | {k.team_id for k in owned if k.team_id})
    teams = await _team_names(session, team_ids)
    return page(
        request,
        viewer,
        "dashboard/me_keys.html",
        status_code=status_code,
        keys=sorted(owned, key=lambda k: k.id, reverse=True),
        last_used=await me.last_used(session, user_id=viewer.user_id),
        teams=teams,
        my_teams=[(t, teams[t]) for t in sorted(viewer.actor.member_team_ids) if t in teams],
        chat_key_name=CHAT_KEY_NAME,
        issued=issued,
        revoked=revoked,
        now=utcnow(),
        today=utcnow().astimezone(ZoneInfo(viewer.timezone)).date(),
    )


async def _own_keys(session: SessionDep, viewer: Viewer) -> list[KeyPublic]:
    """As ``GET /api/v1/keys?user_id=<me>``, every page of it."""
    await access.require_user(session, viewer.actor, viewer.user_id, Level.READ)
    found: list[KeyPublic] = []
    after: int | None = None
    while True:
        listed = await keys.list_keys(
            session=session,
            tenant_id=tenant_filter(viewer.actor, None),
            user_id=viewer.user_id,
            user_ids=viewer.actor.reach().user_ids,
            page=PageRequest(after=after, limit=_PAGE),
        )
        found += listed.items
        if listed.next is None:
            return found
        after = listed.items[-1].id


async def _team_names(session: SessionDep, team_ids: list[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for team_id in team_ids:
        try:
            team = await tenancy.get_team(session=session, team_id=team_id)
        except NotFound:
            continue
        names[team_id] = team.name
    return names
