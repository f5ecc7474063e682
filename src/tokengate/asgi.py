"""Entry point for ASGI servers: ``uvicorn --factory tokengate.asgi:create``."""

from __future__ import annotations

from fastapi import FastAPI

from tokengate.app import create_app
from tokengate.logs import configure_logging
from tokengate.settings import Settings


def create() -> FastAPI:
    """Build the app from the ``TOKENGATE_*`` environment, refusing weak secrets."""
    settings = Settings()
    settings.check_secrets()
    configure_logging(level=settings.log_level, fmt=settings.log_format)
    return create_app(settings, serving=True)
