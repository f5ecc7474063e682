"""One piece of message content in each format: OpenAI content parts and Anthropic blocks."""

from __future__ import annotations

import base64
import binascii

from tokengate.translate.fields import JsonObject, object_at, text_at

IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
MEDIA_ALIASES = {"image/jpg": "image/jpeg"}
PDF = "application/pdf"
PLAIN = "text/plain"
DEFAULT_FILENAME = "document.pdf"


def anthropic_block(part: object, where: str) -> JsonObject | None:
    """Turn an OpenAI user content part into an Anthropic block; None for empty text."""
    part = object_at(part, where)
    kind = part.get("type")
    if kind == "text":
        text = text_at(part.get("text"), f"{where}.text")
        return {"type": "text", "text": text} if text else None
    if kind == "image_url":
        return _image_block(part.get("image_url"), f"{where}.image_url")
    if kind == "file":
        return _document_block(object_at(part.get("file"), f"{where}.file"), f"{where}.file")
    raise ValueError(f"{where}: content type {kind!r} is not supported for Anthropic models")


def openai_part(block: JsonObject, where: str) -> JsonObject:
    """Turn an Anthropic text, image or document block into an OpenAI content part."""
    kind = block.get("type")
    if kind == "text":
        return {"type": "text", "text": text_at(block.get("text"), f"{where}.text")}
    if kind == "image":
        return _image_part(object_at(block.get("source"), f"{where}.source"), f"{where}.source")
    if kind == "document":
        return _document_part(block, where)
    raise ValueError(f"{where}: content type {kind!r} is not supported for OpenAI models")


def parse_data_url(url: str, where: str) -> tuple[str, str]:
    """Split a base64 data URL into its media type and its data."""
    header, comma, data = url.removeprefix("data:").partition(",")
    params = [param.strip().lower() for param in header.split(";")]
    if not comma or "base64" not in params[1:]:
        raise ValueError(f"{where}: only base64 data URLs are supported")
    return MEDIA_ALIASES.get(params[0], params[0]), data


def _image_block(image: object, where: str) -> JsonObject:
    # early vision clients sent the URL itself rather than {"url": ...}
    url = image if isinstance(image, str) else object_at(image, where).get("url")
    url = text_at(url, f"{where}.url")
    if url.startswith("data:"):
        media_type, data = parse_data_url(url, f"{where}.url")
        if media_type not in IMAGE_TYPES:
            raise ValueError(f"{where}.url: image type {media_type!r} is not supported")
        source = {"type": "base64", "media_type": media_type, "data": data}
        return {"type": "image", "source": source}
    if url.startswith(("https://", "http://")):
        return {"type": "image", "source": {"type": "url", "url": url}}
    raise ValueError(f"{where}.url: must be an http(s) or a base64 data URL")


def _document_block(file: JsonObject, where: str) -> JsonObject:
    if "file_data" not in file:
        raise ValueError(f"{where}: only inline file_data is supported for Anthropic models")
    media_type, data = parse_data_url(text_at(file["file_data"], f"{where}.file_data"), where)
    block: JsonObject
    if media_type == PDF:
        block = {"type": "document", "source": {"type": "base64", "media_type": PDF, "data": data}}
    elif media_type == PLAIN:
        text = _decoded(data, f"{where}.file_data")
        block = {"type": "document", "source": {"type": "text", "media_type": PLAIN, "data": text}}
    else:
        raise ValueError(f"{where}: file type {media_type!r} is not supported")
    if isinstance(file.get("filename"), str) and file["filename"]:
        block["title"] = file["filename"]
    return block


def _decoded(data: str, where: str) -> str:
    try:
        return base64.b64decode(data, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError(f"{where}: not valid base64 UTF-8 text") from exc


def _image_part(source: JsonObject, where: str) -> JsonObject:
    kind = source.get("type")
    if kind == "base64":
        media_type = text_at(source.get("media_type"), f"{where}.media_type")
        data = text_at(source.get("data"), f"{where}.data")
        return {"type": "image_url", "image_url": {"url": f"data:{media_type};base64,{data}"}}
    if kind == "url":
        return {"type": "image_url", "image_url": {"url": text_at(source.get("url"), where)}}
    raise ValueError(f"{where}: image source {kind!r} is not supported for OpenAI models")


def _document_part(block: JsonObject, where: str) -> JsonObject:
    source = object_at(block.get("source"), f"{where}.source")
    kind = source.get("type")
    data = source.get("data")
    if kind == "text":
        return {"type": "text", "text": text_at(data, f"{where}.source.data")}
    if kind == "base64" and source.get("media_type") == PDF:
        title = block.get("title")
        filename = title if isinstance(title, str) and title else DEFAULT_FILENAME
        file_data = f"data:{PDF};base64,{text_at(data, f'{where}.source.data')}"
        return {"type": "file", "file": {"filename": filename, "file_data": file_data}}
    raise ValueError(f"{where}: only PDF and plain-text documents are supported for OpenAI models")
