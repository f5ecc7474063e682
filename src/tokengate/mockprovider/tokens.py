"""A deterministic stand-in for a BPE tokenizer.

Text is split like a GPT pre-tokenizer: an ASCII word with its leading space costs one token per
five letters, a number one token per three digits, a Hangul syllable, a punctuation mark or any
other character one token each, and a run of whitespace one token. The generated answers are built
from exactly these pieces, so counting a generated text gives back its completion token count.
"""

import re
from collections.abc import Mapping, Sequence
from functools import lru_cache

LETTERS_PER_TOKEN = 5
MESSAGE_OVERHEAD = 3
REPLY_PRIMING = 3
NAME_OVERHEAD = 1
IMAGE_TOKENS = 85
IMAGE_PART_TYPES = frozenset({"image_url", "image", "input_audio"})

_PIECE = re.compile(r" ?[A-Za-z]+| ?[0-9]{1,3}| ?[가-힣]|\s+| ?[^\sA-Za-z0-9가-힣]")
_LONG_WORD = re.compile(rf"[A-Za-z]{{{LETTERS_PER_TOKEN + 1},}}")


def count_tokens(text: str) -> int:
    """Count the tokens of a text the way the mock provider bills them."""
    return _count_cached(text) if text else 0


@lru_cache(maxsize=4096)
def _count_cached(text: str) -> int:
    extra = sum((len(word) - 1) // LETTERS_PER_TOKEN for word in _LONG_WORD.findall(text))
    return len(_PIECE.findall(text)) + extra


def split_pieces(text: str) -> list[str]:
    """Split a text into pieces that each count as exactly one token."""
    pieces: list[str] = []
    for piece in _PIECE.findall(text):
        letters = piece.lstrip(" ")
        if len(letters) <= LETTERS_PER_TOKEN or not letters.isalpha():
            pieces.append(piece)
            continue
        space = piece[: len(piece) - len(letters)]
        step = LETTERS_PER_TOKEN
        pieces.extend(
            space * (i == 0) + letters[i : i + step] for i in range(0, len(letters), step)
        )
    return pieces


def count_value(value: object) -> int:
    """Count the tokens of a JSON value: its strings, numbers and nested parts."""
    if isinstance(value, str):
        return count_tokens(value)
    if isinstance(value, Mapping):
        if value.get("type") in IMAGE_PART_TYPES:
            return IMAGE_TOKENS
        return sum(count_value(item) for item in value.values())
    if isinstance(value, Sequence):
        return sum(count_value(item) for item in value)
    return 0 if value is None or isinstance(value, bool) else 1


def count_messages(messages: Sequence[Mapping[str, object]]) -> int:
    """Count a chat prompt with OpenAI's per-message overhead."""
    total = REPLY_PRIMING
    for message in messages:
        total += MESSAGE_OVERHEAD + count_value(message)
        if "name" in message:
            total += NAME_OVERHEAD
    return total
