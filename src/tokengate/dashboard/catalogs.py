"""The dashboard's words: English message ids, Korean from gettext catalogs read with Babel.

Every ``*.po`` file under ``locale/<lang>/LC_MESSAGES/`` is read when the process starts (one file
per page area, so pages can be written side by side) and compiled in memory: no ``.mo`` build
output is committed. A message with no translation falls back to its English id; the test
``tests/dashboard/test_translations.py`` fails when one is missing.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from functools import cache
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

from tokengate.errors import ConfigError, Locale

LOCALE_DIR = Path(__file__).resolve().parent / "locale"


def catalog_files(locale: str) -> list[Path]:
    """The catalogs of one language, in a stable order."""
    return sorted((LOCALE_DIR / locale / "LC_MESSAGES").glob("*.po"))


def read_catalog(locale: str) -> Catalog:
    """All catalogs of a language merged into one; two files giving one id two different
    translations is a mistake that stops the start."""
    merged = Catalog(locale=locale)
    for path in catalog_files(locale):
        with path.open("rb") as handle:
            part = read_po(handle, locale=locale)
        for message in _messages(part):
            known = merged.get(message.id, message.context)
            if known is not None and known.string and message.string != known.string:
                raise ConfigError(f"{path.name}: {message.id!r} is translated twice, differently")
            if known is None or not known.string:
                merged[message.id] = message
    return merged


def _messages(catalog: Catalog) -> Iterator[Message]:
    for message in catalog:
        if message.id and not message.fuzzy:
            yield message


@cache
def translations(locale: Locale) -> Translations:
    """The gettext translations of a locale (English: the ids themselves)."""
    if locale == "en":
        return Translations()
    buffer = io.BytesIO()
    write_mo(buffer, read_catalog(locale), use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer)
