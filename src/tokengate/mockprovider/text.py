import zlib
from dataclasses import dataclass
from functools import cache
from typing import Literal

from tokengate.mockprovider import phrases
from tokengate.mockprovider.tokens import split_pieces

Language = Literal["ko", "en"]

CORPUS_SENTENCES = 256
KOREAN_MARKERS = ("c1", "c2", "c7")
ENGLISH_MARKERS = ("gpt", "en")


@dataclass(frozen=True, slots=True)
class _Corpus:
    """A long run of one-token pieces and the indexes where its sentences start."""

    pieces: tuple[str, ...]
    starts: tuple[int, ...]


def language_for(model: str) -> Language:
    """Pick the language a model writes in: Korean columns unless it looks like an English one."""
    name = model.lower()
    if any(marker in name for marker in KOREAN_MARKERS):
        return "ko"
    return "en" if any(marker in name for marker in ENGLISH_MARKERS) else "ko"


def seed_for(*parts: bytes) -> int:
    """Derive a stable seed from the parts of a request that define its answer."""
    seed = 0
    for part in parts:
        seed = zlib.crc32(part, seed)
    return seed


def generate_pieces(*, model: str, seed: int, count: int) -> list[str]:
    """Return count one-token pieces of prose, the same ones for the same model and seed."""
    corpus = _corpus(language_for(model))
    pieces = corpus.pieces
    position = corpus.starts[seed % len(corpus.starts)]
    out: list[str] = []
    while len(out) < count:
        take = min(count - len(out), len(pieces) - position)
        out.extend(pieces[position : position + take])
        position = 0
    if out:
        out[0] = out[0].lstrip(" ")
    return out


@cache
def _corpus(language: Language) -> _Corpus:
    banks: tuple[tuple[str, ...], ...]
    if language == "ko":
        banks = (phrases.KOREAN_OPENERS, phrases.KOREAN_MIDDLES, phrases.KOREAN_CLOSINGS)
    else:
        banks = (phrases.ENGLISH_OPENERS, phrases.ENGLISH_MIDDLES, phrases.ENGLISH_CLOSINGS)
    pieces: list[str] = []
    starts: list[int] = []
    for index in range(CORPUS_SENTENCES):
        # Knuth's multiplicative hash spreads consecutive sentences over the phrase banks.
        mixed = (index * 2654435761) & 0xFFFFFFFF
        words = [
            bank[(mixed >> shift) % len(bank)]
            for bank, shift in zip(banks, (0, 8, 16), strict=True)
        ]
        starts.append(len(pieces))
        pieces.extend(split_pieces(" " + " ".join(words)))
    return _Corpus(pieces=tuple(pieces), starts=tuple(starts))
