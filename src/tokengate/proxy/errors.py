"""The ``/v1`` edge: errors in the OpenAI shape ``{"error": {message, type, param, code}}``."""

from __future__ import annotations

from collections.abc import Callable

import orjson
from starlette.requests import Request
from starlette.responses import Response

from tokengate.errors import Locale, TokengateError, status_of
from tokengate.i18n import pick_locale


def openai_error_body(error: TokengateError, locale: Locale) -> dict[str, object]:
    """Return the OpenAI-shaped error object for a tokengate error."""
    return {
        "error": {
            "message": error.message(locale),
            "type": error.openai_type,
            "param": error.param,
            "code": error.code,
        }
    }


def openai_error_response(request: Request, error: TokengateError) -> Response:
    """Render an error for a ``/v1`` client, in the caller's language."""
    return _render(request, error, openai_error_body, id_header="x-request-id")


# Anthropic's error types for each OpenAI-style type tokengate uses
_ANTHROPIC_TYPES = {
    "invalid_request_error": "invalid_request_error",
    "authentication_error": "authentication_error",
    "permission_error": "permission_error",
    "insufficient_quota": "permission_error",
    "not_found_error": "not_found_error",
    "rate_limit_error": "rate_limit_error",
}


def anthropic_error_body(error: TokengateError, locale: Locale) -> dict[str, object]:
    """Return the Anthropic-shaped error object for a tokengate error."""
    kind = _ANTHROPIC_TYPES.get(error.openai_type, "api_error")
    return {"type": "error", "error": {"type": kind, "message": error.message(locale)}}


def anthropic_error_response(request: Request, error: TokengateError) -> Response:
    """Render an error for an Anthropic client (``/v1/messages``)."""
    return _render(request, error, anthropic_error_body, id_header="request-id")


def _render(
    request: Request,
    error: TokengateError,
    body: Callable[[TokengateError, Locale], dict[str, object]],
    *,
    id_header: str,
) -> Response:
    locale: Locale | None = getattr(request.state, "locale", None)
    if locale is None:
        locale = pick_locale(
            accept_language=request.headers.get("accept-language"),
            account_locale=None,
            fallback="en",
        )
    headers = {**error.headers()}
    request_id = getattr(request.state, "request_id", None)
    if request_id:
        headers[id_header] = request_id
    return Response(
        orjson.dumps(body(error, locale)),
        status_code=status_of(error),
        media_type="application/json",
        headers=headers,
    )
