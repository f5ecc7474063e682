"""The ``/api`` edge: every error becomes ``{"error": {"code", "message"}}``."""

from __future__ import annotations

from typing import Any

from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse

from tokengate.errors import TokengateError, status_of
from tokengate.i18n import pick_locale


def api_error_response(request: Request, error: TokengateError) -> JSONResponse:
    """Render a tokengate error in the admin API's shape."""
    locale = pick_locale(
        accept_language=request.headers.get("accept-language"), account_locale=None, fallback="en"
    )
    body: dict[str, Any] = {"code": error.code, "message": error.message(locale)}
    if error.param:
        body["param"] = error.param
    return JSONResponse({"error": body}, status_code=status_of(error), headers=error.headers())


def validation_error_response(request: Request, error: RequestValidationError) -> JSONResponse:
    """Render a request validation failure (422) with the offending fields."""
    details = [
        {"loc": [str(p) for p in item.get("loc", ())], "message": item.get("msg", "")}
        for item in error.errors()
    ]
    fields = ", ".join(".".join(d["loc"][1:]) or d["loc"][0] for d in details if d["loc"])
    message = f"invalid input: {fields}" if fields else "invalid input"
    return JSONResponse(
        {"error": {"code": "validation_error", "message": message, "details": details}},
        status_code=422,
    )


def http_error_response(request: Request, error: HTTPException) -> JSONResponse:
    """Render routing errors (404, 405) in the same shape."""
    code = {404: "not_found", 405: "method_not_allowed"}.get(error.status_code, "http_error")
    return JSONResponse(
        {"error": {"code": code, "message": str(error.detail)}},
        status_code=error.status_code,
        headers=error.headers,
    )
