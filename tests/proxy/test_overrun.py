"""A provider that ignores max_tokens is cut at the reservation; n > 1 is refused."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import StreamingResponse
from starlette.routing import Route

from tests.factories import make_member, make_model
from tests.proxy.test_chat import events
from tests.serving import serve_app
from tokengate.runtime import Runtime


async def runaway(request: Request) -> StreamingResponse:
    """An upstream that streams 50 words whatever max_tokens says."""

    async def chunks() -> AsyncIterator[bytes]:
        for n in range(50):
            chunk = {
                "id": "x",
                "object": "chat.completion.chunk",
                "created": 0,
                "model": "m",
                "choices": [{"index": 0, "delta": {"content": f" word{n}"}, "finish_reason": None}],
            }
            yield b"data: " + orjson.dumps(chunk) + b"\n\n"
        yield b"data: [DONE]\n\n"

    return StreamingResponse(chunks(), media_type="text/event-stream")


async def test_a_stream_past_its_reservation_is_cut(
    client: httpx.AsyncClient, runtime: Runtime
) -> None:
    app = Starlette(routes=[Route("/v1/chat/completions", runaway, methods=["POST"])])
    async with serve_app(app, lifespan="off") as url:
        await make_model(runtime, base_url=f"{url}/v1")
        member = await make_member(runtime)
        response = await client.post(
            "/v1/chat/completions",
            json={
                "model": "C1",
                "messages": [{"role": "user", "content": "hi"}],
                "max_tokens": 10,
                "stream": True,
            },
            headers={"Authorization": f"Bearer {member.key}"},
        )
    words = response.text.count('"content":" word')
    assert words == 10
    assert "upstream_overrun" in response.text and "[DONE]" not in response.text
    [event] = await events(runtime)
    assert (event.status, event.error_code, event.estimated) == (
        "upstream_error",
        "upstream_overrun",
        True,
    )


async def test_several_choices_are_refused(client: httpx.AsyncClient, runtime: Runtime) -> None:
    await make_model(runtime, base_url="http://127.0.0.1:9/v1")
    member = await make_member(runtime)
    response = await client.post(
        "/v1/chat/completions",
        json={"model": "C1", "messages": [{"role": "user", "content": "hi"}], "n": 3},
        headers={"Authorization": f"Bearer {member.key}"},
    )
    assert response.status_code == 400 and response.json()["error"]["param"] == "n"
