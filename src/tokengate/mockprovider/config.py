from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

NonNegativeFloat = Annotated[float, Field(ge=0)]
NonNegativeInt = Annotated[int, Field(ge=0)]


class MockConfig(BaseModel):
    """Behaviour knobs of the mock provider; every field has a harmless default."""

    model_config = ConfigDict(frozen=True, extra="forbid", use_attribute_docstrings=True)

    latency_ms: NonNegativeFloat = 0
    """Delay before the response headers are sent."""
    ttft_ms: NonNegativeFloat = 0
    """Extra delay before the first generated token; a JSON answer waits for it too."""
    tokens_per_second: NonNegativeFloat = 0
    """Pace of streamed chunks, and of JSON answers as a whole; 0 means no pacing."""
    completion_tokens: NonNegativeInt = 40
    """Tokens generated when the request's max_tokens does not cap them."""
    chunk_tokens: Annotated[int, Field(ge=1)] = 1
    """Tokens per streamed content chunk."""
    fail_status: Annotated[int, Field(ge=400, le=599)] | None = None
    """Answer every provider request with this HTTP status and a provider-shaped error."""
    hang: bool = False
    """Accept requests and never answer them."""
    cut_after_chunks: NonNegativeInt | None = None
    """End streams after this many content chunks, without usage or terminator."""
    omit_usage: bool = False
    """Never report usage, neither in JSON bodies nor in streams."""
    record_requests: bool = True
    """Keep the last 100 provider requests for inspection."""
    api_key: str | None = None
    """When set, provider requests must carry this key."""


def update_config(config: MockConfig, changes: dict[str, object]) -> MockConfig:
    """Return a validated copy of config with the given fields replaced."""
    return MockConfig.model_validate({**config.model_dump(), **changes})
