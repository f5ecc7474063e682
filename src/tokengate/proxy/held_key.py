"""``POST /v1/chat/completions`` for a key the server holds rather than one a client presents.

The dashboard's chat page has a signed-in person, not a secret: it names their own key by id.
From there the request takes the gateway's one path (``pipeline.relay``): the same block, model
and quota checks, ledger reservation and settlement, usage event and metrics as a ``/v1`` call
with that key.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message

from tokengate.db import utcnow
from tokengate.errors import Locale
from tokengate.keys import service as keys
from tokengate.proxy.access import Caller, profile_of
from tokengate.proxy.endpoints import CHAT
from tokengate.proxy.pipeline import Authenticate, relay
from tokengate.proxy.streaming import StreamRelay
from tokengate.runtime import Runtime


async def chat_with_key(
    request: Request, *, key_id: int, user_id: int, locale: Locale, body: dict[str, Any]
) -> Response | StreamRelay:
    """Relay a chat completion as the user's key ``key_id`` would make it on ``/v1``."""
    return await relay(
        _carrying(request, body), CHAT, authenticate=_holder(key_id, user_id, locale)
    )


def _holder(key_id: int, user_id: int, locale: Locale) -> Authenticate:
    async def authenticate(runtime: Runtime, request: Request) -> Caller:
        async with runtime.sessions() as session:
            record = await keys.find_key_by_id(session=session, key_id=key_id)
        if record is not None and record.identity.user_id != user_id:
            record = None  # only one's own key
        identity = keys.check_key(record, now=utcnow())
        profile = await profile_of(runtime, identity.user_id)
        return Caller(identity=identity, profile=profile, locale=locale)

    return authenticate


def _carrying(request: Request, body: dict[str, Any]) -> Request:
    """A request like the page's, whose body is the chat completion to relay."""
    payload = orjson.dumps(body)
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": payload, "more_body": False}

    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(payload)).encode()),
    ]
    scope = {**request.scope, "headers": headers, "state": {}}
    return Request(scope, receive)
