"""The /_mock routes that let a test or a demo script the mock from another process."""

import orjson
from pydantic import ValidationError
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tokengate.mockprovider.config import update_config
from tokengate.mockprovider.delivery import json_response
from tokengate.mockprovider.state import get_state


async def get_config(request: Request) -> Response:
    """Return the current config."""
    return json_response(get_state(request.app).config.model_dump())


async def put_config(request: Request) -> Response:
    """Replace some fields of the config; the others keep their values."""
    state = get_state(request.app)
    try:
        changes = orjson.loads(await request.body())
    except orjson.JSONDecodeError:
        return _bad_request("the body is not valid JSON")
    if not isinstance(changes, dict):
        return _bad_request("the body must be a JSON object of config fields")
    try:
        state.config = update_config(state.config, changes)
    except ValidationError as exc:
        return _bad_request(str(exc))
    return json_response(state.config.model_dump())


async def get_requests(request: Request) -> Response:
    """Return the recorded provider requests, oldest first."""
    requests = get_state(request.app).requests
    return json_response(
        [
            {"method": r.method, "path": r.path, "body": r.body, "headers": r.headers}
            for r in requests
        ]
    )


async def delete_requests(request: Request) -> Response:
    """Forget the recorded requests."""
    get_state(request.app).requests.clear()
    return Response(status_code=204)


def _bad_request(message: str) -> Response:
    body = {
        "error": {"message": message, "type": "invalid_request_error", "param": None, "code": None}
    }
    return Response(orjson.dumps(body), status_code=400, media_type="application/json")


CONTROL_ROUTES = [
    Route("/_mock/config", get_config, methods=["GET"]),
    Route("/_mock/config", put_config, methods=["PUT"]),
    Route("/_mock/requests", get_requests, methods=["GET"]),
    Route("/_mock/requests", delete_requests, methods=["DELETE"]),
]
