from tokengate.mockprovider import MockConfig
from tokengate.mockprovider.__main__ import parse_args


def test_defaults() -> None:
    assert parse_args([]) == ("127.0.0.1", 9100, MockConfig())


def test_flags_become_config() -> None:
    argv = ["--host", "10.1.2.3", "--port", "1234", "--latency-ms", "5", "--ttft-ms", "7"]
    argv += ["--tokens-per-second", "30", "--completion-tokens", "9", "--api-key", "k"]
    argv += ["--no-record"]
    host, port, config = parse_args(argv)
    assert (host, port) == ("10.1.2.3", 1234)
    assert config == MockConfig(
        latency_ms=5,
        ttft_ms=7,
        tokens_per_second=30,
        completion_tokens=9,
        api_key="k",
        record_requests=False,
    )
