"""Cross-site request forgery checks for the sign-in forms.

Before sign-in there is no session to hold a token, so the login form uses a double-submit
cookie: a random token in an HttpOnly, SameSite=Lax cookie and the same one in a hidden field;
another site can make a browser send the cookie but cannot read it to fill in the field. After
sign-in, forms carry the session's own ``csrf_token`` (and scripts send it as ``x-csrf-token``).
"""

from __future__ import annotations

import hmac
import secrets

LOGIN_COOKIE = "tg_login_csrf"
LOGIN_COOKIE_SECONDS = 3600


def new_token() -> str:
    """A fresh random token for the login form."""
    return secrets.token_urlsafe(32)


def matches(expected: str | None, given: str | None) -> bool:
    """Whether a submitted token is the expected one (in constant time; empty never matches)."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
