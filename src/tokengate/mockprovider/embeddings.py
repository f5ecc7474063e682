import base64
import hashlib
import math
import struct

from starlette.responses import Response

from tokengate.mockprovider.config import MockConfig
from tokengate.mockprovider.delivery import json_response
from tokengate.mockprovider.errors import InvalidRequest
from tokengate.mockprovider.fields import JsonObject, read_inputs, read_model

DEFAULT_DIMENSIONS = 8
MAX_DIMENSIONS = 4096


async def embeddings(body: JsonObject, config: MockConfig) -> Response:
    """Answer POST /v1/embeddings with deterministic unit vectors, as floats or base64."""
    model = read_model(body)
    inputs = read_inputs(body.get("input"), param="input", allow_empty=False)
    dimensions = _read_dimensions(body.get("dimensions", DEFAULT_DIMENSIONS))
    encoding = body.get("encoding_format") or "float"
    if encoding not in ("float", "base64"):
        raise InvalidRequest(
            "encoding_format: must be 'float' or 'base64'", param="encoding_format"
        )
    data = []
    for index, (key, _) in enumerate(inputs):
        vector = embed(model=model, key=key, dimensions=dimensions)
        encoded: object = vector if encoding == "float" else _to_base64(vector)
        data.append({"object": "embedding", "index": index, "embedding": encoded})
    body_out: JsonObject = {"object": "list", "data": data, "model": model}
    if not config.omit_usage:
        tokens = sum(count for _, count in inputs)
        body_out["usage"] = {"prompt_tokens": tokens, "total_tokens": tokens}
    return json_response(body_out)


def embed(*, model: str, key: bytes, dimensions: int) -> list[float]:
    """Map an input to a unit vector that depends only on the model and the input."""
    raw = hashlib.shake_128(model.encode() + b"\0" + key).digest(4 * dimensions)
    values = [word / 2**31 - 1.0 for word in struct.unpack(f"<{dimensions}I", raw)]
    norm = math.sqrt(sum(value * value for value in values)) or 1.0
    return [value / norm for value in values]


def _to_base64(vector: list[float]) -> str:
    return base64.b64encode(struct.pack(f"<{len(vector)}f", *vector)).decode()


def _read_dimensions(value: object) -> int:
    if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_DIMENSIONS:
        return value
    raise InvalidRequest(
        f"dimensions: must be an integer from 1 to {MAX_DIMENSIONS}", param="dimensions"
    )
