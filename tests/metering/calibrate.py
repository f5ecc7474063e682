"""Refit the estimator's rates against the real encoders and print its error per corpus class.

Run with the encoding files fetched: ``TIKTOKEN_CACHE_DIR=.cache/tiktoken uv run python -m
tests.metering.calibrate``. Copy the printed rates into tokens.RATES.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable, Sequence
from typing import TextIO, cast

import tiktoken

from tests.metering.corpus import (
    CLASSES,
    KOREAN_AND_ENGLISH,
    OTHER_SCRIPTS,
    chunks,
    corpus_text,
    relative_error,
)
from tokengate.metering.encodings import ENCODING_NAMES, EncodingName
from tokengate.metering.tokenizer import load_cached_encoding
from tokengate.metering.tokens import RATES, Features, Rates, text_features, weigh_features

TokenCounter = Callable[[str], int]
FIT_MIN_TOKENS = 100
REPORT_MIN_TOKENS = 200
# which rates each step fits, on which classes; the other rates keep their values
STEPS = (
    (("word", "line_break", "hangul", "hangul_word"), KOREAN_AND_ENGLISH),
    (("cjk", "other"), (OTHER_SCRIPTS,)),
)


def fit_rates(samples: Sequence[tuple[Features, int]], rates: Rates, free: Sequence[str]) -> Rates:
    """Return rates whose free fields minimise the squared relative error over the samples."""
    zero = dataclasses.replace(rates, **dict.fromkeys(free, 0.0))
    rows: list[list[float]] = []
    targets: list[float] = []
    for features, exact in samples:
        unit = [weigh_features(features, dataclasses.replace(zero, **{name: 1.0})) for name in free]
        base = weigh_features(features, zero)
        rows.append([(u - base) / exact for u in unit])
        targets.append(1 - base / exact)
    solution = _least_squares(rows, targets)
    return dataclasses.replace(rates, **dict(zip(free, solution, strict=True)))


def _least_squares(rows: list[list[float]], targets: list[float]) -> list[float]:
    n = len(rows[0])
    # the normal equations, solved by Gauss-Jordan elimination with partial pivoting
    m = [
        [sum(r[i] * r[j] for r in rows) for j in range(n)]
        + [sum(r[i] * t for r, t in zip(rows, targets, strict=True))]
        for i in range(n)
    ]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(n):
            if r != col:
                factor = m[r][col] / m[col][col]
                m[r] = [a - factor * b for a, b in zip(m[r], m[col], strict=True)]
    return [m[i][n] / m[i][i] for i in range(n)]


def samples(texts: Sequence[str], count: TokenCounter) -> list[tuple[Features, int]]:
    """Return the texts' chunks of at least FIT_MIN_TOKENS as (features, exact count)."""
    return [
        (text_features(chunk.encode()), count(chunk))
        for text in texts
        for chunk in chunks(text, count, FIT_MIN_TOKENS)
    ]


def error_range(text: str, count: TokenCounter, rates: Rates) -> tuple[float, float]:
    """Return the least and greatest relative error on a text's chunks of REPORT_MIN_TOKENS."""
    errors = [
        relative_error(round(weigh_features(text_features(chunk.encode()), rates)), count(chunk))
        for chunk in chunks(text, count, REPORT_MIN_TOKENS)
    ]
    return min(errors), max(errors)


def fit_all(texts: Callable[[str], str], count: TokenCounter, rates: Rates) -> Rates:
    """Run every fitting step on the texts that texts(class name) returns."""
    for free, names in STEPS:
        rates = fit_rates(samples([texts(name) for name in names], count), rates, free)
    return rates


def halves(name: str) -> tuple[str, str]:
    """Return a class's odd and even paragraphs, as two texts."""
    paragraphs = corpus_text(name).split("\n\n")
    return "\n\n".join(paragraphs[0::2]), "\n\n".join(paragraphs[1::2])


def report(encoding: tiktoken.Encoding, out: TextIO) -> None:
    """Print the refitted rates and the error ranges of the rates in code, refitted and held out."""
    rates = RATES[cast(EncodingName, encoding.name)]

    def count(text: str) -> int:
        return len(encoding.encode_ordinary(text))

    fitted = fit_all(corpus_text, count, rates)
    # fitted on each class's odd paragraphs, measured on its even ones
    held_out = fit_all(lambda name: halves(name)[0], count, rates)
    out.write(f"{encoding.name}: {fitted}\n")
    for name in CLASSES:
        ranges = (
            error_range(corpus_text(name), count, rates),
            error_range(corpus_text(name), count, fitted),
            error_range(halves(name)[1], count, held_out),
        )
        cells = "   ".join(f"{low:+6.1%} {high:+6.1%}" for low, high in ranges)
        out.write(f"  {name:14} {cells}\n")


def main(out: TextIO = sys.stdout) -> int:
    """Report on each encoding; return 1 when the encoding files are absent."""
    encodings = [load_cached_encoding(name) for name in ENCODING_NAMES]
    if None in encodings:
        sys.stderr.write("no encoding files: run python -m scripts.fetch_tokenizers first\n")
        return 1
    out.write(f"error on chunks of >= {REPORT_MIN_TOKENS} tokens: in code, refit, held out\n")
    for encoding in encodings:
        assert encoding is not None
        report(encoding, out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
