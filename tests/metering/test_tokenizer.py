from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import tiktoken

from tests.metering.corpus import CLASSES, corpus_text
from tokengate.metering.encodings import EncodingName, official_files, tiktoken_cache_dir
from tokengate.metering.tokenizer import TokenCount, Tokenizer, count_tokens, default_tokenizer
from tokengate.metering.tokens import estimate_tokens

TEXT = "토큰 수를 셉니다: tokengate counts 1,234 tokens."
# prints what count_tokens makes of TEXT in a process whose environment the test chooses
PROBE = (
    "from tokengate.metering.tokenizer import count_tokens; "
    f"print(count_tokens({TEXT!r}, model_family='gpt-4o'))"
)


def probe(cache_dir: Path) -> str:
    # a dead proxy: were tiktoken to try a download, it would fail at once and loudly
    env = {
        **os.environ,
        "TIKTOKEN_CACHE_DIR": str(cache_dir),
        "HTTPS_PROXY": "http://127.0.0.1:9",
        "HTTP_PROXY": "http://127.0.0.1:9",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_without_encoding_files_the_count_is_estimated():
    tokenizer = Tokenizer(load=lambda name: None)
    assert tokenizer.count(TEXT, model_family="gpt-4o") == TokenCount(
        estimate_tokens(TEXT, model_family="gpt-4o"), None, exact=False
    )
    assert tokenizer.count("").tokens == 0


def test_each_encoding_is_loaded_once_across_threads():
    calls: list[EncodingName] = []
    started = threading.Barrier(8)

    def load(name: EncodingName) -> tiktoken.Encoding | None:
        calls.append(name)
        return None

    tokenizer = Tokenizer(load=load)

    def count(family: str) -> None:
        started.wait()
        tokenizer.count(TEXT, model_family=family)

    threads = [
        threading.Thread(target=count, args=("gpt-4o" if i % 2 else "gpt-4",)) for i in range(8)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(calls) == ["cl100k_base", "o200k_base"]


def test_the_process_shares_one_tokenizer():
    assert default_tokenizer() is default_tokenizer()


def test_an_empty_cache_estimates_without_downloading(tmp_path: Path):
    expected = TokenCount(estimate_tokens(TEXT, model_family="gpt-4o"), None, exact=False)
    assert probe(tmp_path) == repr(expected)


def test_a_damaged_file_is_neither_used_nor_replaced(tmp_path: Path):
    damaged = tmp_path / official_files()["o200k_base"].cache_name
    damaged.write_bytes(b"QQ== 0\n")
    assert "encoding=None" in probe(tmp_path)
    # tiktoken itself would have deleted it and tried to download a fresh copy
    assert damaged.read_bytes() == b"QQ== 0\n"


def test_cached_files_are_used(encodings: dict[EncodingName, tiktoken.Encoding], tmp_path: Path):
    cache_dir = tiktoken_cache_dir(os.environ)
    assert cache_dir is not None
    cache_name = official_files()["o200k_base"].cache_name
    shutil.copy(cache_dir / cache_name, tmp_path / cache_name)
    tokens = len(encodings["o200k_base"].encode_ordinary(TEXT))
    assert probe(tmp_path) == repr(TokenCount(tokens, "o200k_base", exact=True))


def test_counts_are_tiktoken_counts(encodings: dict[EncodingName, tiktoken.Encoding]):
    for name in CLASSES:
        text = corpus_text(name)
        assert count_tokens(text, model_family="gpt-4o") == TokenCount(
            len(encodings["o200k_base"].encode_ordinary(text)), "o200k_base", exact=True
        )
        assert count_tokens(text, model_family="gpt-4") == TokenCount(
            len(encodings["cl100k_base"].encode_ordinary(text)), "cl100k_base", exact=True
        )


def test_other_models_are_counted_with_cl100k_but_not_called_exact(
    encodings: dict[EncodingName, tiktoken.Encoding],
):
    count = count_tokens(TEXT, model_family="claude-sonnet-4-5")
    assert count == TokenCount(
        len(encodings["cl100k_base"].encode_ordinary(TEXT)), "cl100k_base", exact=False
    )
    assert count_tokens(TEXT) == count


def test_special_token_text_is_counted_as_plain_text(
    encodings: dict[EncodingName, tiktoken.Encoding],
):
    text = "ignore this: <|endoftext|>"
    assert count_tokens(text, model_family="gpt-4o").tokens == len(
        encodings["o200k_base"].encode_ordinary(text)
    )
