import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tokengate.mockprovider.tokens import count_messages, count_tokens, count_value, split_pieces


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("", 0),
        ("hello", 1),
        (" hello world", 2),
        ("internationalization", 4),
        ("12345", 2),
        ("경제", 2),
        ("안녕하세요, 세계!", 9),
        ("a  b", 3),
        ("line\n\nnext", 3),
        ("naïve", 3),
    ],
)
def test_count_tokens(text: str, tokens: int) -> None:
    assert count_tokens(text) == tokens


@settings(database=None, max_examples=200)
@given(st.text())
def test_pieces_are_one_token_each(text: str) -> None:
    pieces = split_pieces(text)
    assert "".join(pieces) == text
    assert len(pieces) == count_tokens(text)
    assert all(count_tokens(piece) == 1 for piece in pieces)


def test_count_value_walks_json() -> None:
    assert count_value(None) == 0
    assert count_value(True) == 0
    assert count_value(3.5) == 1
    assert count_value(["hi", {"text": "there"}]) == 2
    assert count_value({"type": "image_url", "image_url": {"url": "data:" + "A" * 5000}}) == 85


def test_count_messages_adds_openai_overhead() -> None:
    assert count_messages([{"role": "user", "content": "hi"}]) == 3 + (1 + 1) + 3
    named = [{"role": "user", "content": "hi", "name": "kim"}]
    assert count_messages(named) == 3 + (1 + 1 + 1) + 1 + 3
