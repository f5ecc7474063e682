"""Token counts in each format, and the totals a stream reported so far."""

from __future__ import annotations

from typing import NamedTuple

from tokengate.translate.fields import JsonObject, tokens_of


class StreamUsage(NamedTuple):
    """Tokens a stream reported so far; input_tokens includes cached_tokens."""

    input_tokens: int
    output_tokens: int
    cached_tokens: int


def openai_usage(usage: object) -> JsonObject:
    """Turn Anthropic usage into OpenAI usage, whose prompt tokens include all cache tokens."""
    counts = usage if isinstance(usage, dict) else {}
    cached = tokens_of(counts.get("cache_read_input_tokens"))
    written = tokens_of(counts.get("cache_creation_input_tokens"))
    prompt = tokens_of(counts.get("input_tokens")) + cached + written
    completion = tokens_of(counts.get("output_tokens"))
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached, "cache_write_tokens": written},
    }


def anthropic_usage(usage: object) -> JsonObject:
    """Turn OpenAI usage into Anthropic usage, whose input tokens exclude all cache tokens."""
    counts = usage if isinstance(usage, dict) else {}
    details = counts.get("prompt_tokens_details")
    details = details if isinstance(details, dict) else {}
    cached = tokens_of(details.get("cached_tokens"))
    written = tokens_of(details.get("cache_write_tokens"))
    return {
        "input_tokens": max(tokens_of(counts.get("prompt_tokens")) - cached - written, 0),
        "cache_creation_input_tokens": written,
        "cache_read_input_tokens": cached,
        "output_tokens": tokens_of(counts.get("completion_tokens")),
    }


def stream_usage(usage: JsonObject) -> StreamUsage:
    """Read the input, output and cached totals of OpenAI usage."""
    details = usage.get("prompt_tokens_details")
    return StreamUsage(
        input_tokens=tokens_of(usage.get("prompt_tokens")),
        output_tokens=tokens_of(usage.get("completion_tokens")),
        cached_tokens=tokens_of(details.get("cached_tokens")) if isinstance(details, dict) else 0,
    )
