import base64

import pytest

from tokengate.translate.content import anthropic_block, openai_part, parse_data_url
from tokengate.translate.fields import JsonObject

PDF_DATA = base64.b64encode(b"%PDF-1.7 minimal").decode()


def image_part(url: object) -> JsonObject:
    return {"type": "image_url", "image_url": {"url": url, "detail": "high"}}


@pytest.mark.parametrize(
    ("url", "media_type", "data"),
    [
        ("data:image/png;base64,AAAA", "image/png", "AAAA"),
        ("data:image/JPG;base64,AAAA", "image/jpeg", "AAAA"),
        ("data:image/webp;name=x.webp;base64,QQ==", "image/webp", "QQ=="),
    ],
)
def test_data_url_images_become_base64_blocks(url: str, media_type: str, data: str) -> None:
    assert anthropic_block(image_part(url), "p") == {
        "type": "image",
        "source": {"type": "base64", "media_type": media_type, "data": data},
    }


def test_http_images_become_url_blocks() -> None:
    for url in ("https://example.com/a.png", "http://example.com/b.gif"):
        assert anthropic_block(image_part(url), "p") == {
            "type": "image",
            "source": {"type": "url", "url": url},
        }


def test_bare_string_image_url_is_accepted() -> None:
    part = {"type": "image_url", "image_url": "https://example.com/a.png"}
    assert anthropic_block(part, "p") == {
        "type": "image",
        "source": {"type": "url", "url": "https://example.com/a.png"},
    }


@pytest.mark.parametrize(
    ("part", "error"),
    [
        (image_part("data:image/png,AAAA"), "only base64 data URLs"),
        (image_part("data:image/bmp;base64,AAAA"), "image type 'image/bmp' is not supported"),
        (image_part("ftp://example.com/a.png"), "must be an http"),
        (image_part(None), r"p.image_url.url: must be a string"),
        ({"type": "input_audio", "input_audio": {}}, "'input_audio' is not supported"),
        ({"type": "file", "file": {"file_id": "file-1"}}, "only inline file_data"),
        (
            {"type": "file", "file": {"file_data": "data:application/zip;base64,AA=="}},
            "file type 'application/zip' is not supported",
        ),
        ({"type": "file", "file": {"file_data": "data:text/plain;base64,@@"}}, "not valid base64"),
        ({"type": "text", "text": 3}, r"p.text: must be a string"),
        ("text", "p: must be an object"),
    ],
)
def test_unsupported_openai_parts(part: object, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        anthropic_block(part, "p")


def test_empty_text_part_is_no_block() -> None:
    assert anthropic_block({"type": "text", "text": ""}, "p") is None


def test_files_become_documents() -> None:
    pdf = {"file_data": f"data:application/pdf;base64,{PDF_DATA}", "filename": "spec.pdf"}
    assert anthropic_block({"type": "file", "file": pdf}, "p") == {
        "type": "document",
        "source": {"type": "base64", "media_type": "application/pdf", "data": PDF_DATA},
        "title": "spec.pdf",
    }
    note = base64.b64encode("메모".encode()).decode()
    plain = {"file_data": f"data:text/plain;base64,{note}"}
    assert anthropic_block({"type": "file", "file": plain}, "p") == {
        "type": "document",
        "source": {"type": "text", "media_type": "text/plain", "data": "메모"},
    }


def test_parse_data_url_rejects_a_url_without_data() -> None:
    with pytest.raises(ValueError, match="only base64 data URLs"):
        parse_data_url("data:image/png;base64", "p")


def test_anthropic_blocks_become_openai_parts() -> None:
    base64_image = {"type": "base64", "media_type": "image/gif", "data": "R0lG"}
    assert openai_part({"type": "image", "source": base64_image}, "b") == {
        "type": "image_url",
        "image_url": {"url": "data:image/gif;base64,R0lG"},
    }
    url_image = {"type": "url", "url": "https://example.com/a.png"}
    assert openai_part({"type": "image", "source": url_image}, "b") == {
        "type": "image_url",
        "image_url": {"url": "https://example.com/a.png"},
    }
    pdf = {"type": "base64", "media_type": "application/pdf", "data": PDF_DATA}
    assert openai_part({"type": "document", "source": pdf}, "b") == {
        "type": "file",
        "file": {
            "filename": "document.pdf",
            "file_data": f"data:application/pdf;base64,{PDF_DATA}",
        },
    }
    assert (
        openai_part({"type": "document", "source": pdf, "title": "spec.pdf"}, "b")["file"][
            "filename"
        ]
        == "spec.pdf"
    )
    plain = {"type": "text", "media_type": "text/plain", "data": "notes"}
    assert openai_part({"type": "document", "source": plain}, "b") == {
        "type": "text",
        "text": "notes",
    }


@pytest.mark.parametrize(
    ("block", "error"),
    [
        ({"type": "image", "source": {"type": "file", "file_id": "f"}}, "image source 'file'"),
        ({"type": "document", "source": {"type": "url", "url": "https://x"}}, "only PDF"),
        ({"type": "document", "source": {"type": "file", "file_id": "f"}}, "only PDF"),
        ({"type": "image", "source": {"type": "base64", "data": "x"}}, "media_type: must be"),
        ({"type": "container_upload", "file_id": "f"}, "'container_upload' is not supported"),
    ],
)
def test_unsupported_anthropic_blocks(block: JsonObject, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        openai_part(block, "b")
