from functools import cache

import orjson
from starlette.responses import Response

from tokengate.mockprovider.config import MockConfig
from tokengate.mockprovider.fields import JsonObject

MODELS = (
    ("gpt-4o-mini", "openai"),
    ("gpt-4o", "openai"),
    ("gpt-4.1-mini", "openai"),
    ("c1", "tokengate"),
    ("c2", "tokengate"),
    ("c7", "tokengate"),
    ("text-embedding-3-small", "openai"),
    ("claude-sonnet-5", "anthropic"),
)
CREATED = 1_700_000_000


async def list_models(body: JsonObject, config: MockConfig) -> Response:
    """Answer GET /v1/models with the mock's model catalogue in OpenAI's list shape."""
    return Response(_models_body(), media_type="application/json")


@cache
def _models_body() -> bytes:
    data = [_model(name, owner) for name, owner in MODELS]
    return orjson.dumps({"object": "list", "data": data})


def _model(name: str, owner: str) -> JsonObject:
    return {"id": name, "object": "model", "created": CREATED, "owned_by": owner}
