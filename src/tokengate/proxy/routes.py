"""The ``/v1`` surface, as plain Starlette routes (no FastAPI validation on the hot path)."""

from __future__ import annotations

import time

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tokengate.proxy import access
from tokengate.proxy.pipeline import chat_completions, completions, embeddings, messages
from tokengate.runtime import get_runtime


async def list_models(request: Request) -> Response:
    """Serve ``GET /v1/models``: only the models the key may use."""
    runtime = get_runtime(request)
    caller = await access.authenticate(runtime, request)
    request.state.locale = caller.locale
    created = int(time.time())
    names = await access.allowed_models(runtime, caller)
    data = [
        {"id": n, "object": "model", "created": created, "owned_by": "tokengate"} for n in names
    ]
    return Response(orjson.dumps({"object": "list", "data": data}), media_type="application/json")


def proxy_routes() -> list[Route]:
    """Return the OpenAI-compatible routes."""
    return [
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
        Route("/v1/completions", completions, methods=["POST"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
        Route("/v1/messages", messages, methods=["POST"]),
        Route("/v1/models", list_models, methods=["GET"]),
    ]
