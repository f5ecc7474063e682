"""Choosing the language of a message: Korean or English."""

from __future__ import annotations

from tokengate.errors import Locale

SUPPORTED: tuple[Locale, ...] = ("ko", "en")
# the dashboard's language switch, remembered by the browser (the sign-in pages read it too)
LANGUAGE_COOKIE = "tg_lang"


def pick_locale(
    *, accept_language: str | None, account_locale: str | None, fallback: str | None
) -> Locale:
    """Pick the locale: an explicit Accept-Language wins, then the account's, then the fallback."""
    for candidate in (_from_header(accept_language), account_locale, fallback):
        if candidate in SUPPORTED:
            return "en" if candidate == "en" else "ko"
    return "ko"


def _from_header(header: str | None) -> str | None:
    if not header:
        return None
    ranked: list[tuple[float, str]] = []
    for part in header.split(","):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        language = tag.strip().lower().split("-")[0]
        if language in SUPPORTED and quality > 0:
            ranked.append((quality, language))
    return max(ranked, key=lambda item: item[0])[1] if ranked else None
