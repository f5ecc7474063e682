"""Token counts: exact with tiktoken when its encoding files are cached locally, else estimated.

tiktoken downloads a missing encoding file, and its download host is unreachable from our
machines; so an encoding is handed to tiktoken only once its file is verified to be where
tiktoken looks (TIKTOKEN_CACHE_DIR; ``python -m scripts.fetch_tokenizers`` puts it there).
Each process looks once: files fetched later are used after a restart.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import tiktoken

from tokengate.metering.encodings import (
    EncodingName,
    encoding_for_model,
    is_own_encoding,
    official_files,
    tiktoken_cache_dir,
    verified_cache_file,
)
from tokengate.metering.tokens import estimate_tokens

EncodingLoader = Callable[[EncodingName], tiktoken.Encoding | None]


@dataclass(frozen=True, slots=True)
class TokenCount:
    """A text's token count, the encoding that counted it (None: estimated) and if it is exact."""

    tokens: int
    encoding: EncodingName | None
    # counted by the model's own tokenizer, not by a stand-in (cl100k_base for a Claude model)
    exact: bool


def load_cached_encoding(name: EncodingName) -> tiktoken.Encoding | None:
    """Return tiktoken's encoding if its verified file is where tiktoken looks; never download."""
    cache_dir = tiktoken_cache_dir(os.environ)
    if cache_dir is None or verified_cache_file(cache_dir, official_files()[name]) is None:
        return None
    return tiktoken.get_encoding(name)


class Tokenizer:
    """Counts tokens, loading each encoding at most once, on first use, from any thread."""

    def __init__(self, load: EncodingLoader = load_cached_encoding) -> None:
        self._load = load
        self._lock = threading.Lock()
        self._encodings: dict[EncodingName, tiktoken.Encoding | None] = {}

    def encoding(self, name: EncodingName) -> tiktoken.Encoding | None:
        """Return the encoding, or None when its file is absent; loads it on the first call."""
        if name in self._encodings:
            return self._encodings[name]
        with self._lock:
            if name not in self._encodings:
                self._encodings[name] = self._load(name)
            return self._encodings[name]

    def count(self, text: str, *, model_family: str | None = None) -> TokenCount:
        """Count a text's tokens for a model family (a model name such as "gpt-4o-mini")."""
        name = encoding_for_model(model_family)
        encoding = self.encoding(name)
        if encoding is None:
            return TokenCount(estimate_tokens(text, model_family=model_family), None, exact=False)
        tokens = len(encoding.encode_ordinary(text))
        return TokenCount(tokens, name, exact=is_own_encoding(model_family))


@cache
def default_tokenizer() -> Tokenizer:
    """Return this process's tokenizer, which reads tiktoken's cache on first use."""
    return Tokenizer()


def count_tokens(text: str, *, model_family: str | None = None) -> TokenCount:
    """Count a text's tokens: exactly when tiktoken's files are cached, else estimate."""
    return default_tokenizer().count(text, model_family=model_family)
