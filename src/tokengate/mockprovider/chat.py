import secrets
import time
from dataclasses import dataclass

import orjson
from starlette.responses import Response

from tokengate.mockprovider.config import MockConfig
from tokengate.mockprovider.delivery import (
    SLOT,
    SSE_DONE,
    EventStream,
    json_response,
    sse_data,
    sse_framer,
    sse_response,
    wait_for_generation,
)
from tokengate.mockprovider.fields import (
    JsonObject,
    read_cap,
    read_flag,
    read_include_usage,
    read_messages,
    read_model,
)
from tokengate.mockprovider.output import SYSTEM_FINGERPRINT, openai_usage, plan_output
from tokengate.mockprovider.text import seed_for
from tokengate.mockprovider.tokens import count_messages, count_value
from tokengate.mockprovider.toolcalls import ToolCall, pick_tool_call


@dataclass(frozen=True, slots=True)
class _Reply:
    """What the assistant says, shaped for both the JSON answer and the stream."""

    message: JsonObject
    first_delta: JsonObject
    deltas: list[JsonObject]
    delta_tokens: list[int]
    finish_reason: str
    completion_tokens: int


async def chat_completions(body: JsonObject, config: MockConfig) -> Response:
    """Answer POST /v1/chat/completions like OpenAI, as JSON or as an SSE stream."""
    model = read_model(body)
    messages = read_messages(body)
    cap = read_cap(body, "max_completion_tokens", "max_tokens")
    stream = read_flag(body, "stream")
    include_usage = read_include_usage(body) and not config.omit_usage
    prompt_tokens = count_messages(messages) + count_value(body.get("tools"))
    call = pick_tool_call(body=body, messages=messages)
    if call is None:
        seed = seed_for(model.encode(), orjson.dumps(messages))
        reply = _text_reply(config=config, model=model, seed=seed, cap=cap)
    else:
        reply = _tool_reply(call, chunk_tokens=config.chunk_tokens)
    envelope: JsonObject = {
        "id": f"chatcmpl-{secrets.token_hex(12)}",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
    usage = openai_usage(prompt_tokens=prompt_tokens, completion_tokens=reply.completion_tokens)
    if stream:
        events = _events(envelope, reply, usage=usage if include_usage else None)
        return sse_response(events, config=config)
    await wait_for_generation(config=config, tokens=reply.completion_tokens)
    choice = {"index": 0, "message": reply.message, "logprobs": None}
    body_out: JsonObject = {
        **envelope,
        "object": "chat.completion",
        "choices": [{**choice, "finish_reason": reply.finish_reason}],
        "service_tier": "default",
    }
    if not config.omit_usage:
        body_out["usage"] = usage
    return json_response(body_out)


def _text_reply(*, config: MockConfig, model: str, seed: int, cap: int | None) -> _Reply:
    output = plan_output(config=config, model=model, seed=seed, cap=cap)
    size = config.chunk_tokens
    return _Reply(
        message={"role": "assistant", "content": output.text, "refusal": None, "annotations": []},
        first_delta={"role": "assistant", "content": "", "refusal": None},
        deltas=[{"content": chunk} for chunk in output.chunks(size)],
        delta_tokens=output.chunk_sizes(size),
        finish_reason="length" if output.truncated else "stop",
        completion_tokens=output.tokens,
    )


def _tool_reply(call: ToolCall, *, chunk_tokens: int) -> _Reply:
    pieces = call.argument_pieces
    starts = range(0, len(pieces), chunk_tokens)
    function = {"name": call.name, "arguments": call.arguments}
    header = {
        "index": 0,
        "id": call.id,
        "type": "function",
        "function": {**function, "arguments": ""},
    }
    return _Reply(
        message={
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": call.id, "type": "function", "function": function}],
            "refusal": None,
            "annotations": [],
        },
        first_delta={"role": "assistant", "content": None, "tool_calls": [header], "refusal": None},
        deltas=[
            {
                "tool_calls": [
                    {"index": 0, "function": {"arguments": "".join(pieces[i : i + chunk_tokens])}}
                ]
            }
            for i in starts
        ],
        delta_tokens=[min(chunk_tokens, len(pieces) - i) for i in starts],
        finish_reason="tool_calls",
        completion_tokens=call.tokens,
    )


def _events(envelope: JsonObject, reply: _Reply, *, usage: JsonObject | None) -> EventStream:
    chunk: JsonObject = {**envelope, "object": "chat.completion.chunk"}
    if usage is not None:
        chunk["usage"] = None
    choice = {"index": 0, "delta": SLOT, "logprobs": None, "finish_reason": None}
    frame = sse_framer({**chunk, "choices": [choice]})
    finish = {**choice, "delta": {}, "finish_reason": reply.finish_reason}
    tail = [sse_data({**chunk, "choices": [finish]})]
    if usage is not None:
        tail.append(sse_data({**chunk, "choices": [], "usage": usage}))
    tail.append(SSE_DONE)
    return EventStream(
        head=[frame(reply.first_delta)],
        content=[frame(delta) for delta in reply.deltas],
        tail=tail,
        content_tokens=reply.delta_tokens,
    )
