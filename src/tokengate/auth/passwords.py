"""Password hashing (argon2id) and the rules a new password must meet. Pure: no database."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from tokengate.errors import InvalidRequest

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024
_hasher = PasswordHasher()
# verified against when the e-mail is unknown, so both cases take the same time
_DUMMY_HASH = _hasher.hash("tokengate timing equaliser")


def check_strength(password: str, *, param: str = "password") -> None:
    """Refuse a password that is too short or absurdly long."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidRequest(
            localized={
                "en": f"the password needs at least {MIN_PASSWORD_LENGTH} characters",
                "ko": f"비밀번호는 {MIN_PASSWORD_LENGTH}자 이상이어야 합니다.",
            },
            param=param,
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise InvalidRequest(
            f"the password may have at most {MAX_PASSWORD_LENGTH} characters", param=param
        )


def hash_password(password: str) -> str:
    """Hash a password that passed ``check_strength``."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """Whether the password matches; a missing hash is verified against a dummy (same cost)."""
    try:
        return _hasher.verify(stored_hash or _DUMMY_HASH, password) and stored_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False
