"""Pure translation between the OpenAI chat and the Anthropic Messages wire formats."""

from tokengate.translate.anthropic_stream import AnthropicToOpenAIStream
from tokengate.translate.fields import JsonObject
from tokengate.translate.openai_stream import OpenAIToAnthropicStream
from tokengate.translate.requests import anthropic_to_openai_chat, openai_chat_to_anthropic
from tokengate.translate.responses import (
    anthropic_message_to_openai,
    openai_completion_to_anthropic,
)
from tokengate.translate.sse import OPENAI_DONE, sse_bytes_anthropic, sse_bytes_openai
from tokengate.translate.usage import StreamUsage

__all__ = [
    "OPENAI_DONE",
    "AnthropicToOpenAIStream",
    "JsonObject",
    "OpenAIToAnthropicStream",
    "StreamUsage",
    "anthropic_message_to_openai",
    "anthropic_to_openai_chat",
    "openai_chat_to_anthropic",
    "openai_completion_to_anthropic",
    "sse_bytes_anthropic",
    "sse_bytes_openai",
]
