"""Put tiktoken's cl100k_base and o200k_base files into a tiktoken cache directory.

tiktoken's own download host is unreachable from our machines, so the files are rebuilt from the
npm package ``tiktoken`` (MIT), fetched from registry.npmjs.org only, checked against its pinned
integrity and then against the sha256 that tiktoken itself expects. Point TIKTOKEN_CACHE_DIR at
the destination and tokengate counts tokens exactly; without the files it estimates them.
"""

from __future__ import annotations

import argparse
import hashlib
import http.client
import sys
from pathlib import Path
from typing import TextIO

from scripts.npm_registry import REGISTRY, Pinned, download, write_atomically
from tokengate.metering.encodings import EncodingFile, official_files, verified_cache_file
from tokengate.metering.npm import read_encoder_json, rebuild_file

NPM_VERSION = "1.0.22"
# dist.integrity and dist.shasum of tiktoken@1.0.22, as the registry published them
INTEGRITY = (
    "sha512-PKvy1rVF1RibfF3JlXBSP0Jrcw2uq3yXdgcEXtKTYn3QJ/"
    "cBRBHDnrJ5jHky+MENZ6DIPwNUGWpkVx+7joCpNA=="
)
SHASUM = "a6c674839228bb88f32dfe646dff47193762f7d3"
PACKAGE = Pinned("tiktoken", NPM_VERSION, INTEGRITY)
DEFAULT_DEST = Path(__file__).resolve().parent.parent / ".cache" / "tiktoken"
TIMEOUT_S = 60.0


def parse_options(argv: list[str] | None = None) -> Path:
    """Read the command line; return the destination directory."""
    parser = argparse.ArgumentParser(prog="python -m scripts.fetch_tokenizers", description=__doc__)
    parser.add_argument(
        "--dest", type=Path, default=DEFAULT_DEST, help=f"cache directory ({DEFAULT_DEST})"
    )
    return Path(parser.parse_args(argv).dest)


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Fetch the files that are missing or damaged; return 1 with a reason when that fails."""
    dest = parse_options(argv).resolve()
    files = list(official_files().values())
    missing = [f for f in files if verified_cache_file(dest, f) is None]
    if missing:
        try:
            _install(missing, dest)
        except (OSError, ValueError, http.client.HTTPException) as exc:
            sys.stderr.write(
                f"fetch_tokenizers: could not fetch tiktoken@{NPM_VERSION} from {REGISTRY}: "
                f"{exc}\nTokengate still runs, estimating token counts instead of counting "
                "them, until this command succeeds.\n"
            )
            return 1
    for file in files:
        state = "fetched" if file in missing else "present"
        out.write(f"{file.name}: {state} {dest / file.cache_name}\n")
    out.write(f"export TIKTOKEN_CACHE_DIR={dest}\n")
    return 0


def _install(files: list[EncodingFile], dest: Path) -> None:
    tarball = _download_tarball()
    dest.mkdir(parents=True, exist_ok=True)
    for file in files:
        data = rebuild_file(read_encoder_json(tarball, file.name), file)
        write_atomically(dest / file.cache_name, data)


def _download_tarball() -> bytes:
    tarball = download(PACKAGE)
    if hashlib.sha1(tarball, usedforsecurity=False).hexdigest() != SHASUM:
        raise ValueError("the tarball does not match its shasum")
    return tarball


if __name__ == "__main__":
    sys.exit(main())
