"""The official SDKs as judges: their models validate, and their clients read, what we produce."""

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx2
import openai
import pydantic
from anthropic.types import Message, RawMessageStreamEvent
from anthropic.types.message_create_params import (
    MessageCreateParamsNonStreaming,
    MessageCreateParamsStreaming,
)
from anthropic.types.shared import ErrorResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.chat.completion_create_params import (
    CompletionCreateParamsNonStreaming,
    CompletionCreateParamsStreaming,
)

from tokengate.translate import (
    OPENAI_DONE,
    JsonObject,
    sse_bytes_anthropic,
    sse_bytes_openai,
)

OPENAI_PARAMS = pydantic.TypeAdapter(CompletionCreateParamsNonStreaming)
OPENAI_STREAM_PARAMS = pydantic.TypeAdapter(CompletionCreateParamsStreaming)
ANTHROPIC_PARAMS = pydantic.TypeAdapter(MessageCreateParamsNonStreaming)
ANTHROPIC_STREAM_PARAMS = pydantic.TypeAdapter(MessageCreateParamsStreaming)
ANTHROPIC_EVENT = pydantic.TypeAdapter(RawMessageStreamEvent)
# SDK 1.0 dropped these from its typed params; the API still takes them on models that sample
UNTYPED_SAMPLING = frozenset({"temperature", "top_p", "top_k"})


def _drain(value: Any) -> Any:
    # the SDK params declare Iterable fields, which pydantic validates lazily while iterated
    if isinstance(value, dict):
        return {key: _drain(item) for key, item in value.items()}
    if isinstance(value, list | tuple | Iterator) or type(value).__name__ == "ValidatorIterator":
        return [_drain(item) for item in value]
    return value


def _exact(value: Any, path: str = "") -> None:
    # SDK models accept unknown keys silently: a misspelt field must fail the test instead
    if isinstance(value, pydantic.BaseModel):
        assert not value.model_extra, f"{path}: unexpected fields {value.model_extra}"
        for name in type(value).model_fields:
            _exact(getattr(value, name), f"{path}.{name}")
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _exact(item, f"{path}.{index}")


def openai_request(body: JsonObject) -> None:
    """Assert an OpenAI chat request validates, with no field the SDK does not know."""
    adapter = OPENAI_STREAM_PARAMS if body.get("stream") else OPENAI_PARAMS
    assert _drain(adapter.validate_python(body)) == body


def anthropic_request(body: JsonObject) -> None:
    """Assert an Anthropic Messages request validates, with no field the SDK does not know."""
    adapter = ANTHROPIC_STREAM_PARAMS if body.get("stream") else ANTHROPIC_PARAMS
    typed = {key: value for key, value in body.items() if key not in UNTYPED_SAMPLING}
    assert _drain(adapter.validate_python(body)) == typed


def openai_completion(payload: JsonObject) -> ChatCompletion:
    """Validate an OpenAI chat.completion."""
    completion = ChatCompletion.model_validate(payload)
    _exact(completion)
    return completion


def openai_chunk(chunk: JsonObject) -> ChatCompletionChunk:
    """Validate an OpenAI chat.completion.chunk."""
    parsed = ChatCompletionChunk.model_validate(chunk)
    _exact(parsed)
    return parsed


def anthropic_message(payload: JsonObject) -> Message:
    """Validate an Anthropic Message."""
    message = Message.model_validate(payload)
    _exact(message)
    return message


def anthropic_event(event: str, data: JsonObject) -> None:
    """Validate an Anthropic stream event and its SSE event name."""
    assert data["type"] == event
    if event == "error":
        _exact(ErrorResponse.model_validate(data))
    else:
        _exact(ANTHROPIC_EVENT.validate_python(data))


def _transport(body: bytes) -> httpx2.Client:
    # both SDKs speak httpx2, their fork of httpx
    def reply(request: httpx2.Request) -> httpx2.Response:
        return httpx2.Response(200, content=body, headers={"content-type": "text/event-stream"})

    return httpx2.Client(transport=httpx2.MockTransport(reply))


def openai_client_reading(chunks: list[JsonObject]) -> openai.OpenAI:
    """An OpenAI client whose every call gets these chunks as its SSE stream."""
    body = b"".join(sse_bytes_openai(chunk) for chunk in chunks) + OPENAI_DONE
    return openai.OpenAI(api_key="sk-test", http_client=_transport(body), max_retries=0)


def anthropic_client_reading(events: list[tuple[str, JsonObject]]) -> anthropic.Anthropic:
    """An Anthropic client whose every call gets these events as its SSE stream."""
    body = b"".join(sse_bytes_anthropic(event, data) for event, data in events)
    return anthropic.Anthropic(api_key="sk-ant-test", http_client=_transport(body), max_retries=0)
