import pytest

from tokengate.mockprovider.errors import InvalidRequest
from tokengate.mockprovider.fields import read_flag, read_include_usage, read_inputs


def test_null_flags_are_false() -> None:
    assert read_flag({"stream": None}, "stream") is False
    assert read_include_usage({"stream_options": None}) is False
    assert read_include_usage({"stream_options": {"include_usage": True}}) is True


def test_inputs() -> None:
    assert read_inputs("", param="prompt", allow_empty=True) == [(b"", 0)]
    assert read_inputs([[7, 8]], param="input", allow_empty=False) == [(b"[7,8]", 2)]
    with pytest.raises(InvalidRequest) as caught:
        read_inputs([""], param="input", allow_empty=False)
    assert caught.value.param == "input"
