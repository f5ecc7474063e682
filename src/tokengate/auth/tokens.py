"""Short-lived JWT access tokens for the admin API (HS256, keys derived from SECRET_KEYS).

A token names its user and the user's ``auth_version``; roles are read from the database on
every request, so a role change applies to tokens already issued. Signed with the first
secret key and checked against all, so a new key can be put first without signing anyone out.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tokengate.errors import AuthenticationFailed
from tokengate.settings import Settings

ISSUER = "tokengate"
AUDIENCE = "tokengate-api"
_HKDF_INFO = b"tokengate access tokens v1"


@dataclass(frozen=True, slots=True)
class AccessClaims:
    user_id: int
    auth_version: int


def _signing_keys(settings: Settings) -> list[tuple[str, bytes]]:
    keys = []
    for secret in settings.secret_key_list():
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
            secret.encode()
        )
        keys.append((hashlib.sha256(key).hexdigest()[:12], key))
    if not keys:
        raise AuthenticationFailed("tokens cannot be issued: TOKENGATE_SECRET_KEYS is empty")
    return keys


def looks_like_jwt(token: str) -> bool:
    """Whether a bearer token has the shape of a JWT (three dot-separated parts)."""
    return token.count(".") == 2


def issue_access_token(
    settings: Settings, *, user_id: int, auth_version: int, now: datetime
) -> tuple[str, int]:
    """Return an access token for the user and its lifetime in seconds."""
    lifetime = int(timedelta(minutes=settings.access_token_minutes).total_seconds())
    kid, key = _signing_keys(settings)[0]
    claims = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(user_id),
        "ver": auth_version,
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + lifetime,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, key, algorithm="HS256", headers={"kid": kid}), lifetime


def read_access_token(settings: Settings, token: str, *, now: datetime) -> AccessClaims:
    """Verify an access token; raise AuthenticationFailed when forged, expired or malformed."""
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.PyJWTError as exc:
        raise AuthenticationFailed("the access token is malformed") from exc
    key = next((k for i, k in _signing_keys(settings) if i == kid), None)
    if key is None:
        raise AuthenticationFailed("the access token was not issued by this gateway")
    try:
        claims = jwt.decode(
            token,
            key,
            algorithms=["HS256"],
            audience=AUDIENCE,
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "ver"], "verify_iat": False},
            leeway=0,
        )
        if claims["exp"] <= now.timestamp():
            raise jwt.ExpiredSignatureError
    except jwt.ExpiredSignatureError as exc:
        raise AuthenticationFailed(
            localized={
                "en": "the access token has expired: renew it at /api/v1/auth/refresh",
                "ko": "액세스 토큰이 만료되었습니다. /api/v1/auth/refresh 로 갱신하세요.",
            }
        ) from exc
    except jwt.PyJWTError as exc:
        raise AuthenticationFailed("the access token is invalid") from exc
    try:
        return AccessClaims(user_id=int(claims["sub"]), auth_version=int(claims["ver"]))
    except (TypeError, ValueError) as exc:
        raise AuthenticationFailed("the access token is invalid") from exc
