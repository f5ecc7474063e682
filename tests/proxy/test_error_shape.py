from __future__ import annotations

import inspect

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import Response

from tokengate import errors
from tokengate.api_errors import api_error_response
from tokengate.app import create_app
from tokengate.proxy.errors import openai_error_response
from tokengate.settings import Settings

ERROR_CLASSES = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, errors.TokengateError) and cls is not errors.UpstreamStatus
]


def build(cls: type[errors.TokengateError]) -> errors.TokengateError:
    return cls(limit=1, plan="Free", model="C2", retry_after=3, status=500, detail="x", key_id=1)


def fake_request(path: str, language: str = "ko") -> Request:
    scope = {
        "type": "http",
        "method": "POST",
        "path": path,
        "headers": [(b"accept-language", language.encode())],
        "query_string": b"",
    }
    return Request(scope)


@pytest.mark.parametrize("cls", ERROR_CLASSES, ids=lambda c: c.__name__)
def test_every_error_renders_in_both_surfaces(cls: type[errors.TokengateError]) -> None:
    error = build(cls)
    assert cls.__doc__, "every error class has a one-line docstring"
    openai = openai_error_response(fake_request("/v1/chat/completions"), error)
    admin = api_error_response(fake_request("/api/v1/users", "en"), error)
    assert openai.status_code == admin.status_code == errors.status_of(error)
    import orjson

    body = orjson.loads(openai.body)
    assert set(body["error"]) == {"message", "type", "param", "code"}
    assert body["error"]["code"] == cls.code and "{" not in body["error"]["message"]
    assert orjson.loads(admin.body)["error"]["code"] == cls.code


def test_upstream_status_keeps_client_errors_and_hides_provider_failures() -> None:
    assert errors.status_of(errors.UpstreamStatus(status=429, detail="slow down")) == 429
    assert errors.status_of(errors.UpstreamStatus(status=503, detail="down")) == 502


def test_rate_limited_asks_the_client_to_wait() -> None:
    response = openai_error_response(fake_request("/v1/x"), errors.RateLimited(retry_after=7))
    assert response.headers["retry-after"] == "7"


async def test_unknown_v1_route_is_openai_shaped(client: httpx.AsyncClient) -> None:
    missing = await client.get("/v1/nothing")
    wrong_method = await client.get("/v1/chat/completions")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "not_found")
    assert (wrong_method.status_code, wrong_method.json()["error"]["type"]) == (
        405,
        "invalid_request_error",
    )


async def test_a_bug_is_answered_in_the_surface_shape(settings: Settings) -> None:
    app = create_app(settings)

    async def broken(request: Request) -> Response:
        raise RuntimeError("a bug")

    app.add_route("/v1/broken", broken, methods=["GET"])
    app.add_route("/api/v1/broken", broken, methods=["GET"])
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as client,
    ):
        v1 = await client.get("/v1/broken")
        api = await client.get("/api/v1/broken")
    assert (v1.status_code, v1.json()["error"]["type"]) == (500, "api_error")
    assert (api.status_code, api.json()["error"]["code"]) == (500, "internal_error")
