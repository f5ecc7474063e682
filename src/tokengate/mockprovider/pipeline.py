"""What every provider route does around its handler: record, authenticate, hang, wait, fail."""

import asyncio
import secrets
from collections.abc import Awaitable, Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive

from tokengate.mockprovider.config import MockConfig
from tokengate.mockprovider.errors import Flavor, InvalidRequest, error_response
from tokengate.mockprovider.fields import JsonObject
from tokengate.mockprovider.state import MockState, RecordedRequest, get_state

Handler = Callable[[JsonObject, MockConfig], Awaitable[Response]]
Endpoint = Callable[[Request], Awaitable[Response]]

AZURE_PREFIX = "/openai/deployments/"
REQUEST_ID_HEADERS: dict[Flavor, bytes] = {"openai": b"x-request-id", "anthropic": b"request-id"}
MALFORMED: dict[Flavor, str] = {
    "openai": (
        "We could not parse the JSON body of your request. The OpenAI API expects a JSON payload."
    ),
    "anthropic": "There was an error parsing the body of your request: expected a JSON object.",
}


def provider_endpoint(handler: Handler, *, flavor: Flavor, has_body: bool = True) -> Endpoint:
    """Wrap a route handler with the scripted behaviour of the mock's config."""

    async def endpoint(request: Request) -> Response:
        state = get_state(request.app)
        config = state.config
        body = await _read_body(request) if has_body else {}
        if config.record_requests:
            state.requests.append(
                RecordedRequest(
                    method=request.method,
                    path=request.url.path,
                    body=body if has_body else None,
                    headers=dict(request.headers),
                )
            )
        response = await _scripted(request, state=state, config=config, flavor=flavor)
        if response is None:
            response = await _handle(handler, body, config=config, flavor=flavor)
        request_id = f"req_{secrets.token_hex(12)}".encode()
        response.raw_headers.append((REQUEST_ID_HEADERS[flavor], request_id))
        return response

    return endpoint


async def _read_body(request: Request) -> JsonObject | None:
    try:
        body = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) else None


async def _scripted(
    request: Request, *, state: MockState, config: MockConfig, flavor: Flavor
) -> Response | None:
    """Return the scripted failure for this request, or None to let the handler answer."""
    if config.api_key is not None and not _authorized(request, config.api_key, flavor):
        return error_response(flavor, 401)
    if request.url.path.startswith(AZURE_PREFIX) and "api-version" not in request.query_params:
        return error_response(flavor, 400, "Missing required query parameter: api-version")
    if config.hang:
        await _hang(request.receive, state)
        return error_response(flavor, 503)
    if config.latency_ms:
        await asyncio.sleep(config.latency_ms / 1000)
    if config.fail_status is not None:
        return error_response(flavor, config.fail_status)
    return None


async def _handle(
    handler: Handler, body: JsonObject | None, *, config: MockConfig, flavor: Flavor
) -> Response:
    if body is None:
        return error_response(flavor, 400, MALFORMED[flavor])
    try:
        return await handler(body, config)
    except InvalidRequest as exc:
        return error_response(flavor, 400, exc.message, param=exc.param)


def _authorized(request: Request, api_key: str, flavor: Flavor) -> bool:
    # Anthropic takes x-api-key, and its 2.x SDK sends a bearer token instead.
    if flavor == "anthropic" and request.headers.get("x-api-key") == api_key:
        return True
    # Azure OpenAI takes api-key
    if request.url.path.startswith(AZURE_PREFIX) and request.headers.get("api-key") == api_key:
        return True
    return request.headers.get("authorization") == f"Bearer {api_key}"


async def _hang(receive: Receive, state: MockState) -> None:
    """Wait until the client goes away, or until the server releases hanging requests."""
    released: asyncio.Future[None] = asyncio.get_running_loop().create_future()
    state.hanging.add(released)
    disconnected = asyncio.ensure_future(_wait_for_disconnect(receive))
    try:
        await asyncio.wait((released, disconnected), return_when=asyncio.FIRST_COMPLETED)
    finally:
        disconnected.cancel()
        state.hanging.discard(released)


async def _wait_for_disconnect(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
