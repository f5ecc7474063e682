import secrets
import time

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
    read_inputs,
    read_model,
)
from tokengate.mockprovider.output import SYSTEM_FINGERPRINT, Output, openai_usage, plan_output
from tokengate.mockprovider.text import seed_for


async def completions(body: JsonObject, config: MockConfig) -> Response:
    """Answer the legacy POST /v1/completions: one choice per prompt, as JSON or a stream."""
    model = read_model(body)
    prompts = read_inputs(body.get("prompt", ""), param="prompt", allow_empty=True)
    cap = read_cap(body, "max_tokens")
    stream = read_flag(body, "stream")
    include_usage = read_include_usage(body) and not config.omit_usage
    outputs = [
        plan_output(config=config, model=model, seed=seed_for(model.encode(), key), cap=cap)
        for key, _ in prompts
    ]
    completion_tokens = sum(output.tokens for output in outputs)
    usage = openai_usage(
        prompt_tokens=sum(tokens for _, tokens in prompts), completion_tokens=completion_tokens
    )
    envelope: JsonObject = {
        "id": f"cmpl-{secrets.token_hex(12)}",
        "object": "text_completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
    }
    if stream:
        events = _events(envelope, outputs, config=config, usage=usage if include_usage else None)
        return sse_response(events, config=config)
    await wait_for_generation(config=config, tokens=completion_tokens)
    choices = [
        {"text": output.text, "index": index, "logprobs": None, "finish_reason": _finish(output)}
        for index, output in enumerate(outputs)
    ]
    body_out: JsonObject = {**envelope, "choices": choices}
    if not config.omit_usage:
        body_out["usage"] = usage
    return json_response(body_out)


def _finish(output: Output) -> str:
    return "length" if output.truncated else "stop"


def _events(
    envelope: JsonObject, outputs: list[Output], *, config: MockConfig, usage: JsonObject | None
) -> EventStream:
    base: JsonObject = {**envelope} if usage is None else {**envelope, "usage": None}
    size = config.chunk_tokens
    content: list[bytes] = []
    tokens: list[int] = []
    tail: list[bytes] = []
    for index, output in enumerate(outputs):
        choice = {"text": SLOT, "index": index, "logprobs": None, "finish_reason": None}
        content.extend(map(sse_framer({**base, "choices": [choice]}), output.chunks(size)))
        tokens.extend(output.chunk_sizes(size))
        finish = {**choice, "text": "", "finish_reason": _finish(output)}
        tail.append(sse_data({**base, "choices": [finish]}))
    if usage is not None:
        tail.append(sse_data({**base, "choices": [], "usage": usage}))
    tail.append(SSE_DONE)
    return EventStream(head=[], content=content, tail=tail, content_tokens=tokens)
