"""A fast, scriptable fake of the OpenAI and Anthropic HTTP APIs for tests, demos and benchmarks."""

from tokengate.mockprovider.app import (
    clear_recorded_requests,
    create_mock_app,
    recorded_requests,
    set_config,
)
from tokengate.mockprovider.config import MockConfig
from tokengate.mockprovider.server import RunningMock, running_mock_provider, serve_mock_provider
from tokengate.mockprovider.state import RecordedRequest
from tokengate.mockprovider.tokens import count_tokens

__all__ = [
    "MockConfig",
    "RecordedRequest",
    "RunningMock",
    "clear_recorded_requests",
    "count_tokens",
    "create_mock_app",
    "recorded_requests",
    "running_mock_provider",
    "serve_mock_provider",
    "set_config",
]
