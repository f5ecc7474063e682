import orjson

from tokengate.translate import OPENAI_DONE, sse_bytes_anthropic, sse_bytes_openai


def test_openai_frames() -> None:
    chunk = {"id": "c", "choices": [{"delta": {"content": "é\n"}}]}
    frame = sse_bytes_openai(chunk)
    assert frame.startswith(b"data: ")
    assert frame.endswith(b"\n\n")
    assert frame.count(b"\n") == 2
    assert orjson.loads(frame[6:]) == chunk
    assert OPENAI_DONE == b"data: [DONE]\n\n"


def test_anthropic_frames() -> None:
    data = {"type": "ping"}
    assert sse_bytes_anthropic("ping", data) == b'event: ping\ndata: {"type":"ping"}\n\n'
