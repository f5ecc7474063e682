from __future__ import annotations

import pytest
import tiktoken

from tokengate.metering.encodings import ENCODING_NAMES, EncodingName
from tokengate.metering.tokenizer import load_cached_encoding

MISSING_FILES = (
    "tiktoken's encoding files are not in TIKTOKEN_CACHE_DIR: run "
    "`uv run python -m scripts.fetch_tokenizers` and export TIKTOKEN_CACHE_DIR=.cache/tiktoken"
)


@pytest.fixture(scope="session")
def encodings() -> dict[EncodingName, tiktoken.Encoding]:
    """The real encoders, loaded from tiktoken's cache; skips the test when they are absent."""
    loaded = {name: load_cached_encoding(name) for name in ENCODING_NAMES}
    present = {name: encoding for name, encoding in loaded.items() if encoding is not None}
    if len(present) < len(loaded):
        pytest.skip(MISSING_FILES)
    return present
