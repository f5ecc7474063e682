import aiohttp
import openai
import orjson
import pytest

from tokengate.mockprovider import MockConfig, RunningMock, count_tokens

pytestmark = pytest.mark.asyncio(loop_scope="package")


async def test_completion_via_sdk(oai: openai.AsyncOpenAI) -> None:
    completion = await oai.completions.create(model="gpt-3.5-turbo-instruct", prompt="Say hello")
    assert completion.object == "text_completion"
    assert completion.id.startswith("cmpl-")
    choice = completion.choices[0]
    assert choice.finish_reason == "stop"
    assert count_tokens(choice.text) == 40
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == count_tokens("Say hello")
    assert completion.usage.completion_tokens == 40


async def test_one_choice_per_prompt(oai: openai.AsyncOpenAI) -> None:
    completion = await oai.completions.create(
        model="gpt-3.5-turbo-instruct", prompt=["one", "two three four"], max_tokens=4
    )
    assert [choice.index for choice in completion.choices] == [0, 1]
    assert all(choice.finish_reason == "length" for choice in completion.choices)
    assert all(count_tokens(choice.text) == 4 for choice in completion.choices)
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 1 + 3
    assert completion.choices[0].text != completion.choices[1].text
    assert completion.usage.completion_tokens == 8


async def test_token_array_prompt(oai: openai.AsyncOpenAI) -> None:
    completion = await oai.completions.create(model="gpt-3.5-turbo-instruct", prompt=[5, 6])
    assert completion.usage is not None
    assert completion.usage.prompt_tokens == 2


async def test_stream_matches_json_answer(oai: openai.AsyncOpenAI) -> None:
    whole = await oai.completions.create(model="c1", prompt="칼럼", max_tokens=9)
    stream = await oai.completions.create(
        model="c1", prompt="칼럼", max_tokens=9, stream=True, stream_options={"include_usage": True}
    )
    texts: list[str] = []
    finishes: list[str] = []
    usages = []
    async for chunk in stream:
        texts.extend(choice.text for choice in chunk.choices)
        finishes.extend(choice.finish_reason for choice in chunk.choices if choice.finish_reason)
        if chunk.usage is not None:
            usages.append(chunk.usage)
    assert "".join(texts) == whole.choices[0].text
    assert finishes == ["length"]
    assert len(usages) == 1
    assert whole.usage is not None
    assert usages[0].total_tokens == whole.usage.total_tokens


async def test_stream_wire_format(mock: RunningMock, http: aiohttp.ClientSession) -> None:
    mock.set_config(MockConfig(completion_tokens=2))
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": ["a", "b"], "stream": True}
    async with http.post("/v1/completions", json=body) as response:
        raw = await response.read()
    events = raw.split(b"\n\n")
    assert events[-2:] == [b"data: [DONE]", b""]
    chunks = [orjson.loads(event.removeprefix(b"data: ")) for event in events[:-2]]
    assert [chunk["choices"][0]["index"] for chunk in chunks] == [0, 0, 1, 1, 0, 1]
    assert [chunk["choices"][0]["finish_reason"] for chunk in chunks[-2:]] == ["stop", "stop"]
    assert all("usage" not in chunk for chunk in chunks)


@pytest.mark.parametrize("prompt", [[], [True], [["x"]], 3, [[]]])
async def test_invalid_prompt_is_400(http: aiohttp.ClientSession, prompt: object) -> None:
    async with http.post("/v1/completions", json={"model": "m", "prompt": prompt}) as response:
        assert response.status == 400
        assert (await response.json())["error"]["param"] == "prompt"
