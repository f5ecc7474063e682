from __future__ import annotations

import pytest
import tiktoken
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.metering.corpus import (
    CLASSES,
    KOREAN_AND_ENGLISH,
    chunks,
    corpus_text,
    relative_error,
)
from tokengate.metering.encodings import ENCODING_NAMES, EncodingName
from tokengate.metering.tokens import (
    Features,
    chat_prompt_text,
    estimate_chat_prompt,
    estimate_tokens,
    text_features,
    token_upper_bound,
)

# the bounds tokens.py's docstring states, on texts of at least BOUND_MIN_TOKENS
KOREAN_AND_ENGLISH_BOUND = 0.10
OTHER_SCRIPTS_BOUND = 0.20
BOUND_MIN_TOKENS = 200
# a model of each encoding, to reach it through the public signature
MODEL_OF: dict[EncodingName, str] = {"cl100k_base": "gpt-4", "o200k_base": "gpt-4o"}
FAMILIES = st.sampled_from([None, "gpt-4o", "claude-sonnet-4-5"])


def test_features_follow_the_pre_tokenizer_cuts():
    assert text_features("Hi, 1234567 ab!\n\n  x  9 한국어 말 漢字 é".encode()) == Features(
        words=3,  # Hi, ab, x (é is not an ASCII letter)
        digit_groups=4,  # 123 456 7, 9
        punctuation_runs=2,  # ",", "!"
        punctuation_before_words=0,
        spaces_before_digits=2,
        space_runs=2,
        line_breaks=1,
        hangul=4,
        hangul_words=2,
        cjk=2,
        other=1,
    )


def test_digits_are_cut_in_groups_of_three():
    for digits, groups in [("1", 1), ("123", 1), ("1234", 2), ("123456", 2), ("1234567", 3)]:
        assert text_features(f"a{digits} {digits}".encode()).digit_groups == 2 * groups


def test_a_punctuation_mark_before_a_word_joins_it():
    features = text_features(b"self.events (x) _private")
    assert (features.punctuation_runs, features.punctuation_before_words) == (4, 3)


def test_empty_text_is_zero_tokens():
    assert estimate_tokens("") == 0
    assert estimate_tokens("", model_family="gpt-4o") == 0


@settings(database=None, max_examples=300)
@given(st.text(min_size=1), FAMILIES)
def test_the_estimate_is_never_zero_nor_above_the_byte_bound(text: str, family: str | None):
    assert 1 <= estimate_tokens(text, model_family=family) <= token_upper_bound(text)


def test_a_lone_surrogate_does_not_break_the_estimate():
    assert estimate_tokens("ok \ud800 ok") >= 1


def test_korean_costs_more_under_cl100k_than_o200k():
    messages = [{"role": "user", "content": corpus_text("korean_column")}]
    assert estimate_chat_prompt(messages, model_family="gpt-4o") < estimate_chat_prompt(messages)


def test_chat_prompt_text_takes_strings_and_text_parts():
    messages = [
        {"role": "user", "content": [{"type": "text", "text": "look"}, {"type": "image_url"}]},
        {"role": "assistant", "content": None},
        "not a message",
    ]
    assert chat_prompt_text(messages) == ["look", "user", "assistant"]


def test_chat_prompt_adds_the_per_message_overhead():
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    parts = ["Be brief.", "system", "Hi", "user"]
    assert estimate_chat_prompt(messages) == sum(map(estimate_tokens, parts)) + 2 * 4 + 3


@pytest.mark.parametrize("name", CLASSES)
@pytest.mark.parametrize("encoding_name", ENCODING_NAMES)
def test_the_estimate_stays_within_its_documented_bound(
    encodings: dict[EncodingName, tiktoken.Encoding], encoding_name: EncodingName, name: str
):
    encoding = encodings[encoding_name]

    def count(text: str) -> int:
        return len(encoding.encode_ordinary(text))

    bound = KOREAN_AND_ENGLISH_BOUND if name in KOREAN_AND_ENGLISH else OTHER_SCRIPTS_BOUND
    text = corpus_text(name)
    for chunk in [text, *chunks(text, count, BOUND_MIN_TOKENS)]:
        estimate = estimate_tokens(chunk, model_family=MODEL_OF[encoding_name])
        error = relative_error(estimate, count(chunk))
        assert abs(error) <= bound, f"{name}: {error:+.1%} on {chunk[:40]!r}"


@pytest.mark.parametrize("name", CLASSES)
def test_the_byte_bound_holds_on_the_corpus(
    encodings: dict[EncodingName, tiktoken.Encoding], name: str
):
    text = corpus_text(name)
    for encoding in encodings.values():
        assert token_upper_bound(text) >= len(encoding.encode_ordinary(text))


@settings(database=None, max_examples=300)
@given(text=st.text())
def test_no_text_has_more_tokens_than_bytes(
    encodings: dict[EncodingName, tiktoken.Encoding], text: str
):
    for encoding in encodings.values():
        assert token_upper_bound(text) >= len(encoding.encode_ordinary(text))
