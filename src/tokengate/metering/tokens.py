"""Local token counts, for when a provider reports none (a stream cut, a client gone).

``estimate_tokens`` approximates a BPE tokenizer; ``token_upper_bound`` can never be below
what a byte-level BPE tokenizer (OpenAI, Anthropic, Llama) counts, since each token covers at
least one UTF-8 byte.
"""

from __future__ import annotations

from typing import Any

# OpenAI's chat format spends a few tokens per message on roles and separators.
PER_MESSAGE_OVERHEAD = 4
PER_REQUEST_OVERHEAD = 3
ASCII_CHARS_PER_TOKEN = 4


def estimate_tokens(text: str) -> int:
    """Estimate how many tokens a BPE tokenizer makes of this text."""
    if not text:
        return 0
    ascii_chars = sum(1 for ch in text if ch.isascii())
    other = len(text) - ascii_chars
    return max(1, -(-ascii_chars // ASCII_CHARS_PER_TOKEN) + other)


def token_upper_bound(text: str) -> int:
    """Return a count no byte-level BPE tokenizer can exceed for this text."""
    return len(text.encode())


def chat_prompt_text(messages: list[Any]) -> list[str]:
    """Return the text parts of chat messages (strings and text content parts)."""
    parts: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(
                p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
            )
        role = message.get("role")
        if isinstance(role, str):
            parts.append(role)
    return parts


def estimate_chat_prompt(messages: list[Any]) -> int:
    """Estimate the prompt tokens of a chat request."""
    texts = chat_prompt_text(messages)
    return (
        sum(estimate_tokens(t) for t in texts)
        + PER_MESSAGE_OVERHEAD * len(messages)
        + PER_REQUEST_OVERHEAD
    )
