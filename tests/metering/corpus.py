"""The calibration corpus: texts written for these tests, and how they are cut and compared."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

CORPUS_DIR = Path(__file__).parent / "corpus"
# the classes whose estimate error tokens.py documents and test_tokens.py holds it to
KOREAN_AND_ENGLISH = ("korean_column", "english_prose", "code", "mixed_ko_en", "numbers_punct")
OTHER_SCRIPTS = "other_scripts"
CLASSES = (*KOREAN_AND_ENGLISH, OTHER_SCRIPTS)


def corpus_text(name: str) -> str:
    """Return one corpus class's text."""
    return (CORPUS_DIR / f"{name}.txt").read_text(encoding="utf-8")


def chunks(text: str, count: Callable[[str], int], min_tokens: int) -> list[str]:
    """Cut a text into runs of whole paragraphs of at least min_tokens each (the last may merge)."""
    cut: list[str] = []
    pending: list[str] = []
    for paragraph in text.split("\n\n"):
        pending.append(paragraph)
        if count("\n\n".join(pending)) >= min_tokens:
            cut.append("\n\n".join(pending))
            pending = []
    if pending:
        tail = "\n\n".join(pending)
        if cut:
            cut[-1] = f"{cut[-1]}\n\n{tail}"
        else:
            cut.append(tail)
    return cut


def relative_error(estimate: float, exact: int) -> float:
    """Return (estimate - exact) / exact."""
    return (estimate - exact) / exact
