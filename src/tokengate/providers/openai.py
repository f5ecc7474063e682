"""OpenAI and OpenAI-compatible servers (vLLM, Ollama, LM Studio, the mock provider)."""

from __future__ import annotations

from typing import Any

from tokengate.catalog.schemas import Route, TokenUsage
from tokengate.providers.base import UpstreamRequest


def upstream_request(*, route: Route, path: str, body: bytes) -> UpstreamRequest:
    """Build the upstream request of an endpoint (``/chat/completions`` …) for a rewritten body."""
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if route.api_key:
        headers["Authorization"] = f"Bearer {route.api_key}"
    return UpstreamRequest(url=route.base_url + path, headers=headers, body=body)


def usage_from_payload(payload: dict[str, Any]) -> TokenUsage | None:
    """Read the provider's own token counts from a response or a final stream chunk."""
    usage = payload.get("usage")
    if not isinstance(usage, dict):
        return None
    prompt = usage.get("prompt_tokens_details")
    prompt = prompt if isinstance(prompt, dict) else {}
    completion = usage.get("completion_tokens_details")
    completion = completion if isinstance(completion, dict) else {}
    return TokenUsage(
        input_tokens=_count(usage.get("prompt_tokens")),
        output_tokens=_count(usage.get("completion_tokens")),
        cached_tokens=_count(prompt.get("cached_tokens")),
        cache_write_tokens=_count(prompt.get("cache_write_tokens")),
        reasoning_tokens=_count(completion.get("reasoning_tokens")),
    )


def _count(value: object) -> int:
    return value if isinstance(value, int) and value >= 0 else 0
