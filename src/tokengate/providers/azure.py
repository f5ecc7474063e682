"""Azure OpenAI: OpenAI's wire format behind per-deployment URLs and an ``api-key`` header.

A model's ``base_url`` is the resource endpoint (``https://NAME.openai.azure.com``), optionally
with ``?api-version=…``; its ``upstream_model`` is the Azure deployment name.
"""

from __future__ import annotations

from urllib.parse import parse_qs, quote, urlsplit

from tokengate.catalog.schemas import Route
from tokengate.providers.base import UpstreamRequest

DEFAULT_API_VERSION = "2024-10-21"


def upstream_request(*, route: Route, path: str, body: bytes) -> UpstreamRequest:
    """Build the request to the deployment's endpoint for ``path`` (``/chat/completions`` …)."""
    parts = urlsplit(route.base_url)
    version = parse_qs(parts.query).get("api-version", [DEFAULT_API_VERSION])[0]
    root = f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"
    deployment = quote(route.upstream_model, safe="")
    url = f"{root}/openai/deployments/{deployment}{path}?api-version={quote(version)}"
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if route.api_key:
        headers["api-key"] = route.api_key
    return UpstreamRequest(url=url, headers=headers, body=body)
