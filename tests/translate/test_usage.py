from tokengate.translate.usage import StreamUsage, anthropic_usage, openai_usage, stream_usage


def test_anthropic_usage_to_openai_counts_every_prompt_token() -> None:
    usage = {
        "input_tokens": 20,
        "cache_read_input_tokens": 1000,
        "cache_creation_input_tokens": 300,
        "output_tokens": 55,
    }
    assert openai_usage(usage) == {
        "prompt_tokens": 1320,
        "completion_tokens": 55,
        "total_tokens": 1375,
        "prompt_tokens_details": {"cached_tokens": 1000, "cache_write_tokens": 300},
    }


def test_openai_usage_to_anthropic_splits_out_cache_tokens() -> None:
    usage = {
        "prompt_tokens": 1320,
        "completion_tokens": 55,
        "total_tokens": 1375,
        "prompt_tokens_details": {"cached_tokens": 1000, "cache_write_tokens": 300},
    }
    assert anthropic_usage(usage) == {
        "input_tokens": 20,
        "cache_creation_input_tokens": 300,
        "cache_read_input_tokens": 1000,
        "output_tokens": 55,
    }


def test_usage_round_trips() -> None:
    usage = {
        "input_tokens": 7,
        "cache_creation_input_tokens": 2,
        "cache_read_input_tokens": 3,
        "output_tokens": 9,
    }
    assert anthropic_usage(openai_usage(usage)) == usage


def test_missing_or_malformed_usage_counts_zero() -> None:
    assert openai_usage(None)["total_tokens"] == 0
    assert anthropic_usage({"prompt_tokens": 3, "prompt_tokens_details": None}) == {
        "input_tokens": 3,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": 0,
    }
    # a provider that counts more cached tokens than prompt tokens yields no negative input
    assert (
        anthropic_usage({"prompt_tokens": 3, "prompt_tokens_details": {"cached_tokens": 9}})[
            "input_tokens"
        ]
        == 0
    )


def test_stream_usage_reads_openai_usage() -> None:
    usage = {
        "prompt_tokens": 10,
        "completion_tokens": 4,
        "prompt_tokens_details": {"cached_tokens": 6},
    }
    assert stream_usage(usage) == StreamUsage(input_tokens=10, output_tokens=4, cached_tokens=6)
    assert stream_usage({}) == (0, 0, 0)
