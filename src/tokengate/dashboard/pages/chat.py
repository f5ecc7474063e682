"""채팅 / Chat: a person talks to the engines their plan allows, through the gateway itself.

Each message goes through ``POST /v1/chat/completions``'s own pipeline, as the person's chat key
(``chat_key``): blocked users, spent allowances and models outside the plan get the gateway's
own refusal, and every answer is reserved, settled, recorded and metered like any ``/v1`` call.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.responses import Response

from tokengate.catalog import service as catalog
from tokengate.dashboard.pages.chat_reply import ChatReply
from tokengate.dashboard.reads import allowance
from tokengate.dashboard.templating import page
from tokengate.dashboard.viewer import Viewer, ViewerDep
from tokengate.db import utcnow
from tokengate.deps import SessionDep
from tokengate.errors import UserBlocked
from tokengate.runtime import get_runtime
from tokengate.tenancy import service as tenancy

router = APIRouter()


class ChatTurn(BaseModel):
    """One message of the conversation so far."""

    model_config = ConfigDict(extra="forbid")

    role: Literal["user", "assistant"]
    content: str = Field(min_length=1, max_length=32_000)


class ChatSend(BaseModel):
    """What the page sends: the model and the whole conversation, the new message last."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(min_length=1, max_length=100)
    messages: list[ChatTurn] = Field(min_length=1, max_length=100)


@router.get("/chat")
async def chat(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    """The conversation page, with the models the viewer's plan allows."""
    profile = await tenancy.get_member_profile(session=session, user_id=viewer.user_id)
    allowed = set(profile.allowed_models) if profile else set()
    active = await catalog.list_active_model_names(session=session)
    blocked = profile is not None and profile.status == "blocked"
    return page(
        request,
        viewer,
        "dashboard/chat.html",
        models=[name for name in active if name in allowed],
        blocked_message=UserBlocked().message(viewer.locale) if blocked else None,
        allowance=await _allowance(request, viewer, session),
    )


@router.get("/chat/allowance")
async def chat_allowance(request: Request, viewer: ViewerDep, session: SessionDep) -> Response:
    """The remaining allowance, refreshed after each answer."""
    return page(
        request,
        viewer,
        "dashboard/chat.html",
        block="allowance",
        allowance=await _allowance(request, viewer, session),
    )


@router.post("/chat/send")
async def send(request: Request, viewer: ViewerDep, data: ChatSend) -> Response:
    """The answer, streamed as the gateway streams it (server-sent events)."""
    body = {
        "model": data.model,
        "messages": [turn.model_dump() for turn in data.messages],
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    return ChatReply(request, viewer, body)


async def _allowance(
    request: Request, viewer: Viewer, session: SessionDep
) -> allowance.Allowance | None:
    found = await allowance.allowances(
        session, get_runtime(request).ledger, user_ids=[viewer.user_id], now=utcnow()
    )
    return found.get(viewer.user_id)
