"""Provider-shaped error bodies.

InvalidRequest is the one exception the route handlers raise; the request pipeline turns it, and
every scripted failure, into the error body of the provider that the route imitates.
"""

from typing import Literal

import orjson
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

Flavor = Literal["openai", "anthropic"]

OPENAI_ERRORS: dict[int, tuple[str, str | None, str]] = {
    400: ("invalid_request_error", None, "Invalid request."),
    401: ("invalid_request_error", "invalid_api_key", "Incorrect API key provided."),
    403: ("invalid_request_error", "unsupported_country_region_territory", "Forbidden."),
    404: ("invalid_request_error", "model_not_found", "The model does not exist."),
    408: ("invalid_request_error", None, "Request timed out."),
    409: ("invalid_request_error", None, "Conflict."),
    422: ("invalid_request_error", None, "Unprocessable request."),
    429: ("requests", "rate_limit_exceeded", "Rate limit reached for requests."),
    500: ("server_error", None, "The server had an error while processing your request."),
    503: ("server_error", None, "The engine is currently overloaded, please try again later."),
}
ANTHROPIC_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    403: ("permission_error", "Your API key does not have permission to use this resource."),
    404: ("not_found_error", "Not found."),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit."),
    500: ("api_error", "Internal server error."),
    529: ("overloaded_error", "Overloaded"),
}


class InvalidRequest(Exception):
    """The request body is not something the imitated provider would accept (HTTP 400)."""

    def __init__(self, message: str, *, param: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.param = param


def error_response(
    flavor: Flavor, status: int, message: str | None = None, *, param: str | None = None
) -> Response:
    """Render an error the way the provider behind flavor does."""
    if flavor == "anthropic":
        kind, default = ANTHROPIC_ERRORS.get(status, ANTHROPIC_ERRORS[400 if status < 500 else 500])
        body: object = {"type": "error", "error": {"type": kind, "message": message or default}}
    else:
        fallback = OPENAI_ERRORS[400 if status < 500 else 500]
        kind, code, default = OPENAI_ERRORS.get(status, fallback)
        body = _openai_body(message or default, kind=kind, param=param, code=code)
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


async def unknown_route(request: Request, exc: Exception) -> Response:
    """Answer an unknown path or method the way OpenAI does."""
    status = exc.status_code if isinstance(exc, HTTPException) else 404
    message = f"Invalid URL ({request.method} {request.url.path})"
    body = _openai_body(message, kind="invalid_request_error", param=None, code=None)
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def _openai_body(message: str, *, kind: str, param: str | None, code: str | None) -> object:
    return {"error": {"message": message, "type": kind, "param": param, "code": code}}
