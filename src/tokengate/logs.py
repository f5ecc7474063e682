"""Structured logging (JSON or console), with secrets scrubbed from every event."""

from __future__ import annotations

import logging
import re
from collections.abc import MutableMapping
from typing import Any

import structlog

_SECRET_FIELDS = frozenset({"api_key", "authorization", "password", "key", "secret", "token"})
_KEY_PATTERN = re.compile(r"\b(tg-|sk-)[A-Za-z0-9_\-]{8,}")


def scrub_secrets(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """Mask secret-named fields and anything that looks like an API key."""
    for name, value in list(event.items()):
        if name.lower() in _SECRET_FIELDS:
            event[name] = "****"
        elif isinstance(value, str):
            event[name] = _KEY_PATTERN.sub(lambda m: m.group(1) + "****", value)
    return event


def configure_logging(*, level: str, fmt: str) -> None:
    """Set up structlog and the standard library's root logger."""
    logging.basicConfig(level=level.upper(), format="%(message)s")
    renderer: Any = (
        structlog.processors.JSONRenderer()
        if fmt == "json"
        else structlog.dev.ConsoleRenderer(colors=False)
    )
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            scrub_secrets,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        cache_logger_on_first_use=True,
    )
