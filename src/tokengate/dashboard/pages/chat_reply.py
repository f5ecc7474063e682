"""The chat page's answer: the gateway's own stream, or its own refusal, in the viewer's language.

It runs once the page request's transaction has ended (the response is sent after the handler's
session closes): the gateway then writes its reservation, usage event and settlement through its
own sessions, and a new chat key is committed before the gateway looks it up.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from tokengate.dashboard.pages.chat_key import chat_key_id
from tokengate.dashboard.viewer import Viewer
from tokengate.errors import TokengateError, status_of
from tokengate.proxy.errors import openai_error_body
from tokengate.proxy.held_key import chat_with_key
from tokengate.runtime import get_runtime


class ChatReply(Response):
    """Relays one chat completion for the viewer through their chat key."""

    def __init__(self, request: Request, viewer: Viewer, body: dict[str, Any]) -> None:
        super().__init__(status_code=200)
        self.request = request
        self.viewer = viewer
        self.completion = body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        viewer = self.viewer
        try:
            key_id = await chat_key_id(get_runtime(self.request), viewer)
            answer = await chat_with_key(
                self.request,
                key_id=key_id,
                user_id=viewer.user_id,
                locale=viewer.locale,
                body=self.completion,
            )
        except TokengateError as error:
            # the gateway refused (blocked, allowance spent, model not in the plan…): its words
            answer = JSONResponse(
                openai_error_body(error, viewer.locale),
                status_code=status_of(error),
                headers={"Cache-Control": "no-store", **error.headers()},
            )
        await answer(scope, receive, send)
