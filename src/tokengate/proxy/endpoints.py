"""What differs between the OpenAI-style endpoints the gateway relays."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from tokengate.errors import InvalidRequest
from tokengate.metering.tokens import estimate_chat_prompt, estimate_tokens


@dataclass(frozen=True)
class Endpoint:
    """One relayed endpoint: its prompt field, whether it generates output and streams."""

    name: str
    upstream_path: str
    prompt_field: str
    generates: bool
    streams: bool
    # the output cap a client gets when it names none (OpenAI's legacy completions: 16)
    implicit_max_tokens: int | None = None
    client: Literal["openai", "anthropic"] = "openai"
    # Anthropic's API refuses a request without max_tokens; so does its endpoint here
    cap_required: bool = False

    def prompt_of(self, body: dict[str, Any]) -> Any:
        """Return the required prompt field, or raise naming it."""
        value = body.get(self.prompt_field)
        valid = (
            isinstance(value, list) and len(value) > 0
            if self.prompt_field == "messages"
            else (isinstance(value, str) and value != "") or (isinstance(value, list) and value)
        )
        if not valid:
            kind = "a non-empty array" if self.prompt_field == "messages" else "a string or array"
            raise InvalidRequest(
                f"'{self.prompt_field}' is required and must be {kind}.", param=self.prompt_field
            )
        return value

    def estimate_prompt(self, prompt: Any) -> int:
        """Estimate the prompt's tokens locally (used when the provider reports none)."""
        if self.prompt_field == "messages":
            return estimate_chat_prompt(prompt)
        return estimate_tokens(_texts(prompt))

    def estimate_output(self, payload: dict[str, Any]) -> int:
        """Estimate the output tokens of a non-streamed answer that carried no usage."""
        if not self.generates:
            return 0
        texts = [
            block["text"]
            for block in payload.get("content") or []
            if isinstance(block, dict) and isinstance(block.get("text"), str)
        ]
        for choice in payload.get("choices") or []:
            if not isinstance(choice, dict):
                continue
            message = choice.get("message")
            content = message.get("content") if isinstance(message, dict) else None
            for text in (content, choice.get("text")):
                if isinstance(text, str):
                    texts.append(text)
        return estimate_tokens("".join(texts))


def _texts(prompt: Any) -> str:
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, list):
        return "".join(p for p in prompt if isinstance(p, str))
    return ""


CHAT = Endpoint("chat.completions", "/chat/completions", "messages", True, True)
COMPLETIONS = Endpoint("completions", "/completions", "prompt", True, True, 16)
EMBEDDINGS = Endpoint("embeddings", "/embeddings", "input", False, False)
MESSAGES = Endpoint(
    "messages", "/chat/completions", "messages", True, True, client="anthropic", cap_required=True
)
