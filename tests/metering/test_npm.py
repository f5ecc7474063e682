from __future__ import annotations

import base64
import hashlib
import io
import json
import tarfile

import pytest

from tokengate.metering.encodings import EncodingFile
from tokengate.metering.npm import expand_ranks, read_encoder_json, rebuild_file, verify_integrity

# a tiny encoder in npm's format: tokens "A", "B", "C" at 0-2, then "AB" at 5 after a gap
NPM_RANKS = "! 0 QQ== Qg== Qw==\n! 5 QUI="
TIKTOKEN_FILE = b"QQ== 0\nQg== 1\nQw== 2\nQUI= 5\n"
ENCODER_JSON = json.dumps(
    {"pat_str": r"\p{L}+", "special_tokens": {"<|endoftext|>": 6}, "bpe_ranks": NPM_RANKS}
).encode()


def tiny_file(data: bytes = TIKTOKEN_FILE) -> EncodingFile:
    return EncodingFile(
        "tiny", "https://example.invalid/tiny.tiktoken", hashlib.sha256(data).hexdigest()
    )


def npm_tarball(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def sri(data: bytes, algorithm: str = "sha512") -> str:
    return f"{algorithm}-{base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def test_groups_expand_to_one_line_per_token_with_its_rank():
    assert expand_ranks(NPM_RANKS) == TIKTOKEN_FILE
    assert expand_ranks(NPM_RANKS.replace("\n", "\n\n") + "\n") == TIKTOKEN_FILE
    assert expand_ranks("") == b""


@pytest.mark.parametrize(
    "ranks",
    [
        "? 0 QQ==",  # not a group
        "! x QQ==",  # no offset
        "! ٣ QQ==",  # a digit, but not an ASCII one
        "! 0",  # no tokens
        "! 0 QQ==  Qg==",  # an empty token
        "! 0 QQ== Qg==\n! 1 Qw==",  # ranks that overlap
    ],
)
def test_malformed_groups_are_refused(ranks: str):
    with pytest.raises(ValueError, match="rank group"):
        expand_ranks(ranks)


def test_rebuild_checks_the_official_hash():
    assert rebuild_file(ENCODER_JSON, tiny_file()) == TIKTOKEN_FILE
    with pytest.raises(ValueError, match="tiktoken expects"):
        rebuild_file(ENCODER_JSON, tiny_file(b"something else"))


@pytest.mark.parametrize("document", [b"[]", b'{"bpe_ranks": 3}', b'{"pat_str": ""}'])
def test_rebuild_needs_a_bpe_ranks_string(document: bytes):
    with pytest.raises(ValueError, match="no bpe_ranks"):
        rebuild_file(document, tiny_file())


def test_the_encoder_json_is_read_from_the_tarball_without_extracting_it():
    tarball = npm_tarball(
        {"package/package.json": b"{}", "package/encoders/tiny.json": ENCODER_JSON}
    )
    assert read_encoder_json(tarball, "tiny") == ENCODER_JSON
    with pytest.raises(ValueError, match=r"no package/encoders/other\.json"):
        read_encoder_json(tarball, "other")


def test_a_link_in_place_of_the_encoder_json_is_refused():
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        link = tarfile.TarInfo("package/encoders/tiny.json")
        link.type = tarfile.SYMTYPE
        link.linkname = "/etc/passwd"
        archive.addfile(link)
    with pytest.raises(ValueError, match="not a regular file"):
        read_encoder_json(buffer.getvalue(), "tiny")


@pytest.mark.parametrize("algorithm", ["sha512", "sha384", "sha256"])
def test_integrity_accepts_the_matching_digest(algorithm: str):
    verify_integrity(b"tarball", sri(b"tarball", algorithm))


@pytest.mark.parametrize(
    ("integrity", "message"),
    [
        (sri(b"another tarball"), "does not match"),
        ("md5-" + base64.b64encode(hashlib.md5(b"tarball").digest()).decode(), "unsupported"),  # noqa: S324
        ("sha512-not base64!", "malformed"),
        ("", "unsupported"),
    ],
)
def test_integrity_refuses_anything_else(integrity: str, message: str):
    with pytest.raises(ValueError, match=message):
        verify_integrity(b"tarball", integrity)
