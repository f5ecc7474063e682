import openai
import pytest

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def test_list_models_via_sdk(oai: openai.AsyncOpenAI) -> None:
    models = [model async for model in oai.models.list()]
    assert {"c1", "c2", "c7", "gpt-4o-mini", "text-embedding-3-small"} <= {m.id for m in models}
    assert all(model.object == "model" and model.owned_by for model in models)
