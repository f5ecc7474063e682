import pytest

from tokengate.mockprovider import phrases
from tokengate.mockprovider.text import CORPUS_SENTENCES, generate_pieces, language_for, seed_for
from tokengate.mockprovider.tokens import count_tokens

KOREAN_BANKS = (phrases.KOREAN_OPENERS, phrases.KOREAN_MIDDLES, phrases.KOREAN_CLOSINGS)


@pytest.mark.parametrize(
    ("model", "language"),
    [
        ("C1", "ko"),
        ("column-c2-large", "ko"),
        ("gpt-c7", "ko"),
        ("claude-sonnet-5", "ko"),
        ("gpt-4o-mini", "en"),
        ("mock-en", "en"),
    ],
)
def test_language_for(model: str, language: str) -> None:
    assert language_for(model) == language


def test_phrase_bank_is_large_enough() -> None:
    assert sum(len(bank) for bank in KOREAN_BANKS) >= 40
    assert all(closing.endswith(".") for closing in phrases.KOREAN_CLOSINGS)
    assert all(middle.endswith(",") for middle in phrases.KOREAN_MIDDLES)


def test_generation_is_deterministic_per_seed() -> None:
    seed = seed_for(b"c1", b"[]")
    assert seed == seed_for(b"c1", b"[]")
    first = generate_pieces(model="c1", seed=seed, count=60)
    assert first == generate_pieces(model="c1", seed=seed, count=60)
    assert first != generate_pieces(model="c1", seed=seed + 1, count=60)
    assert generate_pieces(model="c1", seed=seed, count=10) == first[:10]


def test_korean_column_prose() -> None:
    text = "".join(generate_pieces(model="c1", seed=7, count=400))
    assert count_tokens(text) == 400
    assert not text.startswith(" ")
    assert "  " not in text
    assert ". " in text
    assert ", " in text
    sentence = text.split(". ")[1] + "."
    assert any(sentence.startswith(opener) for opener in phrases.KOREAN_OPENERS)
    assert any(sentence.endswith(closing) for closing in phrases.KOREAN_CLOSINGS)


def test_long_answers_wrap_around_the_corpus() -> None:
    count = CORPUS_SENTENCES * 80
    pieces = generate_pieces(model="gpt-4o", seed=3, count=count)
    assert len(pieces) == count
    assert count_tokens("".join(pieces)) == count


def test_zero_tokens() -> None:
    assert generate_pieces(model="c1", seed=1, count=0) == []
