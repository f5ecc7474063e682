from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pytest

from tokengate.metering.encodings import (
    ENCODING_NAMES,
    EncodingFile,
    encoding_for_model,
    is_own_encoding,
    official_files,
    tiktoken_cache_dir,
    verified_cache_file,
)

O200K = [
    "gpt-4o",
    "gpt-4o-mini-2024-07-18",
    "openai/gpt-4.1-nano",
    "gpt-4.5-preview",
    "gpt-5",
    "gpt-5.1-codex",
    "o1",
    "o3-mini",
    "o4-mini",
    "chatgpt-4o-latest",
    "gpt-oss-120b",
    "ft:gpt-4o-mini:acme::abc123",
    "azure/GPT-4o",
]
CL100K = [
    "gpt-4",
    "gpt-4-turbo",
    "gpt-4-0613",
    "gpt-3.5-turbo",
    "text-embedding-3-small",
    "text-embedding-ada-002",
]
OTHERS = [
    "claude-sonnet-4-5",
    "llama-3.1-70b",
    "gemini-2.5-pro",
    "gpt-4.2",
    "omni-moderation-latest",
    "",
    None,
]


def test_official_files_are_read_from_the_installed_tiktoken():
    files = official_files()
    assert sorted(files) == sorted(ENCODING_NAMES)
    for name, file in files.items():
        assert file.name == name
        assert file.url == f"https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
        assert len(file.sha256) == 64 and int(file.sha256, 16) >= 0


def test_cache_name_is_the_sha1_of_the_url_as_tiktoken_keys_its_cache():
    file = EncodingFile("x", "https://example.invalid/x.tiktoken", "0" * 64)
    assert file.cache_name == hashlib.sha1(file.url.encode()).hexdigest()  # noqa: S324


@pytest.mark.parametrize("model", O200K)
def test_gpt_4o_4_1_5_and_o_series_use_o200k(model: str):
    assert encoding_for_model(model) == "o200k_base"
    assert is_own_encoding(model)


@pytest.mark.parametrize("model", CL100K)
def test_gpt_4_and_3_5_use_cl100k(model: str):
    assert encoding_for_model(model) == "cl100k_base"
    assert is_own_encoding(model)


@pytest.mark.parametrize("model", OTHERS)
def test_other_models_are_counted_with_cl100k_as_a_stand_in(model: str | None):
    assert encoding_for_model(model) == "cl100k_base"
    assert not is_own_encoding(model)


def test_cache_dir_follows_tiktoken_precedence():
    default = Path(tempfile.gettempdir()) / "data-gym-cache"
    assert tiktoken_cache_dir({}) == default
    assert tiktoken_cache_dir({"DATA_GYM_CACHE_DIR": "/gym"}) == Path("/gym")
    both = {"TIKTOKEN_CACHE_DIR": "/tk", "DATA_GYM_CACHE_DIR": "/gym"}
    assert tiktoken_cache_dir(both) == Path("/tk")
    # an empty TIKTOKEN_CACHE_DIR turns tiktoken's cache off: it would download every time
    assert tiktoken_cache_dir({"TIKTOKEN_CACHE_DIR": "", "DATA_GYM_CACHE_DIR": "/gym"}) is None


def test_a_cached_file_counts_only_with_the_official_hash(tmp_path: Path):
    data = b"QQ== 0\n"
    file = EncodingFile("x", "https://example.invalid/x.tiktoken", hashlib.sha256(data).hexdigest())
    assert verified_cache_file(tmp_path, file) is None
    (tmp_path / file.cache_name).write_bytes(b"QQ== 1\n")
    assert verified_cache_file(tmp_path, file) is None
    (tmp_path / file.cache_name).write_bytes(data)
    assert verified_cache_file(tmp_path, file) == tmp_path / file.cache_name
