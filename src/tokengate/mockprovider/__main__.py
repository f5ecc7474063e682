"""Run the mock provider from a shell: python -m tokengate.mockprovider --port 9100."""

import argparse

from tokengate.mockprovider.config import MockConfig
from tokengate.mockprovider.server import serve_mock_provider


def parse_args(argv: list[str] | None = None) -> tuple[str, int, MockConfig]:
    """Read the listening address and the initial config from the command line."""
    parser = argparse.ArgumentParser(prog="python -m tokengate.mockprovider")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=9100)
    parser.add_argument("--latency-ms", type=float, default=0)
    parser.add_argument("--ttft-ms", type=float, default=0)
    parser.add_argument("--tokens-per-second", type=float, default=0)
    parser.add_argument("--completion-tokens", type=int, default=40)
    parser.add_argument("--api-key", default=None)
    parser.add_argument("--no-record", action="store_true", help="do not keep received requests")
    args = parser.parse_args(argv)
    config = MockConfig(
        latency_ms=args.latency_ms,
        ttft_ms=args.ttft_ms,
        tokens_per_second=args.tokens_per_second,
        completion_tokens=args.completion_tokens,
        api_key=args.api_key,
        record_requests=not args.no_record,
    )
    return args.host, args.port, config


def main(argv: list[str] | None = None) -> None:
    """Serve the mock provider until interrupted."""
    host, port, config = parse_args(argv)
    serve_mock_provider(host=host, port=port, config=config)


if __name__ == "__main__":
    main()
