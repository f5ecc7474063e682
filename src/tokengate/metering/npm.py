"""Rebuilding the official encoding files from the npm package ``tiktoken`` (MIT).

Its ``encoders/<name>.json`` holds the ranks as lines ``! <first rank> <base64 token> ...``;
expanded to one ``<base64 token> <rank>`` line per token they are tiktoken's file, byte for byte.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import json
import tarfile

from tokengate.metering.encodings import EncodingFile

SRI_ALGORITHMS = {"sha512", "sha384", "sha256"}
MAX_MEMBER_BYTES = 64 * 2**20


def verify_integrity(data: bytes, integrity: str) -> None:
    """Raise ValueError unless the data matches a Subresource Integrity string (sha512-...)."""
    algorithm, _, digest = integrity.partition("-")
    if algorithm not in SRI_ALGORITHMS:
        raise ValueError(f"unsupported integrity {integrity!r}")
    try:
        expected = base64.b64decode(digest, validate=True)
    except binascii.Error as exc:
        raise ValueError(f"malformed integrity {integrity!r}") from exc
    if hashlib.new(algorithm, data).digest() != expected:
        raise ValueError(f"the tarball does not match its integrity {integrity}")


def read_encoder_json(tarball: bytes, name: str) -> bytes:
    """Return ``package/encoders/<name>.json`` from the npm package's gzipped tarball."""
    member_name = f"package/encoders/{name}.json"
    with tarfile.open(fileobj=io.BytesIO(tarball), mode="r:gz") as archive:
        try:
            member = archive.getmember(member_name)
        except KeyError as exc:
            raise ValueError(f"the npm package has no {member_name}") from exc
        extracted = archive.extractfile(member) if member.isfile() else None
        if extracted is None or member.size > MAX_MEMBER_BYTES:
            raise ValueError(f"{member_name} is not a regular file of a plausible size")
        return extracted.read()


def expand_ranks(bpe_ranks: str) -> bytes:
    """Expand npm's ``! <offset> <token>...`` groups into tiktoken's ``<token> <rank>`` lines."""
    lines: list[str] = []
    next_rank = 0
    for group in bpe_ranks.splitlines():
        if not group:
            continue
        marker, _, rest = group.partition(" ")
        offset_text, _, tokens_text = rest.partition(" ")
        tokens = tokens_text.split(" ")
        if marker != "!" or not (offset_text.isascii() and offset_text.isdigit()) or "" in tokens:
            raise ValueError(f"malformed rank group {group[:40]!r}")
        offset = int(offset_text)
        if offset < next_rank:
            raise ValueError(f"rank group at {offset} overlaps the ranks before it")
        lines.extend(f"{token} {offset + i}\n" for i, token in enumerate(tokens))
        next_rank = offset + len(tokens)
    return "".join(lines).encode("ascii")


def rebuild_file(encoder_json: bytes, file: EncodingFile) -> bytes:
    """Return the official file rebuilt from npm's encoder JSON, or raise if its sha256 differs."""
    document = json.loads(encoder_json)
    ranks = document.get("bpe_ranks") if isinstance(document, dict) else None
    if not isinstance(ranks, str):
        raise ValueError(f"npm's {file.name}.json has no bpe_ranks string")
    data = expand_ranks(ranks)
    actual = hashlib.sha256(data).hexdigest()
    if actual != file.sha256:
        raise ValueError(f"rebuilt {file.name} has sha256 {actual}, tiktoken expects {file.sha256}")
    return data
