"""Rendering a dashboard page: the whole page, or only its ``content`` block for htmx.

One Jinja environment per language, with the gettext catalogs installed (``{{ _("…") }}``)
and the Babel formats as filters (``|num``, ``|pct``, ``|money``, ``|when``, ``|day``).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from fastapi import Request
from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from starlette.responses import HTMLResponse

from tokengate.dashboard import formats
from tokengate.dashboard.catalogs import translations
from tokengate.dashboard.viewer import Viewer, is_htmx
from tokengate.errors import Locale

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"
PAGE_HEADERS = {
    "Cache-Control": "no-store",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "X-Frame-Options": "DENY",
    "Vary": "HX-Request",
}


@cache
def environment(locale: Locale) -> Environment:
    """The templates of one language."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    env.filters.update(
        num=lambda value: formats.number(value, locale),
        compact=lambda value: formats.compact(value, locale),
        pct=lambda value: formats.percent(value, locale),
        money=lambda micros, currency="USD": formats.money(micros, currency, locale),
        when=lambda moment, tz="Asia/Seoul": formats.when(moment, tz, locale),
        day=lambda moment, tz="Asia/Seoul": formats.day(moment, tz, locale),
        clock=lambda moment, tz="Asia/Seoul": formats.clock(moment, tz, locale),
    )
    env.globals["locale"] = locale
    return env


def band(percent: float) -> str:
    """The colour band of a usage percentage: safe below 80, warning to 95, danger from 95."""
    if percent >= 95:
        return "danger"
    if percent >= 80:
        return "warning"
    return "safe"


def page(
    request: Request,
    viewer: Viewer,
    template: str,
    *,
    status_code: int = 200,
    block: str | None = None,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """Render a page for the viewer: whole, or (htmx asking, or ``block`` named) one block.

    htmx asks for the ``content`` block unless the request names another through ``block``.
    """
    env = environment(viewer.locale)
    values = {
        "viewer": viewer,
        "request": request,
        "csrf_token": viewer.csrf_token,
        "path": request.url.path,
        "band": band,
        **context,
    }
    compiled = env.get_template(template)
    wanted = block or ("content" if is_htmx(request) else None)
    if wanted is None:
        html = compiled.render(values)
    else:
        html = "".join(compiled.blocks[wanted](compiled.new_context(values)))
    return HTMLResponse(html, status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})})
