"""Anthropic's Messages API."""

from __future__ import annotations

from typing import Any

from tokengate.catalog.schemas import Route, TokenUsage
from tokengate.providers.base import UpstreamRequest

API_VERSION = "2023-06-01"
MESSAGES_PATH = "/messages"


def upstream_request(*, route: Route, path: str, body: bytes) -> UpstreamRequest:
    """Build the upstream request; the model's base URL ends with the API version (``/v1``)."""
    headers = {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "anthropic-version": API_VERSION,
    }
    if route.api_key:
        headers["x-api-key"] = route.api_key
    return UpstreamRequest(url=route.base_url + path, headers=headers, body=body)


def usage_from_payload(payload: dict[str, Any]) -> TokenUsage | None:
    """Read Anthropic's token counts; cache reads and writes are part of the input."""
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        return None
    cached = _count(usage.get("cache_read_input_tokens"))
    written = _count(usage.get("cache_creation_input_tokens"))
    return TokenUsage(
        input_tokens=_count(usage.get("input_tokens")) + cached + written,
        output_tokens=_count(usage.get("output_tokens")),
        cached_tokens=cached,
        cache_write_tokens=written,
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
