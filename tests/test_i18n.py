from __future__ import annotations

import pytest

from tokengate.i18n import pick_locale


@pytest.mark.parametrize(
    ("header", "account", "fallback", "expected"),
    [
        ("en-US,en;q=0.9", "ko", "ko", "en"),
        ("fr-FR, ko;q=0.5", "en", "en", "ko"),
        ("ko;q=0.2, en;q=0.8", None, None, "en"),
        ("en;q=0", None, "ko", "ko"),
        ("de", "en", "ko", "en"),
        (None, None, "en", "en"),
        ("", None, None, "ko"),
        ("en;q=abc", None, "ko", "ko"),
    ],
)
def test_header_then_account_then_fallback(
    header: str | None, account: str | None, fallback: str | None, expected: str
) -> None:
    assert (
        pick_locale(accept_language=header, account_locale=account, fallback=fallback) == expected
    )
