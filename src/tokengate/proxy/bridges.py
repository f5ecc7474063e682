"""Joining a client's wire format to a provider's: what to send, and how to read the answer.

A client speaks OpenAI (``/v1/chat/completions`` …) or Anthropic (``/v1/messages``); a model's
provider speaks one of them too. The same pair passes bodies through (only the model name
changes); a crossed pair translates requests, answers and streams (``tokengate.translate``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from tokengate.catalog.schemas import Route, TokenUsage
from tokengate.errors import InvalidRequest
from tokengate.providers import anthropic, azure, openai
from tokengate.providers.base import UpstreamRequest
from tokengate.proxy.sse_anthropic import (
    AnthropicEvents,
    AnthropicToOpenAIEvents,
    OpenAIToAnthropicEvents,
)
from tokengate.proxy.sse_openai import OpenAIEvents
from tokengate.proxy.streaming import EventFilter
from tokengate.translate import (
    anthropic_message_to_openai,
    anthropic_to_openai_chat,
    openai_chat_to_anthropic,
    openai_completion_to_anthropic,
)

Format = Literal["openai", "anthropic"]
Json = dict[str, Any]


@dataclass(frozen=True)
class StreamContext:
    """What a stream filter needs to know about the request."""

    public_model: str
    model_swap: tuple[bytes, bytes] | None
    client_wants_usage: bool
    count_prompt: Callable[[], int]


@dataclass(frozen=True)
class Bridge:
    """How one client format reaches one provider format."""

    upstream_path: str
    to_upstream: Callable[[Json], Json]
    from_upstream: Callable[[Json, str], Json]
    usage_of: Callable[[Json], TokenUsage | None]
    build: Callable[..., UpstreamRequest]
    events: Callable[[StreamContext], EventFilter]
    asks_stream_usage: bool


def provider_format(route: Route) -> Format:
    """The wire format a model's provider speaks."""
    return "anthropic" if route.provider == "anthropic" else "openai"


def bridge_for(client: Format, route: Route, *, openai_path: str) -> Bridge:
    """The bridge from the client's format to the model's provider."""
    upstream = provider_format(route)
    # Azure speaks OpenAI's format at its own URLs; Gemini through its OpenAI-compatible API
    openai_build = azure.upstream_request if route.provider == "azure" else openai.upstream_request
    if client == "openai" and upstream == "openai":
        return Bridge(
            openai_path,
            _same,
            _same_model,
            openai.usage_from_payload,
            openai_build,
            lambda c: OpenAIEvents(
                client_wants_usage=c.client_wants_usage, model_swap=c.model_swap
            ),
            asks_stream_usage=True,
        )
    if openai_path != "/chat/completions":
        raise InvalidRequest(
            f"The model {route.name} only serves chat: use /v1/chat/completions or /v1/messages.",
            param="model",
        )
    if client == "openai":
        return Bridge(
            anthropic.MESSAGES_PATH,
            _checked(openai_chat_to_anthropic),
            lambda payload, model: anthropic_message_to_openai(payload, model=model),
            anthropic.usage_from_payload,
            anthropic.upstream_request,
            lambda c: AnthropicToOpenAIEvents(
                model=c.public_model, client_wants_usage=c.client_wants_usage
            ),
            asks_stream_usage=False,
        )
    if upstream == "anthropic":
        return Bridge(
            anthropic.MESSAGES_PATH,
            _same,
            _same_model,
            anthropic.usage_from_payload,
            anthropic.upstream_request,
            lambda c: AnthropicEvents(model_swap=c.model_swap),
            asks_stream_usage=False,
        )
    return Bridge(
        "/chat/completions",
        _checked(anthropic_to_openai_chat),
        lambda payload, model: openai_completion_to_anthropic(payload, model=model),
        openai.usage_from_payload,
        openai_build,
        lambda c: OpenAIToAnthropicEvents(model=c.public_model, input_estimate=c.count_prompt()),
        asks_stream_usage=True,
    )


def _same(body: Json) -> Json:
    return body


def _same_model(payload: Json, model: str) -> Json:
    payload["model"] = model
    return payload


def _checked(translate: Callable[[Json], Json]) -> Callable[[Json], Json]:
    def run(body: Json) -> Json:
        try:
            return translate(body)
        except ValueError as exc:
            raise InvalidRequest(f"This request cannot be sent to the model: {exc}") from exc

    return run
