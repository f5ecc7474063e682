import base64
import math
import struct

import aiohttp
import openai
import pytest

from tokengate.mockprovider import count_tokens

pytestmark = pytest.mark.asyncio(loop_scope="package")

MODEL = "text-embedding-3-small"


async def test_sdk_default_decodes_base64(oai: openai.AsyncOpenAI) -> None:
    response = await oai.embeddings.create(model=MODEL, input=["첫 문장", "second one"])
    assert response.object == "list"
    assert response.model == MODEL
    assert [item.index for item in response.data] == [0, 1]
    for item in response.data:
        assert len(item.embedding) == 8
        assert math.isclose(math.fsum(x * x for x in item.embedding), 1.0, rel_tol=1e-5)
    assert response.usage.prompt_tokens == count_tokens("첫 문장") + count_tokens("second one")
    assert response.usage.total_tokens == response.usage.prompt_tokens


async def test_float_and_base64_agree(oai: openai.AsyncOpenAI) -> None:
    floats = await oai.embeddings.create(model=MODEL, input="hello", encoding_format="float")
    encoded = await oai.embeddings.create(model=MODEL, input="hello", encoding_format="base64")
    raw = base64.b64decode(str(encoded.data[0].embedding))
    decoded = struct.unpack(f"<{len(raw) // 4}f", raw)
    assert decoded == pytest.approx(floats.data[0].embedding, rel=1e-6)


async def test_deterministic_and_dimensions(oai: openai.AsyncOpenAI) -> None:
    first = await oai.embeddings.create(model=MODEL, input="same", dimensions=32)
    second = await oai.embeddings.create(model=MODEL, input="same", dimensions=32)
    other = await oai.embeddings.create(model=MODEL, input="other", dimensions=32)
    assert len(first.data[0].embedding) == 32
    assert first.data[0].embedding == second.data[0].embedding
    assert first.data[0].embedding != other.data[0].embedding


async def test_token_arrays(oai: openai.AsyncOpenAI) -> None:
    response = await oai.embeddings.create(model=MODEL, input=[[1, 2, 3], [4]])
    assert len(response.data) == 2
    assert response.usage.prompt_tokens == 4


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"model": MODEL}, "input"),
        ({"model": MODEL, "input": ""}, "input"),
        ({"model": MODEL, "input": [1.5]}, "input"),
        ({"model": MODEL, "input": "x", "dimensions": 0}, "dimensions"),
        ({"model": MODEL, "input": "x", "encoding_format": "int8"}, "encoding_format"),
    ],
)
async def test_invalid_body_is_400(
    http: aiohttp.ClientSession, body: dict[str, object], param: str
) -> None:
    async with http.post("/v1/embeddings", json=body) as response:
        assert response.status == 400
        assert (await response.json())["error"]["param"] == param
