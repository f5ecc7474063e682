"""Local token estimates, for when a provider reports none (a stream cut, a client gone).

``estimate_tokens`` models how tiktoken's cl100k_base and o200k_base cut text: it counts the
pieces their pre-tokenizer makes (words, digit groups, punctuation runs, a space before a digit,
line breaks) and adds per-script rates for Hangul, CJK and other scripts, which the vocabularies
split further. Measured against the real encoders on tests/metering/corpus, it is within ±10 %
on Korean columns, English prose, code, mixed Korean/English and numbers-and-punctuation texts
of 200 tokens or more, with either encoding (worst seen: 6.5 %), and within ±20 % on other
scripts (Japanese, Chinese, Russian, German, French, Vietnamese, emoji; worst seen: 15 %).
Shorter texts can be a few tokens off either way, so relatively more.
``token_upper_bound`` can never be below what a byte-level BPE tokenizer (OpenAI, Anthropic,
Llama) counts, since each token covers at least one UTF-8 byte.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from tokengate.metering.encodings import EncodingName, encoding_for_model

# OpenAI's chat format spends a few tokens per message on roles and separators.
PER_MESSAGE_OVERHEAD = 4
PER_REQUEST_OVERHEAD = 3


@dataclass(frozen=True, slots=True)
class Rates:
    """Tokens per feature that an encoding's vocabulary decides (the rest are one each)."""

    word: float
    line_break: float
    hangul: float
    hangul_word: float
    cjk: float
    other: float


# Fitted by tests/metering/calibrate.py (weighted least squares on relative error) against the
# real encoders, on the corpus cut into runs of paragraphs of at least 100 tokens; the word,
# line-break and Hangul rates on the five Korean and English classes, then the CJK and other
# rates on other_scripts.txt. Digit groups, punctuation runs, spaces before digits and runs of
# spaces are one token each, and a punctuation mark before a word joins it, as the
# pre-tokenizer's pattern dictates.
RATES: dict[EncodingName, Rates] = {
    "cl100k_base": Rates(
        word=1.014, line_break=1.376, hangul=1.241, hangul_word=0.233, cjk=1.159, other=0.566
    ),
    "o200k_base": Rates(
        word=1.008, line_break=1.469, hangul=0.727, hangul_word=0.186, cjk=0.802, other=0.278
    ),
}


def _byte_classes() -> bytes:
    # one class per UTF-8 lead byte: a letter, d digit, p punctuation, s space, n line break,
    # h U+A000-D7FF (Hangul), c U+3000-9FFF (CJK, kana), o anything else beyond ASCII
    table = bytearray(b"p" * 256)
    for byte in range(128):
        char = chr(byte)
        if char.isalpha():
            table[byte] = ord("a")
        elif char.isdigit():
            table[byte] = ord("d")
        elif char in "\r\n":
            table[byte] = ord("n")
        elif char in " \t\v\f":
            table[byte] = ord("s")
    table[0xC0:0x100] = b"o" * 64
    table[0xE3:0xEA] = b"c" * 7
    table[0xEA:0xEE] = b"h" * 4
    return bytes(table)


BYTE_CLASSES = _byte_classes()
CONTINUATION_BYTES = bytes(range(0x80, 0xC0))
ISOLATE = {c: bytes(c if b == c else ord(".") for b in range(256)) for c in b"adpshn"}


@dataclass(frozen=True, slots=True)
class Features:
    """What the estimate counts in a text."""

    words: int
    digit_groups: int
    punctuation_runs: int
    punctuation_before_words: int
    spaces_before_digits: int
    space_runs: int
    line_breaks: int
    hangul: int
    hangul_words: int
    cjk: int
    other: int


def text_features(utf8: bytes) -> Features:
    """Count the features of UTF-8 text, classifying each character by its lead byte."""
    classes = utf8.translate(BYTE_CLASSES, CONTINUATION_BYTES)
    digits = b"." + classes.translate(ISOLATE[ord("d")])
    return Features(
        words=_runs(classes, "a"),
        # a run of n digits is cut into ceil(n / 3) groups: one, plus one per three after the first
        digit_groups=digits.count(b".d") + digits.replace(b".d", b"..").count(b"ddd"),
        punctuation_runs=_runs(classes, "p"),
        punctuation_before_words=classes.count(b"pa") + classes.count(b"ph"),
        spaces_before_digits=classes.count(b"sd"),
        space_runs=(b"." + classes.translate(ISOLATE[ord("s")])).count(b".ss"),
        line_breaks=_runs(classes, "n"),
        hangul=classes.count(b"h"),
        hangul_words=_runs(classes, "h"),
        cjk=classes.count(b"c"),
        other=classes.count(b"o"),
    )


def _runs(classes: bytes, cls: str) -> int:
    isolated = b"." + classes.translate(ISOLATE[ord(cls)])
    return isolated.count(b"." + cls.encode())


def estimate_tokens(text: str, *, model_family: str | None = None) -> int:
    """Estimate how many tokens a BPE tokenizer makes of this text."""
    if not text:
        return 0
    # surrogatepass: a lone surrogate (JSON allows one) must not crash the estimate
    utf8 = text.encode(errors="surrogatepass")
    estimate = weigh_features(text_features(utf8), RATES[encoding_for_model(model_family)])
    return max(1, min(round(estimate), len(utf8)))


def weigh_features(f: Features, rates: Rates) -> float:
    """Return the unrounded estimate for a text's features."""
    return (
        f.digit_groups
        + f.punctuation_runs
        - f.punctuation_before_words
        + f.spaces_before_digits
        + f.space_runs
        + rates.word * f.words
        + rates.line_break * f.line_breaks
        + rates.hangul * f.hangul
        + rates.hangul_word * f.hangul_words
        + rates.cjk * f.cjk
        + rates.other * f.other
    )


def token_upper_bound(text: str) -> int:
    """Return a count no byte-level BPE tokenizer can exceed for this text."""
    return len(text.encode())


def chat_prompt_text(messages: list[Any]) -> list[str]:
    """Return the text parts of chat messages (strings and text content parts)."""
    parts: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        content = message.get("content")
        if isinstance(content, str):
            parts.append(content)
        elif isinstance(content, list):
            parts.extend(
                p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)
            )
        role = message.get("role")
        if isinstance(role, str):
            parts.append(role)
    return parts


def estimate_chat_prompt(messages: list[Any], *, model_family: str | None = None) -> int:
    """Estimate the prompt tokens of a chat request."""
    texts = chat_prompt_text(messages)
    return (
        sum(estimate_tokens(t, model_family=model_family) for t in texts)
        + PER_MESSAGE_OVERHEAD * len(messages)
        + PER_REQUEST_OVERHEAD
    )
