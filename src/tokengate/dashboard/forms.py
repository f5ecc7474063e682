"""What every dashboard form shares: marking messages for the catalogs, saying a message in
both languages, reading a text field."""

from __future__ import annotations

from starlette.datastructures import FormData

from tokengate.dashboard.catalogs import translations
from tokengate.errors import Locale

LOCALES: tuple[Locale, ...] = ("en", "ko")


def N_(message: str) -> str:
    """Mark a message for the catalogs where it is defined; it is translated where shown."""
    return message


def say(message: str, **values: object) -> dict[str, str]:
    """A message in every language of the dashboard, its placeholders filled (the
    ``localized`` of a TokengateError)."""
    return {locale: translations(locale).gettext(message) % values for locale in LOCALES}


def form_text(form: FormData, name: str) -> str | None:
    """A text field, stripped; None when absent or blank."""
    value = form.get(name)
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()
