"""The language switch: kept on the account (and in a cookie, for the sign-in pages)."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Form
from starlette.responses import RedirectResponse

from tokengate.auth.pages import safe_next
from tokengate.dashboard.viewer import ViewerDep
from tokengate.deps import SessionDep
from tokengate.i18n import LANGUAGE_COOKIE
from tokengate.tenancy import service as tenancy
from tokengate.tenancy.schemas import UserUpdate

router = APIRouter()
_YEAR = 365 * 24 * 3600


@router.post("/language")
async def switch_language(
    viewer: ViewerDep,
    session: SessionDep,
    lang: Annotated[Literal["ko", "en"], Form()],
    next_: Annotated[str, Form(alias="next")] = "/",
) -> RedirectResponse:
    """Show the dashboard in the other language from now on, on every device."""
    await tenancy.update_user(session=session, user_id=viewer.user_id, data=UserUpdate(locale=lang))
    response = RedirectResponse(safe_next(next_), status_code=303)
    response.set_cookie(LANGUAGE_COOKIE, lang, max_age=_YEAR, samesite="lax", path="/")
    return response
