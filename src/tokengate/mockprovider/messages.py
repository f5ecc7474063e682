import secrets

import orjson
from starlette.responses import Response

from tokengate.mockprovider.config import MockConfig
from tokengate.mockprovider.delivery import (
    SLOT,
    EventStream,
    json_response,
    sse_event,
    sse_framer,
    sse_response,
    wait_for_generation,
)
from tokengate.mockprovider.errors import InvalidRequest
from tokengate.mockprovider.fields import JsonObject, read_cap, read_flag, read_messages, read_model
from tokengate.mockprovider.output import Output, plan_output
from tokengate.mockprovider.text import seed_for
from tokengate.mockprovider.tokens import count_messages, count_value

ROLES = frozenset({"user", "assistant", "system"})
PING = sse_event("ping", {"type": "ping"})
MESSAGE_STOP = sse_event("message_stop", {"type": "message_stop"})
BLOCK_START = sse_event(
    "content_block_start",
    {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}},
)
TEXT_DELTA = sse_framer(
    {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": SLOT}},
    event="content_block_delta",
)
BLOCK_STOP = sse_event("content_block_stop", {"type": "content_block_stop", "index": 0})


async def create_message(body: JsonObject, config: MockConfig) -> Response:
    """Answer POST /v1/messages like Anthropic's Messages API, as JSON or as an SSE stream."""
    model = read_model(body)
    cap = read_cap(body, "max_tokens")
    if cap is None:
        raise InvalidRequest("max_tokens: Field required", param="max_tokens")
    messages = read_messages(body, roles=ROLES)
    system = body.get("system")
    if system is not None and not isinstance(system, str | list):
        raise InvalidRequest("system: Input should be a valid string or a list of blocks")
    stream = read_flag(body, "stream")
    input_tokens = count_messages(messages) + count_value(system)
    seed = seed_for(model.encode(), orjson.dumps(system), orjson.dumps(messages))
    output = plan_output(config=config, model=model, seed=seed, cap=cap)
    stop_reason = "max_tokens" if output.truncated else "end_turn"
    message: JsonObject = {
        "id": f"msg_01{secrets.token_hex(11)}",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": output.text}],
        "stop_reason": stop_reason,
        "stop_sequence": None,
    }
    if stream:
        return sse_response(
            _events(message, output, config=config, input_tokens=input_tokens), config=config
        )
    await wait_for_generation(config=config, tokens=output.tokens)
    if not config.omit_usage:
        message["usage"] = _usage(input_tokens=input_tokens, output_tokens=output.tokens)
    return json_response(message)


def _usage(*, input_tokens: int, output_tokens: int) -> JsonObject:
    return {
        "input_tokens": input_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
        "output_tokens": output_tokens,
    }


def _events(
    message: JsonObject, output: Output, *, config: MockConfig, input_tokens: int
) -> EventStream:
    start: JsonObject = {**message, "content": [], "stop_reason": None}
    delta: JsonObject = {
        "type": "message_delta",
        "delta": {"stop_reason": message["stop_reason"], "stop_sequence": None},
    }
    if not config.omit_usage:
        start["usage"] = _usage(input_tokens=input_tokens, output_tokens=1)
        delta["usage"] = {"output_tokens": output.tokens}
    size = config.chunk_tokens
    content = [
        sse_event(
            "content_block_delta",
            {
                "type": "content_block_delta",
                "index": 0,
                "delta": {"type": "text_delta", "text": text},
            },
        )
        for text in output.chunks(size)
    ]
    return EventStream(
        head=[
            sse_event("message_start", {"type": "message_start", "message": start}),
            BLOCK_START,
            PING,
        ],
        content=content,
        tail=[BLOCK_STOP, sse_event("message_delta", delta), MESSAGE_STOP],
        content_tokens=output.chunk_sizes(size),
    )
