import pydantic
import pytest

from tokengate.mockprovider import MockConfig
from tokengate.mockprovider.config import update_config


def test_defaults_are_the_fast_mode() -> None:
    config = MockConfig()
    assert (config.latency_ms, config.ttft_ms, config.tokens_per_second) == (0, 0, 0)
    assert (config.completion_tokens, config.chunk_tokens) == (40, 1)
    assert config.fail_status is None
    assert config.cut_after_chunks is None
    assert not config.hang
    assert not config.omit_usage
    assert config.record_requests
    assert config.api_key is None


def test_every_field_is_documented() -> None:
    assert all(field.description for field in MockConfig.model_fields.values())


@pytest.mark.parametrize(
    "changes",
    [
        {"latency_ms": -1},
        {"chunk_tokens": 0},
        {"fail_status": 200},
        {"cut_after_chunks": -2},
        {"unknown": 1},
    ],
)
def test_invalid_values_are_refused(changes: dict[str, object]) -> None:
    with pytest.raises(pydantic.ValidationError):
        update_config(MockConfig(), changes)


def test_update_keeps_other_fields() -> None:
    config = update_config(MockConfig(latency_ms=5), {"fail_status": 500})
    assert config == MockConfig(latency_ms=5, fail_status=500)


def test_config_is_frozen() -> None:
    with pytest.raises(pydantic.ValidationError):
        MockConfig().hang = True  # type: ignore[misc]
