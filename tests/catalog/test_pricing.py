from __future__ import annotations

from tokengate.catalog.schemas import Route, TokenUsage
from tokengate.catalog.service import price_usage
from tokengate.providers import anthropic, openai

ROUTE = Route(
    model_id=1,
    name="C7",
    provider="anthropic",
    upstream_model="claude",
    base_url="http://x/v1",
    api_key=None,
    input_price=3_000_000,  # $3 / Mtok
    output_price=15_000_000,
    cached_input_price=300_000,
    cache_write_price=3_750_000,
    default_max_tokens=None,
    max_tokens_cap=None,
)


def test_cache_reads_and_writes_are_priced_apart() -> None:
    usage = TokenUsage(
        input_tokens=1_000, output_tokens=100, cached_tokens=600, cache_write_tokens=300
    )
    # 100 plain × 3 + 600 read × 0.3 + 300 written × 3.75 + 100 out × 15, in micro-dollars
    assert price_usage(route=ROUTE, usage=usage) == 300 + 180 + 1_125 + 1_500


def test_anthropic_usage_counts_cache_tokens_as_input() -> None:
    usage = anthropic.usage_from_payload(
        {
            "usage": {
                "input_tokens": 100,
                "cache_read_input_tokens": 600,
                "cache_creation_input_tokens": 300,
                "output_tokens": 7,
            }
        }
    )
    assert usage == TokenUsage(
        input_tokens=1_000, output_tokens=7, cached_tokens=600, cache_write_tokens=300
    )


def test_openai_usage_reads_cache_and_reasoning_details() -> None:
    usage = openai.usage_from_payload(
        {
            "usage": {
                "prompt_tokens": 1_000,
                "completion_tokens": 50,
                "prompt_tokens_details": {"cached_tokens": 600, "cache_write_tokens": 300},
                "completion_tokens_details": {"reasoning_tokens": 20},
            }
        }
    )
    assert usage == TokenUsage(
        input_tokens=1_000,
        output_tokens=50,
        cached_tokens=600,
        cache_write_tokens=300,
        reasoning_tokens=20,
    )
    assert openai.usage_from_payload({"usage": None}) is None
