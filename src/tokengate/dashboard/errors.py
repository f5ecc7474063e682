"""How the dashboard answers what went wrong: a readable message in the viewer's language.

A whole page for a plain request; for htmx, the message swapped into the page's ``#flash``
region (``HX-Retarget``), the page itself left as it was.
"""

from __future__ import annotations

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from starlette.responses import RedirectResponse, Response

from tokengate.auth.pages import render
from tokengate.auth.sessions import COOKIE_NAME
from tokengate.dashboard.templating import page
from tokengate.dashboard.viewer import SignInNeeded, Viewer, is_htmx, locale_for
from tokengate.errors import InvalidRequest, TokengateError, status_of
from tokengate.runtime import get_runtime


def is_dashboard(request: Request) -> bool:
    """Whether a dashboard page (not the API or the proxy) is answering."""
    return getattr(request.state, "surface", None) == "dashboard"


def sign_in_redirect(request: Request, error: SignInNeeded) -> Response:
    """Send the browser to sign in (htmx: by ``HX-Redirect``, so the whole page changes)."""
    if is_htmx(request):
        response: Response = Response(status_code=204, headers={"HX-Redirect": error.location})
    else:
        response = RedirectResponse(
            error.location, status_code=303, headers={"Cache-Control": "no-store"}
        )
    if error.clear_cookie:
        settings = get_runtime(request).settings
        response.delete_cookie(
            COOKIE_NAME, httponly=True, samesite="lax", secure=settings.cookie_secure, path="/"
        )
    return response


def error_page(request: Request, error: TokengateError) -> Response:
    """A refused or failed action, explained in the viewer's language."""
    viewer: Viewer | None = getattr(request.state, "viewer", None)
    if viewer is None:
        # refused before the viewer was known (the form token): the sign-in pages' message
        # page answers, in the language of the switch or the browser
        locale = locale_for(request, None)
        return render(
            request,
            "message.html",
            locale=locale,
            status_code=status_of(error),
            title="tokengate",
            message=error.message(locale),
        )
    status = status_of(error)
    message = error.message(viewer.locale)
    if is_htmx(request):
        return page(
            request,
            viewer,
            "dashboard/flash.html",
            status_code=status,
            headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML", **error.headers()},
            level="error",
            message=message,
        )
    return page(
        request,
        viewer,
        "dashboard/error.html",
        status_code=status,
        headers=error.headers(),
        message=message,
    )


def validation_page(request: Request, error: RequestValidationError) -> Response:
    """Invalid input to a page or form: which fields, in the viewer's language."""
    fields = sorted({str(item.get("loc", ("", ""))[-1]) for item in error.errors()})
    listed = ", ".join(fields)
    return error_page(
        request,
        InvalidRequest(
            localized={
                "en": f"Some values are not valid: {listed}.",
                "ko": f"올바르지 않은 값이 있습니다: {listed}.",
            }
        ),
    )
