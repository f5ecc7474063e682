"""Encryption of secrets at rest (provider API keys) and hashing of virtual keys."""

from __future__ import annotations

import base64
import hashlib
import secrets

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from tokengate.errors import ConfigError

KEY_PREFIX = "tg-"
VISIBLE_PREFIX_LENGTH = 10
_HKDF_INFO = b"tokengate secret box v1"


class SecretBox:
    """Encrypts with the first of the configured keys and decrypts with any of them."""

    def __init__(self, keys: list[str]) -> None:
        if not keys:
            raise ConfigError("TOKENGATE_SECRET_KEYS is empty: secrets cannot be encrypted")
        self._fernet = MultiFernet([Fernet(_derive(k)) for k in keys])

    def encrypt(self, plaintext: str) -> str:
        """Encrypt a secret with the current key."""
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        """Decrypt a secret encrypted with any configured key."""
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ConfigError(
                "a stored secret cannot be decrypted with TOKENGATE_SECRET_KEYS"
            ) from exc

    def rotate(self, token: str) -> str:
        """Re-encrypt a secret with the current key."""
        return self._fernet.rotate(token.encode()).decode()


def _derive(secret: str) -> bytes:
    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(key)


def new_virtual_key() -> str:
    """Return a fresh virtual API key (shown once, stored only as a hash)."""
    return KEY_PREFIX + secrets.token_urlsafe(30)


def hash_virtual_key(key: str) -> str:
    """Return the stored hash of a virtual key (keys are random, so SHA-256 suffices)."""
    return hashlib.sha256(key.encode()).hexdigest()


def visible_prefix(key: str) -> str:
    """Return the part of a key that may be shown to identify it."""
    return key[:VISIBLE_PREFIX_LENGTH]


def mask_secret(secret: str) -> str:
    """Return a secret masked for display: only its last four characters."""
    return "****" + secret[-4:] if len(secret) > 8 else "****"
