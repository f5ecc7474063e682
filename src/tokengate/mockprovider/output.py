from dataclasses import dataclass

from tokengate.mockprovider.config import MockConfig
from tokengate.mockprovider.text import generate_pieces

SYSTEM_FINGERPRINT = "fp_7d1c2e9a4b"


@dataclass(frozen=True, slots=True)
class Output:
    """The generated answer, as one-token pieces, and whether max_tokens cut it short."""

    pieces: list[str]
    truncated: bool

    @property
    def text(self) -> str:
        """The whole answer."""
        return "".join(self.pieces)

    @property
    def tokens(self) -> int:
        """The completion token count."""
        return len(self.pieces)

    def chunks(self, size: int) -> list[str]:
        """Group the pieces into streamed chunks of size tokens."""
        pieces = self.pieces
        if size == 1:
            return pieces
        return ["".join(pieces[i : i + size]) for i in range(0, len(pieces), size)]

    def chunk_sizes(self, size: int) -> list[int]:
        """The token count of each chunk that chunks(size) returns."""
        if size == 1:
            return [1] * len(self.pieces)
        return [min(size, len(self.pieces) - i) for i in range(0, len(self.pieces), size)]


def plan_output(*, config: MockConfig, model: str, seed: int, cap: int | None) -> Output:
    """Generate the configured number of tokens, capped by the request's max_tokens."""
    wanted = config.completion_tokens
    count = wanted if cap is None else min(wanted, cap)
    pieces = generate_pieces(model=model, seed=seed, count=count)
    return Output(pieces=pieces, truncated=count < wanted)


def openai_usage(*, prompt_tokens: int, completion_tokens: int) -> dict[str, object]:
    """Build an OpenAI usage object with the detail fields the real API sends."""
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    }
