"""Every word of the dashboard is translated: a test fails on an untranslated string.

Two checks: (1) every message the templates and page modules pass through ``_()`` has a Korean
translation in the catalogs; (2) no template carries readable text outside ``_()`` (text nodes
and the attributes a person reads or hears: title, aria-label, placeholder, alt).
"""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest
from babel.messages.extract import extract
from jinja2 import nodes
from jinja2.ext import babel_extract

from tokengate.dashboard.catalogs import read_catalog
from tokengate.dashboard.templating import TEMPLATES, environment

DASHBOARD_TEMPLATES = sorted((TEMPLATES / "dashboard").rglob("*.html"))
PAGE_MODULES = sorted(
    (Path(__file__).resolve().parents[2] / "src/tokengate/dashboard").rglob("*.py")
)
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
# words that are the same in both languages
SAME_IN_BOTH = {"tokengate", "English", "한국어", "CSV", "PNG", "ID", "API", "MFA", "TOTP", "OIDC"}
LATIN_WORD = re.compile(r"[A-Za-z]{2,}")
READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}


def _messages() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in DASHBOARD_TEMPLATES:
        with path.open("rb") as handle:
            for _line, _func, message, _comments in babel_extract(handle, list(KEYWORDS), [], {}):
                for text in message if isinstance(message, tuple) else [message]:
                    if text:
                        found[text] = path.name
    for path in PAGE_MODULES:
        with path.open("rb") as handle:
            for _line, message, _comments, _context in extract("python", handle, KEYWORDS):
                for text in message if isinstance(message, tuple) else [message]:
                    if text:
                        found[text] = path.name
    return found


def test_every_message_has_a_korean_translation() -> None:
    catalog = read_catalog("ko")
    missing = sorted(
        f"{where}: {text!r}"
        for text, where in _messages().items()
        if text not in SAME_IN_BOTH and (catalog.get(text) is None or not catalog.get(text).string)  # type: ignore[union-attr]
    )
    assert not missing, "untranslated:\n" + "\n".join(missing)


def test_the_korean_catalogs_hold_no_stale_or_empty_entries() -> None:
    used = _messages()
    catalog = read_catalog("ko")
    stale = sorted(m.id for m in catalog if m.id and m.id not in used)
    assert not stale, f"translated but used nowhere: {stale}"


class _Readable(HTMLParser):
    """Collects the text a person would read in a template's literal HTML."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.words: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style"):
            self._skip += 1
        for name, value in attrs:
            if name in READ_ATTRIBUTES and value:
                self.words += LATIN_WORD.findall(value)

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip = max(self._skip - 1, 0)

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.words += LATIN_WORD.findall(data)


@pytest.mark.parametrize("path", DASHBOARD_TEMPLATES, ids=lambda p: p.name)
def test_no_template_text_bypasses_translation(path: Path) -> None:
    env = environment("ko")
    tree = env.parse(path.read_text(encoding="utf-8"))
    # the literal HTML between the template's expressions, expressions replaced by a marker
    literal = "".join(
        node.data if isinstance(node, nodes.TemplateData) else " X "
        for output in tree.find_all(nodes.Output)
        for node in output.nodes
    )
    reader = _Readable()
    reader.feed(literal)
    words = [w for w in reader.words if w not in SAME_IN_BOTH and w != "X"]
    assert not words, f"{path.name} shows untranslated text: {words}"
