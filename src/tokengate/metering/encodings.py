"""The official tiktoken encoding files: what they are, and where tiktoken's cache keeps them.

Each file's URL and sha256 are read from the installed ``tiktoken_ext/openai_public.py``, the
same values tiktoken checks, so they follow the pinned tiktoken rather than anyone's memory.
"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

EncodingName = Literal["cl100k_base", "o200k_base"]
ENCODING_NAMES: tuple[EncodingName, ...] = ("cl100k_base", "o200k_base")
# model names, less any provider prefix, that OpenAI tokenizes with o200k_base
O200K_MODELS = re.compile(r"(gpt-4o|chatgpt-4o|gpt-4\.1|gpt-4\.5|gpt-5|gpt-oss|o[1-9])(\b|-|$)")
# and those it tokenizes with cl100k_base
CL100K_MODELS = re.compile(
    r"(gpt-4(?![.o0-9])|gpt-3\.5|gpt-35|text-embedding-3|text-embedding-ada-002)"
)


def encoding_for_model(model_family: str | None) -> EncodingName:
    """Return the encoding to count with: o200k_base for gpt-4o, 4.1, 5, o-series; else cl100k."""
    return "o200k_base" if O200K_MODELS.match(_bare_name(model_family)) else "cl100k_base"


def is_own_encoding(model_family: str | None) -> bool:
    """Whether encoding_for_model names the model's own tokenizer rather than a stand-in."""
    name = _bare_name(model_family)
    return O200K_MODELS.match(name) is not None or CL100K_MODELS.match(name) is not None


def _bare_name(model_family: str | None) -> str:
    # "azure/gpt-4o" and "ft:gpt-4o-mini:org::id" are gpt-4o models
    name = (model_family or "").rsplit("/", 1)[-1].lower()
    return name.removeprefix("ft:")


@dataclass(frozen=True, slots=True)
class EncodingFile:
    """An official encoding file: its name, the URL tiktoken loads it from and its sha256."""

    name: str
    url: str
    sha256: str

    @property
    def cache_name(self) -> str:
        """Return the name tiktoken's cache gives this file: the sha1 of its URL."""
        return hashlib.sha1(self.url.encode(), usedforsecurity=False).hexdigest()


@cache
def official_files() -> dict[str, EncodingFile]:
    """Return cl100k_base and o200k_base as the installed tiktoken loads and checks them."""
    spec = importlib.util.find_spec("tiktoken_ext.openai_public")
    if spec is None or spec.origin is None:
        raise LookupError("tiktoken_ext.openai_public is not installed")
    tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
    files: dict[str, EncodingFile] = {
        node.name: _loaded_file(node)
        for node in tree.body
        if isinstance(node, ast.FunctionDef) and node.name in ENCODING_NAMES
    }
    missing = sorted(set(ENCODING_NAMES) - files.keys())
    if missing:
        raise LookupError(f"tiktoken_ext.openai_public defines no {', '.join(missing)}")
    return files


def _loaded_file(function: ast.FunctionDef) -> EncodingFile:
    for node in ast.walk(function):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "load_tiktoken_bpe"
            and node.args
            and isinstance(url := node.args[0], ast.Constant)
            and isinstance(url.value, str)
        ):
            for keyword in node.keywords:
                value = keyword.value
                if keyword.arg == "expected_hash" and isinstance(value, ast.Constant):
                    return EncodingFile(function.name, url.value, str(value.value))
    raise LookupError(f"tiktoken's {function.name}() no longer loads one file with a known hash")


def tiktoken_cache_dir(environ: Mapping[str, str]) -> Path | None:
    """Return the directory tiktoken reads cached files from, or None when its cache is off."""
    # the same precedence as tiktoken.load.read_file_cached
    if "TIKTOKEN_CACHE_DIR" in environ:
        directory = environ["TIKTOKEN_CACHE_DIR"]
    elif "DATA_GYM_CACHE_DIR" in environ:
        directory = environ["DATA_GYM_CACHE_DIR"]
    else:
        directory = str(Path(tempfile.gettempdir()) / "data-gym-cache")
    return Path(directory) if directory else None


def verified_cache_file(cache_dir: Path, file: EncodingFile) -> Path | None:
    """Return the cached copy of the file when it exists and has the official sha256."""
    path = cache_dir / file.cache_name
    try:
        data = path.read_bytes()
    except OSError:
        return None
    return path if hashlib.sha256(data).hexdigest() == file.sha256 else None
