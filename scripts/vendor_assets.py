"""Refresh the dashboard's vendored JavaScript and CSS from the npm registry (`make vendor`).

Each file is taken from a pinned package version whose tarball must match the integrity the
registry published; nothing is ever loaded from a CDN at run time. The files are committed under
``src/tokengate/static/vendor/`` with the package's licence; this script only refreshes them
when a pin changes.
"""

from __future__ import annotations

import argparse
import io
import sys
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from scripts.npm_registry import Pinned, download, write_atomically

ROOT = Path(__file__).resolve().parent.parent
VENDOR = ROOT / "src" / "tokengate" / "static" / "vendor"
# what only the browser tests load (axe-core): kept out of the package
TEST_VENDOR = ROOT / "tests" / "dashboard" / "vendor"
MAX_FILE_BYTES = 16 * 2**20


@dataclass(frozen=True)
class Asset:
    package: Pinned
    folder: str
    # path inside the tarball -> name under the folder
    files: dict[str, str]
    # served by the app (under --dest) or only loaded by the browser tests
    for_tests: bool = False


ASSETS = (
    Asset(
        Pinned(
            "swagger-ui-dist",
            "5.35.0",
            "sha512-U06rpMtW9V3XPGOBeamTUSr0Z09jMX4IJuANpE/EZbAhw0G8CgwrzU4YmXkn/h0wCDNsXdGarTNNHC3sU8yVUQ==",
        ),
        "swagger-ui",
        {
            "package/swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "package/swagger-ui.css": "swagger-ui.css",
            "package/LICENSE": "LICENSE",
        },
    ),
    Asset(
        Pinned(
            "htmx.org",
            "2.0.11",
            "sha512-Thx/WtpeOQqSrqBCw/A1cwGJGg4UrVa3+sW0GmrM3p4gJgO89ecH4qtbnyzDDWFvBTqjnIMCgELTNt636dtamA==",
        ),
        "htmx",
        {"package/dist/htmx.min.js": "htmx.min.js", "package/LICENSE": "LICENSE"},
    ),
    Asset(
        Pinned(
            "alpinejs",
            "3.17.5",
            "sha512-XewMqRC6zjy8iaUPn86dxjvooAsNai3hUtQbdn0A5H2w7Jt10xHGZ1SczN5+Dvp3UKkuSEt9moy/UaUWOwKdnQ==",
        ),
        "alpinejs",
        {
            "package/dist/cdn.min.js": "alpine.min.js",
            # the package ships no licence file: its package.json records MIT
            "package/package.json": "package.json",
        },
    ),
    Asset(
        Pinned(
            "echarts",
            "6.1.0",
            "sha512-q0yaFPggC9FUdsWH4blavRWFmxdrIodbkoKNAjJudAI6CA9gNPxHtV2RcZNEepZVlk4yvBYkOkbk6HIVpIyHZA==",
        ),
        "echarts",
        {
            "package/dist/echarts.min.js": "echarts.min.js",
            "package/i18n/langKO.js": "langKO.js",
            "package/LICENSE": "LICENSE",
        },
    ),
    Asset(
        Pinned(
            "axe-core",
            "4.14.1",
            "sha512-FHfa+lmNjQZfJz1q8wKqIDwC6DExcHt/pkjNQb09a3NPjCKg2rhu5qb2S4r76ASyFNNtuFooJpZe37OgudVGtQ==",
        ),
        "axe-core",
        {"package/axe.min.js": "axe.min.js", "package/LICENSE": "LICENSE"},
        for_tests=True,
    ),
)


def main(argv: list[str] | None = None, out: TextIO = sys.stdout) -> int:
    """Fetch every asset; return 1 with a reason when one cannot be fetched or checked."""
    parser = argparse.ArgumentParser(prog="python -m scripts.vendor_assets", description=__doc__)
    parser.add_argument("--dest", type=Path, default=VENDOR, help=f"folder ({VENDOR})")
    parser.add_argument(
        "--test-dest", type=Path, default=TEST_VENDOR, help=f"test-only folder ({TEST_VENDOR})"
    )
    args = parser.parse_args(argv)
    for asset in ASSETS:
        dest = Path(args.test_dest if asset.for_tests else args.dest)
        pin = f"{asset.package.name}@{asset.package.version}"
        try:
            tarball = download(asset.package)
            for inside, name in asset.files.items():
                write_atomically(dest / asset.folder / name, _member(tarball, inside))
        except (OSError, ValueError) as exc:
            sys.stderr.write(f"vendor_assets: {pin}: {exc}\n")
            return 1
        out.write(f"{pin}: {', '.join(asset.files.values())} -> {dest / asset.folder}\n")
    return 0


def _member(tarball: bytes, name: str) -> bytes:
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        try:
            member = archive.getmember(name)
        except KeyError as exc:
            raise ValueError(f"the package has no {name}") from exc
        extracted = archive.extractfile(member) if member.isfile() else None
        if extracted is None or member.size > MAX_FILE_BYTES:
            raise ValueError(f"{name} is not a regular file of a plausible size")
        return extracted.read()


if __name__ == "__main__":
    sys.exit(main())
