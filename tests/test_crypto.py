from __future__ import annotations

import pytest

from tokengate.crypto import (
    SecretBox,
    hash_virtual_key,
    mask_secret,
    new_virtual_key,
    visible_prefix,
)
from tokengate.errors import ConfigError

OLD, NEW = "o" * 40, "n" * 40


def test_rotation_decrypts_old_secrets_and_reencrypts_with_the_new_key() -> None:
    token = SecretBox([OLD]).encrypt("sk-provider")
    rotated_box = SecretBox([NEW, OLD])
    assert rotated_box.decrypt(token) == "sk-provider"
    rotated = rotated_box.rotate(token)
    assert SecretBox([NEW]).decrypt(rotated) == "sk-provider"
    with pytest.raises(ConfigError, match="cannot be decrypted"):
        SecretBox([NEW]).decrypt(token)


def test_box_needs_a_key() -> None:
    with pytest.raises(ConfigError):
        SecretBox([])


def test_virtual_keys_are_random_hashed_and_prefixed() -> None:
    first, second = new_virtual_key(), new_virtual_key()
    assert first != second and first.startswith("tg-") and len(first) >= 40
    assert (
        hash_virtual_key(first) != hash_virtual_key(second) and len(hash_virtual_key(first)) == 64
    )
    assert visible_prefix(first) == first[:10]
    assert mask_secret("sk-abcdefgh1234") == "****1234" and mask_secret("short") == "****"
