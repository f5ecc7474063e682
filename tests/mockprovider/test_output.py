from tokengate.mockprovider import MockConfig
from tokengate.mockprovider.output import openai_usage, plan_output


def test_chunks_group_pieces() -> None:
    output = plan_output(config=MockConfig(completion_tokens=7), model="c1", seed=1, cap=None)
    assert not output.truncated
    assert output.tokens == 7
    chunks = output.chunks(3)
    assert "".join(chunks) == output.text
    assert output.chunk_sizes(3) == [3, 3, 1]
    assert output.chunks(1) == output.pieces
    assert output.chunk_sizes(1) == [1] * 7


def test_cap_truncates() -> None:
    config = MockConfig(completion_tokens=7)
    assert plan_output(config=config, model="c1", seed=1, cap=3).truncated
    assert not plan_output(config=config, model="c1", seed=1, cap=7).truncated


def test_usage_totals() -> None:
    usage = openai_usage(prompt_tokens=5, completion_tokens=7)
    assert (usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]) == (5, 7, 12)
